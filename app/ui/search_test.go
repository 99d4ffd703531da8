package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"plotline/app"
	"plotline/app/apptest"
	"plotline/app/modeltest"
	"plotline/app/settings"
	"plotline/interpreter/interptest"
)

// BenchmarkSearchKeystroke is the first keystroke in the search box with
// 1,000 threads stored: the time it takes on Fyne's goroutine (median-ms,
// the target is a 16 ms frame), and until the matching threads are listed
// (result-ms).
func BenchmarkSearchKeystroke(b *testing.B) {
	srv := modeltest.NewServer(b)
	data := b.TempDir()
	eng := apptest.New(b, testPython, data, srv.BaseURL(), apptest.Options{})
	ctx := context.Background()
	for i := range 1000 {
		var msgs []app.MessageParams
		for j := range 6 {
			text, _ := json.Marshal(fmt.Sprintf("Message %d of thread %d: revenue and margin by region, quarter %d.", j, i, j%4+1))
			msgs = append(msgs, app.MessageParams{Role: []string{"user", "assistant"}[j%2], Content: text})
		}
		md := app.Metadata{"title": fmt.Sprintf("Analysis %d", i)}
		if _, err := eng.CreateThread(ctx, app.ThreadParams{Messages: msgs, Metadata: &md}); err != nil {
			b.Fatal(err)
		}
	}
	u := New(test.NewTempApp(b), Services{Engine: eng, DataDir: data, Keys: settings.Keys{Dir: data, Service: "plotline-test"},
		EnvConfigured: true, Manual: true})
	b.Cleanup(u.Close)
	if len(u.threads) != 1000 {
		b.Fatalf("%d threads listed", len(u.threads))
	}
	var onUI, result []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u.index = newSearchIndex(u.ctx, u.eng) // as at start: nothing read yet
		u.search.SetText("")
		u.Pump(time.Second, func() bool { return len(u.shown) == 1000 })
		t0 := time.Now()
		u.search.SetText("of thread 777:")
		onUI = append(onUI, time.Since(t0))
		if !u.Pump(30*time.Second, func() bool { return len(u.shown) == 1 && u.shown[0].Metadata["title"] == "Analysis 777" }) {
			b.Fatalf("the search listed %d threads", len(u.shown))
		}
		result = append(result, time.Since(t0))
	}
	interptest.ReportMedian(b, onUI)
	b.ReportMetric(interptest.Ms(interptest.Median(result)), "result-ms")
}
