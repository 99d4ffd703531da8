package ui

import (
	"reflect"
	"testing"
)

func TestSplitMarkdown(t *testing.T) {
	text := "Revenue by month:\n\n| Month | Revenue |\n|:---|---:|\n| Jan | 10 |\n| Feb | 30 | extra |\n| Mar |\n\nTotal: 40.\n```\n| not | a table |\n|---|---|\n```\n"
	code := "| not | a table |\n|---|---|"
	got := splitMarkdown(text)
	want := []block{
		{text: "Revenue by month:\n"},
		{table: [][]string{{"Month", "Revenue"}, {"Jan", "10"}, {"Feb", "30"}, {"Mar", ""}}, align: []colAlign{alignLeft, alignRight}},
		{text: "\nTotal: 40."},
		{code: &code},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
}

func TestSplitMarkdownFencedCode(t *testing.T) {
	text := "Run this:\n\n  ```python title\n  df = pd.read_csv('a.csv')\n    df.head()\n  ```\nthen\n~~~~\n```\nstill code\n~~~~\nAnd streaming:\n```sql\nSELECT 1"
	var got []string
	for _, b := range splitMarkdown(text) {
		switch {
		case b.code != nil:
			got = append(got, "code "+b.lang+": "+*b.code)
		default:
			got = append(got, "text: "+b.text)
		}
	}
	want := []string{
		"text: Run this:\n",
		"code python: df = pd.read_csv('a.csv')\n  df.head()",
		"text: then",
		"code : ```\nstill code",
		"text: And streaming:",
		"code sql: SELECT 1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("blocks:\n%q\nwant:\n%q", got, want)
	}
}

func TestSplitMarkdownNeedsADelimiterRow(t *testing.T) {
	got := splitMarkdown("| a | b |\n| c | d |")
	if len(got) != 1 || got[0].table != nil {
		t.Fatalf("rows without a delimiter became a table: %#v", got)
	}
}

func TestTableCellsEscapedPipe(t *testing.T) {
	if got := tableCells(`| a \| b | c |`); !reflect.DeepEqual(got, []string{"a | b", "c"}) {
		t.Fatalf("cells = %q", got)
	}
}

func TestIsNumber(t *testing.T) {
	for _, s := range []string{"0", "42", "-7", "−7", "+3.5", "1,234", "1,234,567.89", "12.5%", "-0.3 %", "$1,200", "-$5", "$-5",
		"€3.20", "5 €", "(1,234)", "1.2e6", ".5", "3.4M", "2bn", "1\u202f234", "**60**", "`12`", "2.5x"} {
		if !isNumber(plainCell(s).text) {
			t.Errorf("%q is not taken for a number", s)
		}
	}
	for _, s := range []string{"", "-", "abc", "Q1", "2024-01-05", "10:30", "1/2", "1.2.3", "12,34", "$", "%", "e5", "(12", "A1", "1,2345"} {
		if isNumber(plainCell(s).text) {
			t.Errorf("%q is taken for a number", s)
		}
	}
}

func TestNumericColumns(t *testing.T) {
	tbl := [][]string{
		{"Region", "Revenue", "Share", "Code", "Note"},
		{"North", "1,200", "12%", "A1", "—"},
		{"South", "-300", "n/a", "7", ""},
		{"East", "(45)", "3.5%", "B2", "-"},
	}
	if got, want := numericColumns(tbl), []bool{false, true, true, false, false}; !reflect.DeepEqual(got, want) {
		t.Fatalf("numeric columns %v, want %v", got, want)
	}
}

func TestTableTSV(t *testing.T) {
	got := tableTSV([][]string{{"Month", "**Total**"}, {"Jan\tfirst", "`1,200`"}})
	if want := "Month\tTotal\nJan first\t1,200\n"; got != want {
		t.Fatalf("TSV %q, want %q", got, want)
	}
}
