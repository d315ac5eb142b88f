package stream

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// textRecorder keeps the assistant texts the Processor hands over.
type textRecorder struct {
	recorder
	texts []string // "+" before a chunk that continues the text before it
}

func (r *textRecorder) Message(m *Message) {
	if m.Text != nil {
		s := string(m.Text)
		if m.TextDelta {
			s = "+" + s
		}
		r.texts = append(r.texts, s)
	}
	r.recorder.Message(m)
}

func TestAssistantTexts(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"../cli/testdata/corpus/stream-multi-turn.jsonl", []string{"Two tests fail: TestCheckout and TestRefund.",
			"TestRefund passes now."}},
		{"agents/gemini/tools-out-of-order.jsonl", []string{"+One test fails: ", "+`TestParse` in parse/parse_test.go (got 3, want 4)."}},
		{"agents/codex/overlapping-items.jsonl", []string{"The build failed on a renamed prop; page.tsx is fixed. The Linear comment could not be posted (401)."}},
		{"agents/codex/legacy-0.3x.jsonl", []string{"Added GET /health to src/router.ts. There is no test script to run."}},
		{"agents/cursor/tools-parallel-usage.jsonl", []string{"I'll run the tests and look at the Makefile.",
			"`TestCart` fails: the discount is applied twice in cart.go. My fix was rejected, so nothing changed."}},
		{"agents/opencode/two-steps.jsonl", []string{"I'll run the API tests first.", "Fixed: the create endpoint now returns 201."}},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			path := tc.file
			if !filepath.IsAbs(path) && filepath.Dir(path) != "../cli/testdata/corpus" {
				path = filepath.Join("testdata", path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := &textRecorder{}
			p := NewProcessor(r)
			p.Texts = true
			var fr Framer
			fr.Feed(data, func(l []byte) { p.Line(l, 1) })
			fr.Flush(func(l []byte) { p.Line(l, 1) })
			if !reflect.DeepEqual(r.texts, tc.want) {
				t.Errorf("texts %q, want %q", r.texts, tc.want)
			}

			// Unasked, no line carries a text.
			off := &textRecorder{}
			p = NewProcessor(off)
			fr = Framer{}
			fr.Feed(data, func(l []byte) { p.Line(l, 1) })
			fr.Flush(func(l []byte) { p.Line(l, 1) })
			if len(off.texts) > 0 {
				t.Errorf("texts without Texts: %q", off.texts)
			}
		})
	}
}

// A line's blocks of text are joined, other blocks left out; a sub-agent's
// text is handed over like any other, with its parent.
func TestAssistantTextBlocks(t *testing.T) {
	r := &textRecorder{}
	p := NewProcessor(r)
	p.Texts = true
	feed(p, initLine,
		`{"type":"assistant","message":{"id":"m1","content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"one"},{"type":"tool_use","id":"t1","name":"Bash","input":{}},{"type":"text","text":"two \"quoted\""}]}}`,
		`{"type":"assistant","message":{"id":"m2","content":[{"type":"tool_use","id":"t2","name":"Bash","input":{}}]}}`,
		`{"type":"assistant","message":{"id":"m3","content":"plain"},"parent_tool_use_id":"t1"}`,
	)
	if want := []string{"one\ntwo \"quoted\"", "plain"}; !reflect.DeepEqual(r.texts, want) {
		t.Fatalf("texts %q, want %q", r.texts, want)
	}
	if r.msgs[3].ParentToolUseID != "t1" {
		t.Fatalf("sub-agent text without its parent: %+v", r.msgs[3])
	}
}
