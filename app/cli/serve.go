package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"plotline/app/api"
	"plotline/app/cli/wiring"
	"plotline/interpreter/sandbox"
)

// Serve implements `plotline serve`: the local Assistants API, until
// SIGINT or SIGTERM.
func Serve(args []string, s Streams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, s, nil)
}

// serve is Serve until ctx ends; listening, if set, is given the API's
// base URL once it listens.
func serve(ctx context.Context, args []string, s Streams, listening func(base string)) int {
	fs := flag.NewFlagSet("plotline serve", flag.ContinueOnError)
	fs.SetOutput(s.Err)
	var (
		addr    = fs.String("addr", "127.0.0.1:8765", "listen on `HOST:PORT`")
		remote  = fs.Bool("allow-remote", false, "allow an address other than loopback (the API key is then required from every client, as always)")
		hosts   = fs.String("hosts", "", "comma-separated Host names to accept besides localhost (against DNS rebinding)")
		origins = fs.String("origins", "", "comma-separated browser origins allowed to call the API")
		data    = fs.String("data", "", "Plotline's data folder (default $PLOTLINE_DATA, else plotline in the user config folder)")
		local   = fs.Bool("local-functions", false, "run the function tools that have a handler in the data folder's functions/ here, in the sandbox, instead of asking the client (requires_action)")
	)
	if err := fs.Parse(args); err != nil {
		return exitNoStart
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.Err, "plotline serve: "+format+"\n", a...)
		return exitNoStart
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fail("--addr %q: %v", *addr, err)
	}
	if !isLoopback(host) && !*remote {
		return fail("--addr %s is not a loopback address: anyone who can reach it could run code on this machine. "+
			"Pass --allow-remote to do it anyway (clients then need the API key)", *addr)
	}
	dir, err := dataDir(*data)
	if err != nil {
		return fail("%v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail("%v", err)
	}
	key, keyFile, err := apiKey(dir)
	if err != nil {
		return fail("%v", err)
	}

	if *local {
		if err := sandbox.Check().Err; err != nil {
			return fail("--local-functions: local functions run in the sandbox: %v", err)
		}
	}
	sys, err := wiring.Open(context.Background(), wiring.Options{Data: dir, PoolSize: warmKernels, NoLocalFunctions: !*local})
	if err != nil {
		return fail("%v", err)
	}
	defer sys.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail("%v", err)
	}
	handler := api.New(sys.Engine, api.Options{Key: key, Hosts: splitList(*hosts), Origins: splitList(*origins)})
	srv := handler.HTTPServer()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(s.Err, "Plotline serves the Assistants API at %s/v1 (OpenAI) and %s/openai (Azure OpenAI).\n", base, base)
	if keyFile != "" {
		fmt.Fprintf(s.Err, "The API key is in %s (or set PLOTLINE_API_KEY).\n", keyFile)
	} else {
		fmt.Fprintln(s.Err, "The API key is PLOTLINE_API_KEY.")
	}
	fmt.Fprintf(s.Err, "Model: %s\n", sys.ModelConfig)
	if sys.Engine.RunsLocalFunctions() {
		fmt.Fprintf(s.Err, "Local functions: the handlers in %s run here.\n", filepath.Join(dir, wiring.FunctionsFolder))
	}
	if listening != nil {
		listening(base)
	}

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fail("%v", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(s.Err, "Plotline: shutting down…")
	// Runs are stopped first, so that their streams end; then in-flight
	// requests get a few seconds to finish.
	sys.Engine.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(s.Err, "plotline serve: %v\n", err)
	}
	return exitOK
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// apiKey returns PLOTLINE_API_KEY, or the key kept in the data folder,
// made on first use (mode 0600). keyFile is "" when the key came from the
// environment.
func apiKey(dir string) (key, keyFile string, err error) {
	if k := os.Getenv("PLOTLINE_API_KEY"); k != "" {
		return k, "", nil
	}
	keyFile = filepath.Join(dir, "api-key")
	if b, err := os.ReadFile(keyFile); err == nil {
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, keyFile, nil
		}
	}
	var raw [24]byte
	rand.Read(raw[:])
	key = "pl-" + hex.EncodeToString(raw[:])
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("store the API key: %w", err)
	}
	return key, keyFile, nil
}
