package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"plotline/plotting"
)

const salesCSV = `date,region,revenue,units,paid
2024-01-03,North,120.5,3,yes
2024-01-03,South,80,2,no
2024-01-10,North,99.5,1,yes
2024-02-01,East,,4,yes
2024-02-15,South,200,5,no
`

func TestProfileJSON(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "sales.csv", salesCSV)
	code, out, errOut := run(t, "", "profile", p, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		File      string  `json:"file"`
		Sheet     *string `json:"sheet"`
		Encoding  *string `json:"encoding"`
		Delimiter *string `json:"delimiter"`
		Decimal   string  `json:"decimal"`
		Rows      int     `json:"rows"`
		Columns   []struct {
			Name     string          `json:"name"`
			Type     string          `json:"type"`
			Missing  int             `json:"missing"`
			Distinct int             `json:"distinct"`
			Min      json.RawMessage `json:"min"`
			Max      json.RawMessage `json:"max"`
			Mean     *float64        `json:"mean"`
			Top      []struct {
				Value string `json:"value"`
				Count int    `json:"count"`
			} `json:"top"`
		} `json:"columns"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("--json printed more than one line:\n%s", out)
	}
	if got.File != "sales.csv" || got.Sheet != nil || got.Delimiter == nil || *got.Delimiter != "," || got.Decimal != "." || got.Rows != 5 {
		t.Errorf("header = %+v", got)
	}
	types := map[string]string{}
	for _, c := range got.Columns {
		types[c.Name] = c.Type
	}
	want := map[string]string{"date": "date", "region": "text", "revenue": "float", "units": "int", "paid": "bool"}
	for name, typ := range want {
		if types[name] != typ {
			t.Errorf("column %s is %q, want %q", name, types[name], typ)
		}
	}
	rev := got.Columns[2]
	if rev.Missing != 1 || rev.Mean == nil || *rev.Mean != 125 || string(rev.Min) != "80" || string(rev.Max) != "200" {
		t.Errorf("revenue = %+v (min %s, max %s)", rev, rev.Min, rev.Max)
	}
	region := got.Columns[1]
	if region.Distinct != 3 || string(region.Min) != "null" || region.Mean != nil || len(region.Top) == 0 || region.Top[0].Value != "North" && region.Top[0].Value != "South" || region.Top[0].Count != 2 {
		t.Errorf("region = %+v", region)
	}
	if d := got.Columns[0]; string(d.Min) != `"2024-01-03"` || string(d.Max) != `"2024-02-15"` {
		t.Errorf("date min %s max %s", d.Min, d.Max)
	}

	code, out, _ = run(t, "", "profile", p)
	if code != 0 || !strings.Contains(out, "revenue") || !strings.Contains(out, "float") {
		t.Errorf("text profile: exit %d\n%s", code, out)
	}
}

func TestChartWritesEachKind(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "sales.csv", salesCSV)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"auto.png", nil}, // a date and a number: a line
		{"bar.png", []string{"--x", "region", "--y", "revenue"}},
		{"stack.svg", []string{"--x", "region", "--y", "units", "--by", "paid", "--kind", "bar"}},
		{"month.png", []string{"--x", "date", "--every", "month", "--agg", "mean", "--dark"}},
		{"scatter.png", []string{"--x", "units", "--y", "revenue"}},
		{"hist.png", []string{"--y", "revenue", "--kind", "hist"}},
		{"box.png", []string{"--x", "region", "--y", "revenue", "--kind", "box"}},
		{"area.png", []string{"--x", "date", "--y", "units", "--kind", "area", "--size", "640x360"}},
		{"heat.png", []string{"--x", "region", "--by", "paid", "--y", "units", "--kind", "heatmap"}},
	} {
		out := filepath.Join(dir, tc.name)
		args := append([]string{"chart", p, "-o", out}, tc.args...)
		code, _, errOut := run(t, "", args...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tc.name, code, errOut)
			continue
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if strings.HasSuffix(tc.name, ".svg") {
			if !bytes.Contains(data, []byte("<svg")) {
				t.Errorf("%s is not SVG", tc.name)
			}
			continue
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		w, h := 960, 540
		if tc.name == "area.png" {
			w, h = 640, 360
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Errorf("%s is %v, want %dx%d", tc.name, b, w, h)
		}
	}
}

func TestChartBadInput(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "sales.csv", salesCSV)
	empty := write(t, dir, "empty.csv", "")
	header := write(t, dir, "header.csv", "a,b\n")
	out := filepath.Join(dir, "out.png")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{p, "--x", "nope", "-o", out}, `no column "nope"`},
		{[]string{p, "--y", "region", "--x", "date", "-o", out}, `"region" is text`},
		{[]string{p, "--x", "region", "--every", "month", "-o", out}, "date column"},
		{[]string{empty, "-o", out}, "empty"},
		{[]string{header, "-o", out}, "no rows"},
		{[]string{p, "-o", filepath.Join(dir, "out.gif")}, "png"},
		{[]string{p, "--kind", "pie", "-o", out}, "bar"},
		{[]string{p, "--agg", "mode", "-o", out}, "mean"},
		{[]string{p, "--size", "10x10", "-o", out}, "--size"},
		{[]string{p}, "-o"},
		{[]string{filepath.Join(dir, "missing.csv"), "-o", out}, "missing.csv"},
	} {
		code, _, errOut := run(t, "", append([]string{"chart"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("chart %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
		if strings.Contains(errOut, "panic") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 && tc.want != "-o" {
			t.Errorf("chart %v: not one clear line: %q", tc.args, errOut)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed chart left a file")
	}
	code, _, errOut := run(t, "", "profile", empty)
	if code != 2 || !strings.Contains(errOut, "empty") {
		t.Errorf("profile of an empty file: exit %d, %q", code, errOut)
	}
}

// TestChartScreenshots draws the README's example charts, a grouped bar
// and a daily line of a million rows in each theme, into the folder
// PLOTLINE_SCREENSHOTS names (make screenshot).
func TestChartScreenshots(t *testing.T) {
	dir := os.Getenv("PLOTLINE_SCREENSHOTS")
	if dir == "" {
		t.Skip("PLOTLINE_SCREENSHOTS is not set")
	}
	csv := filepath.Join(t.TempDir(), "sales.csv")
	f, err := os.Create(csv)
	if err != nil {
		t.Fatal(err)
	}
	if err := plotting.WriteSampleCSV(f, 1_000_000, 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, th := range []string{"light", "dark"} {
		for name, args := range map[string][]string{
			"bar":  {"--x", "category", "--y", "value", "--agg", "mean"},
			"line": {"--x", "date", "--y", "value", "--every", "week", "--kind", "area"},
		} {
			args = append([]string{"chart", csv, "-o", filepath.Join(dir, "chart-"+name+"-"+th+".png")}, args...)
			if th == "dark" {
				args = append(args, "--dark")
			}
			if code, _, errOut := run(t, "", args...); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errOut)
			}
		}
	}
}

func TestProfileAndChartOfAWorkbook(t *testing.T) {
	p := filepath.Join(t.TempDir(), "book.xlsx")
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "Notes")
	f.SetSheetRow("Notes", "A1", &[]any{"note"})
	f.NewSheet("Q3")
	f.SetSheetRow("Q3", "A1", &[]any{"day", "shop", "sales"})
	day := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		f.SetSheetRow("Q3", fmt.Sprintf("A%d", i+2), &[]any{day.AddDate(0, 0, i), []string{"A", "B"}[i%2], 10 + i})
	}
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	f.SetCellStyle("Q3", "A2", "A31", style)
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "profile", p, "--sheet", "Q3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var prof struct {
		Sheet    *string `json:"sheet"`
		Encoding *string `json:"encoding"`
		Rows     int     `json:"rows"`
		Columns  []struct {
			Type string `json:"type"`
			Min  any    `json:"min"`
		} `json:"columns"`
	}
	if err := json.Unmarshal([]byte(out), &prof); err != nil {
		t.Fatal(err)
	}
	if prof.Sheet == nil || *prof.Sheet != "Q3" || prof.Encoding != nil || prof.Rows != 30 || prof.Columns[0].Type != "date" || prof.Columns[0].Min != "2024-07-01" {
		t.Errorf("profile %+v", prof)
	}
	png := filepath.Join(t.TempDir(), "q3.png")
	if code, _, errOut := run(t, "", "chart", p, "--sheet", "Q3", "--x", "day", "--y", "sales", "--by", "shop", "--every", "week", "-o", png); code != 0 {
		t.Fatalf("chart: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "", "chart", p, "--sheet", "Q4", "-o", png); code != 2 || !strings.Contains(errOut, `no sheet "Q4"`) || !strings.Contains(errOut, "Q3") {
		t.Errorf("a missing sheet: exit %d, %q", code, errOut)
	}
}

func TestExecStarlark(t *testing.T) {
	dir := t.TempDir()
	csv := write(t, dir, "sales.csv", salesCSV)
	cell := write(t, dir, "c1.star", `t = table.read("sales.csv")
g = t.group_by("region", revenue="sum")
chart.bar(g, x="region", y="revenue", title="Revenue")
g.to_csv("by_region.csv")
len(t)
`)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, "import pandas as pd\n", "exec", "--runtime", "starlark", "--json", "--file", csv, "--out", out, cell, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines:\n%s", stdout)
	}
	var c1, c2 cellJSON
	json.Unmarshal([]byte(lines[0]), &c1)
	json.Unmarshal([]byte(lines[1]), &c2)
	if c1.Error != nil || c1.Result == nil || *c1.Result != "5" || len(c1.Images) != 1 || len(c1.Files) != 1 {
		t.Errorf("cell 1 = %+v", c1)
	}
	if data, err := os.ReadFile(filepath.Join(out, "by_region.csv")); err != nil || !strings.Contains(string(data), "North") {
		t.Errorf("by_region.csv: %q, %v", data, err)
	}
	if c2.Error == nil || c2.Error.Name != "SyntaxError" || !strings.Contains(c2.Error.Message, "table.read") {
		t.Errorf("an import: %+v", c2.Error)
	}
	if code, _, stderr := run(t, "", "exec", "--runtime", "lua", cell); code != 2 || !strings.Contains(stderr, "python or starlark") {
		t.Errorf("--runtime lua: exit %d, %q", code, stderr)
	}
}
