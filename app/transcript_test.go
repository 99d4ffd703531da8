package app_test

import (
	"fmt"
	"strings"
	"testing"

	"plotline/app"
)

// A thread is built as the store would hold it: records with sequence
// numbers, given to NewTranscript in any order.
type rec struct {
	seq  int64
	msg  *app.Message
	step *app.RunStep
}

func user(seq int64, text string) rec {
	return rec{seq: seq, msg: &app.Message{ID: fmt.Sprint("msg_", seq), Role: "user", Status: app.MessageCompleted,
		Content: []app.Content{{Type: "text", Text: &app.Text{Value: text}}}}}
}

func answer(seq int64, runID, text, status string) rec {
	r := user(seq, text)
	r.msg.Role, r.msg.RunID, r.msg.Status = "assistant", &runID, status
	return r
}

func code(seq int64, runID, input, logs, status string) rec {
	outs := []app.CodeOutput{}
	if logs != "" {
		outs = append(outs, app.CodeOutput{Type: "logs", Logs: logs})
	}
	return rec{seq: seq, step: &app.RunStep{ID: fmt.Sprint("step_", seq), RunID: runID, Type: app.StepToolCalls, Status: status,
		StepDetails: app.StepDetails{Type: app.StepToolCalls, ToolCalls: []app.ToolCall{{ID: fmt.Sprint("call_", seq),
			Type: app.ToolCodeInterpreter, CodeInterpreter: &app.CodeInterpreterCall{Input: input, Outputs: outs}}}}}}
}

func function(seq int64, runID, name string, output *string, status string) rec {
	return rec{seq: seq, step: &app.RunStep{ID: fmt.Sprint("step_", seq), RunID: runID, Type: app.StepToolCalls, Status: status,
		StepDetails: app.StepDetails{Type: app.StepToolCalls, ToolCalls: []app.ToolCall{{ID: fmt.Sprint("call_", seq),
			Type: app.ToolFunction, Function: &app.FunctionCallOutput{Name: name, Arguments: "{}", Output: output}}}}}}
}

func creation(seq int64, runID string) rec {
	return rec{seq: seq, step: &app.RunStep{ID: fmt.Sprint("step_", seq), RunID: runID, Type: app.StepMessageCreation,
		Status: app.StepCompleted, StepDetails: app.StepDetails{Type: app.StepMessageCreation}}}
}

// build gives the records to NewTranscript newest first, so that the
// order comes from the sequence numbers alone.
func build(recs ...rec) app.Transcript {
	var msgs []app.Message
	var steps []app.RunStep
	var mseq, sseq []int64
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.msg != nil {
			msgs, mseq = append(msgs, *r.msg), append(mseq, r.seq)
		} else {
			steps, sseq = append(steps, *r.step), append(sseq, r.seq)
		}
	}
	return app.NewTranscript(msgs, mseq, steps, sseq)
}

// shape writes a conversation as one line per message: role, then the
// content or the calls, so that tests compare whole conversations.
func shape(conv []app.ChatMessage) string {
	var lines []string
	for _, m := range conv {
		line := m.Role + ": " + m.Content
		for _, c := range m.ToolCalls {
			line += " [call " + c.Name + " " + c.Arguments + "]"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func TestTranscriptOrder(t *testing.T) {
	out := "12"
	cases := []struct {
		name string
		recs []rec
		want string
	}{{
		name: "a cancelled run's code stays before the next question",
		recs: []rec{user(1, "Q1"), code(2, "run_1", "slow()", "", app.StepCancelled), user(5, "Q2")},
		want: "user: Q1\nassistant:  [call python {\"code\":\"slow()\"}]\ntool: (the run stopped before this code finished)\nuser: Q2",
	}, {
		name: "an expired run's unanswered function call",
		recs: []rec{user(1, "Q1"), function(2, "run_1", "get_weather", nil, app.StepExpired), user(3, "Q2")},
		want: "user: Q1\nassistant:  [call get_weather {}]\ntool: (no output was submitted)\nuser: Q2",
	}, {
		name: "a failed run with a cut answer",
		recs: []rec{user(1, "Q1"), answer(2, "run_1", "Let me", app.MessageIncomplete), creation(3, "run_1"),
			code(4, "run_1", "df.head()", "a b", app.StepFailed), user(6, "Q2")},
		want: "user: Q1\nassistant: Let me\nassistant:  [call python {\"code\":\"df.head()\"}]\ntool: a b\nuser: Q2",
	}, {
		name: "a run waiting for tool outputs ends the transcript",
		recs: []rec{user(1, "Q1"), function(2, "run_1", "lookup", nil, app.StepInProgress)},
		want: "user: Q1\nassistant:  [call lookup {}]\ntool: (no output was submitted)",
	}, {
		name: "several runs, each answer after its code",
		recs: []rec{user(1, "Q1"), code(3, "run_1", "x = 1", "", app.StepCompleted), answer(4, "run_1", "A1", app.MessageCompleted),
			creation(5, "run_1"), user(6, "Q2"), function(8, "run_2", "f", &out, app.StepCompleted),
			code(9, "run_2", "print(x)", "1", app.StepCompleted), answer(10, "run_2", "A2", app.MessageCompleted)},
		want: "user: Q1\nassistant:  [call python {\"code\":\"x = 1\"}]\ntool: (no output)\nassistant: A1\n" +
			"user: Q2\nassistant:  [call f {}]\ntool: 12\nassistant:  [call python {\"code\":\"print(x)\"}]\ntool: 1\nassistant: A2",
	}, {
		name: "messages the API added between runs",
		recs: []rec{user(1, "Q1"), answer(2, "run_1", "A1", app.MessageCompleted), user(4, "more context"),
			{seq: 5, msg: &app.Message{ID: "msg_x", Role: "assistant", Content: []app.Content{{Type: "text", Text: &app.Text{Value: "noted"}}}}},
			user(7, "Q2")},
		want: "user: Q1\nassistant: A1\nuser: more context\nassistant: noted\nuser: Q2",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := shape(build(tc.recs...).Chat(app.ChatOptions{}))
			if got != tc.want {
				t.Errorf("conversation:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestTranscriptExtendAndAttachments(t *testing.T) {
	q := user(1, "Q1")
	q.msg.Attachments = []app.Attachment{{FileID: "file-a"}, {FileID: "file-b"}}
	first := build(q, code(2, "run_1", "x", "", app.StepCompleted))
	q2 := user(3, "Q2")
	q2.msg.Attachments = []app.Attachment{{FileID: "file-b"}, {FileID: "file-c"}}
	all := first.Extend(build(q2))
	if all.LastSeq() != 3 || len(all) != 3 || len(first) != 2 {
		t.Fatalf("extend: %d entries, last seq %d; first has %d", len(all), all.LastSeq(), len(first))
	}
	if got := strings.Join(all.Attachments(), ","); got != "file-a,file-b,file-c" {
		t.Errorf("attachments %s", got)
	}
	if !first.HasCode() || build(q).HasCode() {
		t.Error("HasCode is wrong")
	}
	names := map[string]string{"file-a": "a.csv", "file-c": "c (1).csv"}
	conv := all.Chat(app.ChatOptions{Attached: func(id string) (string, bool) { n, ok := names[id]; return n, ok }})
	if !strings.HasSuffix(conv[0].Content, "(Attached: /mnt/data/a.csv)") || !strings.HasSuffix(conv[3].Content, "(Attached: /mnt/data/c (1).csv)") {
		t.Errorf("attachment notes: %q / %q", conv[0].Content, conv[3].Content)
	}
}

func TestTranscriptForModelsWithoutTools(t *testing.T) {
	conv := build(user(1, "Q1"), code(2, "run_1", "print(1)\n", "1", app.StepCompleted)).Chat(app.ChatOptions{NoTools: true})
	want := "user: Q1\nassistant: ```python\nprint(1)\n```\nuser: Output of python block 1:\n1"
	if got := shape(conv); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestTruncate(t *testing.T) {
	sys := app.ChatMessage{Role: "system", Content: "S"}
	thread := build(user(1, "Q1"), code(2, "run_1", "x", "out", app.StepCompleted), answer(3, "run_1", "A1", app.MessageCompleted),
		user(4, "Q2"), code(5, "run_2", "y", "out", app.StepCompleted), answer(6, "run_2", "A2", app.MessageCompleted), user(7, "Q3"))
	conv := append([]app.ChatMessage{sys}, thread.Chat(app.ChatOptions{})...)
	two := 2
	long := strings.Repeat("w", 400) // 100 tokens and more
	cases := []struct {
		name   string
		conv   []app.ChatMessage
		ts     *app.TruncationStrategy
		tokens *int64
		want   string
	}{
		{"auto keeps everything that fits", conv, &app.TruncationStrategy{Type: "auto"}, nil, shape(conv)},
		{"last_messages keeps the calls between the messages it keeps", conv,
			&app.TruncationStrategy{Type: "last_messages", LastMessages: &two}, nil,
			"system: S\nassistant: A2\nuser: Q3"},
		// The budget cuts between the call and its result: the result goes too.
		{"a token budget never starts on a tool result", conv, nil, ptr(int64(30)),
			"system: S\nassistant: A2\nuser: Q3"},
		{"a token budget keeps a call with its result", conv, nil, ptr(int64(40)),
			"system: S\nuser: Q2\nassistant:  [call python {\"code\":\"y\"}]\ntool: out\nassistant: A2\nuser: Q3"},
		{"the newest message always goes", []app.ChatMessage{sys, {Role: "user", Content: long}, {Role: "user", Content: long}},
			nil, ptr(int64(10)), "system: S\nuser: " + long},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := shape(app.Truncate(tc.conv, tc.ts, tc.tokens)); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
