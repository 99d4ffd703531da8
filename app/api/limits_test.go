package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"syscall"
	"testing"
	"time"

	"plotline/app/api"
)

// Connection limits: a client without the key gets its headers read and
// one answer, then the connection is gone; a client with the key is not
// held back, however long its upload or stream.

// rawConn is a connection to the server that speaks HTTP/1.1 by hand, to
// send what a well-behaved client never would.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func (r *rig) dial(t *testing.T) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", r.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

// response reads one response, waiting at most within, with its body.
func (c *rawConn) response(t *testing.T, within time.Duration) (*http.Response, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return resp, b
}

// closed waits at most within for the server to close the connection,
// and returns what came before the close; err is the deadline's error if
// the connection stayed open.
func (c *rawConn) closed(within time.Duration) (got []byte, err error) {
	c.SetReadDeadline(time.Now().Add(within))
	var buf bytes.Buffer
	_, err = io.Copy(&buf, c.br)
	if errors.Is(err, syscall.ECONNRESET) {
		err = nil
	}
	return buf.Bytes(), err
}

// authGet is a GET of the assistants with the key.
const authGet = "GET /v1/assistants HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + testKey + "\r\n\r\n"

// trickle writes b to c 16 bytes every 20 ms, until it is all sent, the
// connection breaks, or the test ends.
func trickle(t *testing.T, c net.Conn, b []byte) {
	stop, stopped := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop); <-stopped })
	go func() {
		defer close(stopped)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for len(b) > 0 {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			n := min(len(b), 16)
			if _, err := c.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
		}
	}()
}

func chunked(b []byte) []byte {
	var buf bytes.Buffer
	w := httputil.NewChunkedWriter(&buf)
	for len(b) > 0 {
		n := min(len(b), 1000)
		w.Write(b[:n])
		b = b[n:]
	}
	w.Close()
	buf.WriteString("\r\n")
	return buf.Bytes()
}

func TestHTTPServerLimits(t *testing.T) {
	srv := api.New(nil, api.Options{Key: testKey}).HTTPServer()
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.IdleTimeout != 90*time.Second || srv.MaxHeaderBytes != 64<<10 {
		t.Errorf("defaults: header %v, read %v, idle %v, header bytes %d",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	// A write timeout would cut streamed runs.
	if srv.WriteTimeout != 0 {
		t.Errorf("write timeout %v", srv.WriteTimeout)
	}
	if srv.ConnState == nil || srv.ConnContext == nil {
		t.Error("no connection tracking")
	}
	l := api.Limits{HeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, IdleTimeout: 3 * time.Second, MaxHeaderBytes: 1000}
	srv = api.New(nil, api.Options{Key: testKey, Limits: l}).HTTPServer()
	if srv.ReadHeaderTimeout != l.HeaderTimeout || srv.ReadTimeout != l.ReadTimeout ||
		srv.IdleTimeout != l.IdleTimeout || srv.MaxHeaderBytes != l.MaxHeaderBytes {
		t.Errorf("set limits not used: %+v", srv)
	}
}

// TestRefusedRequestsClose: a request without a valid key (or to a
// foreign Host) gets its answer at once, its body unread, and then its
// connection is closed, however slowly it sends its body and whether or
// not it sends anything more. The read and idle timeouts are long here:
// a connection that closes within the wait was closed for the refusal.
func TestRefusedRequestsClose(t *testing.T) {
	r := newRig(t, nil, func(o *api.Options) {
		o.Limits = api.Limits{ReadTimeout: time.Minute, IdleTimeout: time.Minute}
	})
	const wait = 5 * time.Second
	form, ctype := multipartBody("data.csv", "assistants", bytes.Repeat([]byte("a,b\n"), 25000))
	jsonBody := []byte(`{"metadata":{"k":"` + strings.Repeat("x", 100000) + `"}}`)
	head := func(method, path string, header ...string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + strings.Join(header, "\r\n") + "\r\n\r\n"
	}
	length := func(b []byte) string { return fmt.Sprintf("Content-Length: %d", len(b)) }
	cases := []struct {
		name string
		head string
		body []byte // sent slowly after the head
		want int
	}{
		{"no key, then idle", head("GET", "/v1/assistants"), nil, 401},
		{"no key, slow JSON body", head("POST", "/v1/threads", "Content-Type: application/json", length(jsonBody)), jsonBody, 401},
		{"wrong key, slow upload",
			head("POST", "/v1/files", "Authorization: Bearer nope", "Content-Type: "+ctype, length(form.Bytes())), form.Bytes(), 401},
		{"wrong key, upload waiting for 100-continue",
			head("POST", "/v1/files", "Authorization: Bearer nope", "Content-Type: "+ctype, length(form.Bytes()), "Expect: 100-continue"), nil, 401},
		{"wrong api-key, slow chunked upload on the Azure path",
			head("POST", "/openai/files?api-version=2024-05-01-preview", "api-key: nope", "Content-Type: "+ctype, "Transfer-Encoding: chunked"), chunked(form.Bytes()), 401},
		{"right key to a foreign Host, slow body",
			strings.Replace(head("POST", "/v1/threads", "Authorization: Bearer "+testKey, length(jsonBody)), "127.0.0.1", "evil.example", 1), jsonBody, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := r.dial(t)
			if _, err := io.WriteString(conn, c.head); err != nil {
				t.Fatal(err)
			}
			if c.body != nil {
				trickle(t, conn, c.body)
			}
			// The first answer is the refusal: a 100 Continue would mean
			// the server asked for the body before it checked the key.
			resp, b := conn.response(t, wait)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.want, b)
			}
			if !resp.Close {
				t.Errorf("no Connection: close")
			}
			if _, err := conn.closed(wait); err != nil {
				t.Fatalf("connection still open after the refusal: %v", err)
			}
		})
	}
}

// TestSlowHeadersCut: a client that never ends its headers is cut off at
// the header timeout, without an answer from the API (net/http answers a
// bare 400 if the cut falls within a header line).
func TestSlowHeadersCut(t *testing.T) {
	const timeout = 200 * time.Millisecond
	r := newRig(t, nil, func(o *api.Options) {
		o.Limits = api.Limits{HeaderTimeout: timeout, IdleTimeout: time.Minute}
	})
	start := time.Now() // before the dial: the server's clock starts after it
	conn := r.dial(t)
	if _, err := io.WriteString(conn, "GET /v1/assistants HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
		t.Fatal(err)
	}
	trickle(t, conn, []byte(strings.Repeat("X-Slow: 123456\r\n", 1000)))
	got, err := conn.closed(5 * time.Second)
	if err != nil {
		t.Fatalf("slow headers not cut: %v", err)
	}
	if len(got) > 0 && !bytes.HasPrefix(got, []byte("HTTP/1.1 400 Bad Request\r\n")) {
		t.Errorf("answer to unfinished headers: %q", got)
	}
	if d := time.Since(start); d < timeout {
		t.Errorf("cut after %v, before the %v header timeout", d, timeout)
	}
}

func TestMaxHeaderBytes(t *testing.T) {
	r := newRig(t, nil, nil)
	for _, c := range []struct {
		name string
		pad  int
		want int
	}{
		{"32 KiB of headers", 32 << 10, 200},
		{"128 KiB of headers", 128 << 10, 431},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := r.dial(t)
			req := strings.Replace(authGet, "\r\n\r\n", "\r\nX-Pad: "+strings.Repeat("a", c.pad)+"\r\n\r\n", 1)
			// The server answers 431 before it has read all of the
			// headers, so they are written beside the read.
			wrote := make(chan struct{})
			go func() {
				defer close(wrote)
				io.WriteString(conn, req)
			}()
			resp, b := conn.response(t, 5*time.Second)
			if resp.StatusCode != c.want {
				t.Errorf("status %d, want %d: %.200s", resp.StatusCode, c.want, b)
			}
			conn.Close()
			<-wrote
		})
	}
}

// TestUnauthenticatedConnectionCap: connections that never send a key
// are capped; past the cap the oldest is closed, so that a client with
// the key still gets in, and connections that passed auth are never
// counted.
func TestUnauthenticatedConnectionCap(t *testing.T) {
	const max, extra = 4, 2
	r := newRig(t, nil, func(o *api.Options) {
		o.Limits = api.Limits{MaxUnauthenticated: max}
	})
	// The header timeout (10 s) is longer than the waits below: what
	// closes is closed for the cap.
	const wait = 5 * time.Second
	idle := make([]*rawConn, max+extra)
	for i := range idle {
		idle[i] = r.dial(t)
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("GET", r.srv.URL+"/v1/assistants", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("a client with the key was shut out: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a client with the key: %d", resp.StatusCode)
	}
	// The extra connections and the client's each closed the oldest.
	var kept []*rawConn
	for i, c := range idle {
		if i <= extra {
			if _, err := c.closed(wait); err != nil {
				t.Errorf("connection %d, past the cap, is still open: %v", i, err)
			}
			continue
		}
		kept = append(kept, c)
	}
	use := func(when string) {
		t.Helper()
		for i, c := range kept {
			if _, err := io.WriteString(c, authGet); err != nil {
				t.Fatalf("%s: kept connection %d: %v", when, i, err)
			}
			if resp, b := c.response(t, wait); resp.StatusCode != 200 {
				t.Fatalf("%s: kept connection %d: %d %s", when, i, resp.StatusCode, b)
			}
		}
	}
	use("within the cap")
	// Those connections passed auth: a new flood does not close them.
	for range max + 1 {
		r.dial(t)
	}
	use("after a new flood")
}

// TestSlowAuthenticatedUpload: an upload with the key may take far longer
// than the read timeout every request starts with, while a JSON body at
// the same pace is cut by it.
func TestSlowAuthenticatedUpload(t *testing.T) {
	const timeout = 300 * time.Millisecond
	r := newRig(t, nil, func(o *api.Options) {
		o.Limits = api.Limits{HeaderTimeout: timeout, ReadTimeout: timeout}
	})
	content := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	form, ctype := multipartBody("slow.csv", "assistants", content)
	jsonBody := []byte(`{"metadata":{"k":"` + strings.Repeat("x", 400) + `"}}`)
	const pieces = 8 // one every timeout/2: the body takes 4 timeouts
	cases := []struct {
		name, path, ctype string
		body              []byte
		want              int
	}{
		{"upload", "/v1/files", ctype, form.Bytes(), 200},
		{"JSON body", "/v1/threads", "application/json", jsonBody, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				b := c.body
				size := (len(b) + pieces - 1) / pieces
				tick := time.NewTicker(timeout / 2)
				defer tick.Stop()
				for len(b) > 0 {
					<-tick.C
					n := min(len(b), size)
					if _, err := pw.Write(b[:n]); err != nil {
						return
					}
					b = b[n:]
				}
				pw.Close()
			}()
			req, _ := http.NewRequest("POST", r.srv.URL+c.path, pr)
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", c.ctype)
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			pr.CloseWithError(errors.New("answered"))
			<-sent
			if resp.StatusCode != c.want {
				t.Fatalf("status %d after %v, want %d: %s", resp.StatusCode, time.Since(start), c.want, b)
			}
			if c.want == 200 {
				var f struct {
					Bytes int `json:"bytes"`
				}
				if err := json.Unmarshal(b, &f); err != nil || f.Bytes != len(content) {
					t.Errorf("stored %d bytes (%v), want %d", f.Bytes, err, len(content))
				}
				if d := time.Since(start); d < 2*timeout {
					t.Errorf("the upload took %v: not longer than the %v read timeout", d, timeout)
				}
			} else if e := decodeErr(t, b); e.Message != "Could not read the request body." {
				t.Errorf("%s", b)
			}
		})
	}
}
