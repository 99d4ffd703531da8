package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"plotline/app/modeltest"
)

// TestStreamSendsOnlyAPIEvents: a run that waits out a rate limit
// streams the Assistants API's events only; the engine's own (the wait)
// stay inside Plotline.
func TestStreamSendsOnlyAPIEvents(t *testing.T) {
	r := newRig(t, nil, nil)
	r.model.Add(modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "0"}, modeltest.Turn{Text: "Fine."})
	code, body := r.doJSON("POST", "/v1/assistants", `{"model":"test-model"}`)
	if code != 200 {
		t.Fatal(string(body))
	}
	var a struct{ ID string }
	json.Unmarshal(body, &a)
	c := benchClient()
	var got []byte
	err := request(c, "POST", r.srv.URL+"/v1/threads/runs", []byte(fmt.Sprintf(`{"assistant_id":%q,"stream":true,"thread":{"messages":[{"role":"user","content":"hi"}]}}`, a.ID)),
		func(b []byte) error { got = b; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(r.model.Requests()) != 2 || !bytes.Contains(got, []byte("event: thread.run.completed\n")) {
		t.Fatalf("%d model requests; stream:\n%s", len(r.model.Requests()), got)
	}
	for _, l := range strings.Split(string(got), "\n") {
		if name, ok := strings.CutPrefix(l, "event: "); ok && name != "done" && !strings.HasPrefix(name, "thread.") {
			t.Fatalf("the stream sent %q", name)
		}
	}
}
