package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Requests per second for message create and message list, over HTTP to
// a server on a real engine and store, from parallel clients (GOMAXPROCS
// of them) with keep-alive connections. The README quotes these:
//
//	go test ./app/api/ -run '^$' -bench Message -benchtime 3s

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

// benchRequests runs req in parallel b.N times, failing on any status but
// 200, and reports the rate.
func benchRequests(b *testing.B, r *rig, method, url string, body []byte) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(method, r.srv.URL+url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("%s %s: %d", method, url, resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkMessageCreate(b *testing.B) {
	r := newRig(b, nil, nil)
	id := benchThread(b, r, 0)
	benchRequests(b, r, "POST", "/v1/threads/"+id+"/messages",
		[]byte(`{"role":"user","content":"What was the revenue by month?","metadata":{"source":"bench"}}`))
}

func BenchmarkMessageList(b *testing.B) {
	r := newRig(b, nil, nil)
	id := benchThread(b, r, 100)
	for _, limit := range []int{20, 100} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			benchRequests(b, r, "GET", fmt.Sprintf("/v1/threads/%s/messages?limit=%d", id, limit), nil)
		})
	}
}
