package ui

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
	"github.com/xuri/excelize/v2"

	"plotline/app/modeltest"
	"plotline/plotting"
)

const quickLookCSV = `date;region;revenue;units
2024-01-03;North;120,5;3
2024-01-03;South;80;2
2024-01-10;North;99,5;1
2024-02-01;East;;4
2024-02-15;South;200;5
`

// waitChart pumps the window until Quick look has drawn the chart last
// asked for (or said why not), and returns whether a chart is shown.
func waitChart(t *testing.T, w *window, q *quickLook) bool {
	t.Helper()
	if !w.u.Pump(30*time.Second, func() bool { return q.frame != nil && q.drawn == q.gen }) {
		t.Fatalf("Quick look drew nothing; status %q", q.status.Text)
	}
	return q.chart != nil
}

func TestQuickLookOnAttach(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "North leads."})
	dir := t.TempDir()
	p := filepath.Join(dir, "sales.csv")
	if err := os.WriteFile(p, []byte(quickLookCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "logo.png")
	os.WriteFile(img, []byte("\x89PNG"), 0o644)
	if q := w.u.attachAndLook(img); q != nil {
		t.Fatal("Quick look opened on an image")
	}
	q := w.u.attachAndLook(img, p)
	if q == nil || q.win.Title() != "Quick look — sales.csv" {
		t.Fatalf("Quick look window: %v", q)
	}
	if len(w.u.attached) != 2 {
		t.Fatalf("attached %v", w.u.attached)
	}
	if !waitChart(t, w, q) {
		t.Fatalf("no chart: %q", q.status.Text)
	}
	// A date and a number: a line, with the profile of each column beside.
	if q.chart.Kind != plotting.KindLine || q.chart.XLabel != "date" {
		t.Errorf("automatic chart %s of %s", q.chart.Kind, q.chart.XLabel)
	}
	if b := q.img.Image.Bounds(); b.Dx() < 200 || b.Dy() < 150 {
		t.Errorf("chart image %v", b)
	}
	for _, want := range []string{"5 rows", `delimiter ";"`, "decimal comma"} {
		if !strings.Contains(q.status.Text, want) {
			t.Errorf("status %q lacks %q", q.status.Text, want)
		}
	}
	prof, ok := find[*widget.Table](q.win.Content(), func(*widget.Table) bool { return true })
	if !ok {
		t.Fatal("no profile table")
	}
	if rows, cols := prof.Length(); rows != 5 || cols != 8 {
		t.Errorf("profile table %d×%d, want 5×8", rows, cols)
	}

	// The analyst asks for a bar of units by region.
	selects := q.choices
	selects["x"].SetSelected("region")
	selects["y"].SetSelected("units")
	selects["chart"].SetSelected("bar")
	if !waitChart(t, w, q) {
		t.Fatalf("no bar chart: %q", q.status.Text)
	}
	if q.chart.Kind != plotting.KindBar || strings.Join(q.chart.Categories, ",") != "East,North,South" || q.chart.Series[0].Y[1] != 4 {
		t.Errorf("bar chart %s %v %v", q.chart.Kind, q.chart.Categories, q.chart.Series)
	}
	// A choice that cannot be drawn says why, and keeps the window.
	selects["every"].SetSelected("month")
	if waitChart(t, w, q) || !strings.Contains(q.status.Text, "date column") {
		t.Errorf("resampling a category: status %q", q.status.Text)
	}
	selects["every"].SetSelected("none")
	if !waitChart(t, w, q) {
		t.Fatal("no chart after the choice was undone")
	}

	// Ask about it: the question goes to the thread, the file with it.
	q.sendToThread()
	w.waitIdle()
	users := w.rowsOf(rowUser)
	if len(users) != 1 || !strings.Contains(users[0].text, "Chart this: a bar chart of sales.csv") {
		t.Fatalf("question rows %+v", users)
	}
	if len(w.u.attached) != 0 {
		t.Errorf("attachments left after sending: %v", w.u.attached)
	}
	for _, x := range w.u.app.Driver().AllWindows() {
		if x == q.win {
			t.Error("Quick look is still open after asking")
		}
	}

	// The thread's copy opens in Quick look from the files panel.
	var csvID, pngID string
	for _, id := range w.u.tl.fileIDs() {
		switch w.u.files.fileInfo(id).name {
		case "sales.csv":
			csvID = id
		case "logo.png":
			pngID = id
		}
	}
	if csvID == "" || pngID == "" {
		t.Fatalf("the thread's files: %v", w.u.tl.fileIDs())
	}
	if w.u.quickLookStored(pngID) != nil || !strings.Contains(w.u.bannerText(), "logo.png is not one") {
		t.Errorf("Quick look on an image: banner %q", w.u.bannerText())
	}
	stored := w.u.quickLookStored(csvID)
	if !waitChart(t, w, stored) || stored.win.Title() != "Quick look — sales.csv" || stored.frame.Len() != 5 {
		t.Fatalf("stored file: %q, status %q", stored.win.Title(), stored.status.Text)
	}
}

func TestQuickLookBadFile(t *testing.T) {
	w := newWindow(t)
	dir := t.TempDir()
	for name, body := range map[string]string{
		"empty.csv":  "",
		"binary.csv": "\x00\x01\x02PK\x03\x04garbage\x00",
		"book.xlsx":  "not a zip",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		q := w.u.quickLookLocal(p)
		if !w.u.Pump(30*time.Second, func() bool {
			l, ok := q.body.Objects[0].(*widget.Label)
			return ok && strings.HasPrefix(l.Text, "No Quick look: ")
		}) {
			t.Errorf("%s: no clear error", name)
		}
		if q.chart != nil || !q.save.Disabled() {
			t.Errorf("%s: a chart is offered", name)
		}
		q.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	}
}

// TestQuickLookScreenshots draws Quick look on a year of daily sales in
// the light and the dark theme, with the software renderer, into the
// folder PLOTLINE_SCREENSHOTS names (make screenshot).
func TestQuickLookScreenshots(t *testing.T) {
	dir := os.Getenv("PLOTLINE_SCREENSHOTS")
	if dir == "" {
		t.Skip("PLOTLINE_SCREENSHOTS is not set")
	}
	var b strings.Builder
	b.WriteString("date,region,channel,revenue,units\n")
	regions := []string{"North", "South", "East", "West"}
	channels := []string{"Web", "Retail"}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 366 {
		for j, r := range regions {
			for k, c := range channels {
				rev := 800 + 300*float64(j) + 150*float64(k) + float64((i*37+j*11+k*5)%200) + 2*float64(i)
				fmt.Fprintf(&b, "%s,%s,%s,%.2f,%d\n", day.AddDate(0, 0, i).Format("2006-01-02"), r, c, rev, 10+(i+j+k)%17)
			}
		}
	}
	p := filepath.Join(t.TempDir(), "daily-sales.csv")
	os.WriteFile(p, []byte(b.String()), 0o644)
	for _, th := range []string{"light", "dark"} {
		w := newWindow(t)
		applyTheme(w.u.app, th)
		q := w.u.quickLookLocal(p)
		if !waitChart(t, w, q) {
			t.Fatalf("no chart: %s", q.status.Text)
		}
		shot := func(name string) {
			out, err := os.Create(filepath.Join(dir, th+"-"+name+".png"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if err := png.Encode(out, q.win.Canvas().Capture()); err != nil {
				t.Fatal(err)
			}
		}
		shot("quicklook")
		q.req = plotting.ChartRequest{X: "date", By: "region", Every: "month", Kind: plotting.KindBar}
		q.redraw()
		if !waitChart(t, w, q) {
			t.Fatalf("no monthly chart: %s", q.status.Text)
		}
		shot("quicklook-monthly")
	}
}

func TestQuickLookWorkbookSheets(t *testing.T) {
	w := newWindow(t)
	p := filepath.Join(t.TempDir(), "book.xlsx")
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "Notes")
	f.SetSheetRow("Notes", "A1", &[]any{"note", "n"})
	f.SetSheetRow("Notes", "A2", &[]any{"hello", 1})
	f.NewSheet("Sales")
	f.SetSheetRow("Sales", "A1", &[]any{"region", "revenue"})
	f.SetSheetRow("Sales", "A2", &[]any{"North", 10})
	f.SetSheetRow("Sales", "A3", &[]any{"South", 7})
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	q := w.u.quickLookLocal(p)
	if !waitChart(t, w, q) || q.sheet == nil || q.sheet.Selected != "Notes" || strings.Join(q.sheet.Options, ",") != "Notes,Sales" {
		t.Fatalf("first sheet: chart %v, sheet choice %+v", q.chart, q.sheet)
	}
	q.sheet.SetSelected("Sales")
	if !w.u.Pump(30*time.Second, func() bool { return q.frame.Source.Sheet == "Sales" && q.drawn == q.gen }) {
		t.Fatal("the Sales sheet was not read")
	}
	if q.chart == nil || strings.Join(q.chart.Categories, ",") != "North,South" {
		t.Errorf("Sales chart %+v", q.chart)
	}
}
