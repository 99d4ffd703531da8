//lint:file-ignore SA1019 Plotline serves the Assistants API, which openai-go marks deprecated, on purpose.

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"plotline/app"
	"plotline/app/modeltest"
	"plotline/interpreter/interptest"
)

// Throughput of the API under benchClients concurrent clients with
// keep-alive connections, over HTTP to a server on a real engine and
// store. Each benchmark also serves a reference from the same clients in
// the same run, and reports the API's rate as a multiple of it (x-bare,
// x-model): these machines are noisy, and the ratio travels better than
// the rate. The README quotes these:
//
//	go test ./app/api/ -run '^$' -bench . -benchtime 3s

// benchClients is how many clients send requests at once.
const benchClients = 32

// benchRounds alternate the API and its reference, so that a machine
// that slows down during the run weighs on both alike.
const benchRounds = 8

// benchThread makes a thread with n messages and returns its id.
func benchThread(b *testing.B, r *rig, n int) string {
	b.Helper()
	code, body := r.doJSON("POST", "/v1/threads", `{}`)
	if code != 200 {
		b.Fatalf("thread: %d %s", code, body)
	}
	id := strings.Split(strings.Split(string(body), `"id":"`)[1], `"`)[0]
	for i := 0; i < n; i++ {
		if code, body := r.doJSON("POST", "/v1/threads/"+id+"/messages", fmt.Sprintf(`{"role":"user","content":"message %d"}`, i)); code != 200 {
			b.Fatalf("message: %d %s", code, body)
		}
	}
	return id
}

// benchClient is the HTTP client of every benchmark's clients, for the
// API and its reference alike: a kept connection per client.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * benchClients}}
}

// request sends one request and reads the whole answer, which must have
// status 200; check, if set, looks at the body.
func request(c *http.Client, method, url string, body []byte, check func([]byte) error) error {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if check != nil {
		return check(b)
	}
	return nil
}

// hammer sends n requests with send from benchClients goroutines and
// returns how long they took, and the CPU time the process used.
func hammer(n int, send func() error) (wall, cpu time.Duration, err error) {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	cpu0, start := cpuTime(), time.Now()
	for range benchClients {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := send(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), cpuTime() - cpu0, first
}

// compare sends b.N requests to the API and b.N to its reference, in
// alternating rounds, and reports the API's rate (req/s), the
// reference's (unit-req/s) and their ratio (x-unit). Only the API's time
// counts as the benchmark's. As the machine's other work sways rates,
// it also reports the ratio of the CPU time a request takes, the
// reference's to the API's (x-unit-cpu): the rate ratio on a machine
// given to the benchmark alone. prepare, if set, runs untimed before
// each round with its size.
func compare(b *testing.B, unit string, api, ref func() error, prepare func(n int)) {
	b.Helper()
	// Open the connections first: both sides then start with all their
	// clients connected.
	for _, send := range []func() error{api, ref} {
		if prepare != nil {
			prepare(2 * benchClients)
		}
		if _, _, err := hammer(2*benchClients, send); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var apiWall, apiCPU, refWall, refCPU time.Duration
	for i := range benchRounds {
		n := b.N/benchRounds + boolInt(i < b.N%benchRounds)
		if n == 0 {
			continue
		}
		b.StopTimer()
		if prepare != nil {
			prepare(n)
		}
		b.StartTimer()
		wall, cpu, err := hammer(n, api)
		if err != nil {
			b.Fatal(err)
		}
		apiWall, apiCPU = apiWall+wall, apiCPU+cpu
		b.StopTimer()
		if prepare != nil {
			prepare(n)
		}
		if wall, cpu, err = hammer(n, ref); err != nil {
			b.Fatal(err)
		}
		refWall, refCPU = refWall+wall, refCPU+cpu
		b.StartTimer()
	}
	apiRate, refRate := float64(b.N)/apiWall.Seconds(), float64(b.N)/refWall.Seconds()
	b.ReportMetric(apiRate, "req/s")
	b.ReportMetric(refRate, unit+"-req/s")
	b.ReportMetric(apiRate/refRate, "x-"+unit)
	if apiCPU > 0 {
		b.ReportMetric(refCPU.Seconds()/apiCPU.Seconds(), "x-"+unit+"-cpu")
	}
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// bareServer is the reference of the message benchmarks: net/http on
// loopback with a handler that does what any JSON API must, decode the
// body and encode the answer, and nothing else.
func bareServer(b *testing.B, h func(w http.ResponseWriter, r *http.Request)) string {
	srv := httptest.NewServer(http.HandlerFunc(h))
	b.Cleanup(srv.Close)
	return srv.URL
}

func writeBare(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func BenchmarkMessageCreate(b *testing.B) {
	r := newRig(b, nil, nil)
	id := benchThread(b, r, 0)
	body := []byte(`{"role":"user","content":"What was the revenue by month?","metadata":{"source":"bench"}}`)
	// The bare server answers the message the API answered, with a new id.
	var made app.Message
	c := benchClient()
	url := r.srv.URL + "/v1/threads/" + id + "/messages"
	if err := request(c, "POST", url, body, func(got []byte) error { return json.Unmarshal(got, &made) }); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	bare := bareServer(b, func(w http.ResponseWriter, r *http.Request) {
		var p app.MessageParams
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.Role == "" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		m := made
		m.ID = "msg_" + strconv.FormatInt(n.Add(1), 36)
		writeBare(w, &m)
	})
	compare(b, "bare",
		func() error { return request(c, "POST", url, body, nil) },
		func() error { return request(c, "POST", bare, body, nil) }, nil)
}

func BenchmarkMessageList(b *testing.B) {
	r := newRig(b, nil, nil)
	id := benchThread(b, r, 100)
	c := benchClient()
	for _, limit := range []int{20, 100} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			url := fmt.Sprintf("%s/v1/threads/%s/messages?limit=%d", r.srv.URL, id, limit)
			// The bare server answers the page the API answered.
			var page app.List[app.Message]
			if err := request(c, "GET", url, nil, func(got []byte) error { return json.Unmarshal(got, &page) }); err != nil {
				b.Fatal(err)
			}
			if len(page.Data) != limit {
				b.Fatalf("%d messages listed, want %d", len(page.Data), limit)
			}
			bare := bareServer(b, func(w http.ResponseWriter, r *http.Request) {
				if _, err := strconv.Atoi(r.URL.Query().Get("limit")); err != nil {
					http.Error(w, "bad limit", http.StatusBadRequest)
					return
				}
				writeBare(w, &page)
			})
			compare(b, "bare",
				func() error { return request(c, "GET", url, nil, nil) },
				func() error { return request(c, "GET", bare+"/?limit="+strconv.Itoa(limit), nil, nil) }, nil)
		})
	}
}

// benchAnswer is the scripted model's answer in the streamed benchmarks:
// a sentence in pieces of a few tokens.
var benchAnswer = modeltest.Turn{Text: "The mean of column x is 4.2 and its median is 3.9, over 1,000 rows.", ChunkSize: 8}

// streamBodies makes an assistant and returns the bodies of the streamed
// benchmarks' requests: a run of a new thread with one question, and the
// same question streamed straight from the model.
func streamBodies(b *testing.B, r *rig, c *http.Client) (run, chat []byte) {
	var asst struct{ ID string }
	if err := request(c, "POST", r.srv.URL+"/v1/assistants", []byte(`{"model":"test-model","name":"Analyst"}`),
		func(got []byte) error { return json.Unmarshal(got, &asst) }); err != nil {
		b.Fatal(err)
	}
	run = []byte(`{"assistant_id":"` + asst.ID + `","stream":true,"thread":{"messages":[{"role":"user","content":"What is the mean of x?"}]}}`)
	chat = []byte(`{"model":"test-model","stream":true,"messages":[{"role":"user","content":"What is the mean of x?"}]}`)
	return run, chat
}

// BenchmarkRunStream creates streamed runs, each on a new thread with one
// message, and reads their events to the end; the reference is the same
// clients streaming the same answer straight from the scripted model.
func BenchmarkRunStream(b *testing.B) {
	r := newRig(b, nil, nil)
	c := benchClient()
	run, chat := streamBodies(b, r, c)
	checkRun := func(got []byte) error {
		if !bytes.Contains(got, []byte("event: thread.run.completed\n")) || !bytes.HasSuffix(got, []byte("data: [DONE]\n\n")) {
			return errors.New("the run's stream did not complete: " + string(got))
		}
		return nil
	}
	checkChat := func(got []byte) error {
		if !bytes.HasSuffix(got, []byte("data: [DONE]\n\n")) {
			return errors.New("the model's stream did not complete: " + string(got))
		}
		return nil
	}
	compare(b, "model",
		func() error { return request(c, "POST", r.srv.URL+"/v1/threads/runs", run, checkRun) },
		func() error { return request(c, "POST", r.model.BaseURL()+"/chat/completions", chat, checkChat) },
		func(n int) {
			for range n {
				r.model.Add(benchAnswer)
			}
		})
}

// pacedAnswer is benchAnswer streamed at the pace of a hosted model: a
// first token after 300 ms, then a piece every 20 ms (about 100 tokens a
// second).
var pacedAnswer = modeltest.Turn{Text: benchAnswer.Text, ChunkSize: benchAnswer.ChunkSize,
	Delay: 300 * time.Millisecond, ChunkDelay: 20 * time.Millisecond}

// BenchmarkRunStreamPaced is BenchmarkRunStream with the model answering
// at a real model's pace: what an analyst's script sees. It reports the
// rate against streaming from the model directly (x-model), and how much
// later the answer's first text reaches the client through a run than
// straight from the model (added-first-text-ms, the medians' difference).
func BenchmarkRunStreamPaced(b *testing.B) {
	r := newRig(b, nil, nil)
	c := benchClient()
	run, chat := streamBodies(b, r, c)
	var mu sync.Mutex
	var viaRun, direct []time.Duration
	// first streams a request and records when the first text came.
	first := func(url string, body []byte, text, end string, into *[]time.Duration) func() error {
		return func() error {
			req, err := http.NewRequest("POST", url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var got bytes.Buffer
			var at time.Duration
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				got.Write(buf[:n])
				if at == 0 && bytes.Contains(got.Bytes(), []byte(text)) {
					at = time.Since(start)
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
			}
			if at == 0 || !bytes.HasSuffix(got.Bytes(), []byte(end)) {
				return fmt.Errorf("stream from %s did not complete: %s", url, got.Bytes())
			}
			mu.Lock()
			*into = append(*into, at)
			mu.Unlock()
			return nil
		}
	}
	compare(b, "model",
		first(r.srv.URL+"/v1/threads/runs", run, `"value":"The mean`, "event: done\ndata: [DONE]\n\n", &viaRun),
		first(r.model.BaseURL()+"/chat/completions", chat, `"content":"The mean`, "data: [DONE]\n\n", &direct),
		func(n int) {
			for range n {
				r.model.Add(pacedAnswer)
			}
		})
	b.ReportMetric(interptest.Ms(interptest.Median(viaRun)-interptest.Median(direct)), "added-first-text-ms")
}

// BenchmarkRunStreamSDK is BenchmarkRunStream with both sides read as an
// application reads them, through the openai-go SDK: streamed runs of
// Plotline's API against the same answer streamed from the model with the
// SDK's Chat Completions client, which is what "calling the model
// directly" is for code that used the hosted Assistants API.
func BenchmarkRunStreamSDK(b *testing.B) {
	r := newRig(b, nil, nil)
	hc := benchClient()
	c := openai.NewClient(option.WithBaseURL(r.srv.URL+"/v1/"), option.WithAPIKey(testKey), option.WithHTTPClient(hc), option.WithMaxRetries(0))
	m := openai.NewClient(option.WithBaseURL(r.model.BaseURL()+"/"), option.WithAPIKey("test"), option.WithHTTPClient(hc), option.WithMaxRetries(0))
	a, err := c.Beta.Assistants.New(context.Background(), openai.BetaAssistantNewParams{Model: "test-model", Name: openai.String("Analyst")})
	if err != nil {
		b.Fatal(err)
	}
	question := "What is the mean of x?"
	run := func() error {
		s := c.Beta.Threads.NewAndRunStreaming(context.Background(), openai.BetaThreadNewAndRunParams{AssistantID: a.ID,
			Thread: openai.BetaThreadNewAndRunParamsThread{Messages: []openai.BetaThreadNewAndRunParamsThreadMessage{{Role: "user",
				Content: openai.BetaThreadNewAndRunParamsThreadMessageContentUnion{OfString: openai.String(question)}}}}})
		defer s.Close()
		var text strings.Builder
		done := false
		for s.Next() {
			ev := s.Current()
			if d, ok := ev.AsAny().(openai.AssistantStreamEventThreadMessageDelta); ok {
				for _, part := range d.Data.Delta.Content {
					text.WriteString(part.Text.Value)
				}
			}
			done = done || ev.Event == "thread.run.completed"
		}
		if err := s.Err(); err != nil {
			return err
		}
		if !done || text.String() != benchAnswer.Text {
			return fmt.Errorf("run stream: completed %v, text %q", done, text.String())
		}
		return nil
	}
	direct := func() error {
		s := m.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "test-model",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(question)}})
		defer s.Close()
		var acc openai.ChatCompletionAccumulator
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		if err := s.Err(); err != nil {
			return err
		}
		if len(acc.Choices) == 0 || acc.Choices[0].Message.Content != benchAnswer.Text {
			return errors.New("model stream: wrong answer")
		}
		return nil
	}
	compare(b, "model-sdk", run, direct, func(n int) {
		for range n {
			r.model.Add(benchAnswer)
		}
	})
}
