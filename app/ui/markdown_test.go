package ui

import (
	"reflect"
	"testing"
)

func TestSplitMarkdown(t *testing.T) {
	text := "Revenue by month:\n\n| Month | Revenue |\n|:---|---:|\n| Jan | 10 |\n| Feb | 30 | extra |\n| Mar |\n\nTotal: 40.\n```\n| not | a table |\n|---|---|\n```\n"
	got := splitMarkdown(text)
	want := []block{
		{text: "Revenue by month:\n"},
		{table: [][]string{{"Month", "Revenue"}, {"Jan", "10"}, {"Feb", "30"}, {"Mar", ""}}},
		{text: "\nTotal: 40.\n```\n| not | a table |\n|---|---|\n```\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
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
