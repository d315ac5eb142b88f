package live

import (
	"strings"
	"testing"
)

// FuzzNarrate runs any stream through the narration in GitHub Actions:
// nothing of the session passes for a workflow command, no escape or
// carriage return reaches stderr, and every tool call's and text's line
// fits the width.
func FuzzNarrate(f *testing.F) {
	f.Add([]byte(hostile), uint8(40))
	for _, path := range []string{"../cli/testdata/sample.jsonl", "../stream/testdata/agents/gemini/tools-out-of-order.jsonl",
		"../stream/testdata/agents/codex/overlapping-items.jsonl", "../stream/testdata/agents/opencode/two-steps.jsonl",
		"../stream/testdata/agents/cursor/tools-parallel-usage.jsonl"} {
		data, err := readFixture(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(60))
	}
	f.Fuzz(func(t *testing.T, data []byte, w uint8) {
		cols := max(int(w), minWidth)
		for _, mode := range []Mode{Short, Full} {
			out := string(narrate(t, data, Options{Width: cols, GitHub: true, Mode: mode}))
			checkCommands(t, out)
			if strings.ContainsAny(out, "\x1b\r") {
				t.Fatalf("escape or carriage return in the narration:\n%q", out)
			}
			for _, l := range strings.Split(out, "\n") {
				mark := strings.TrimLeft(l, " ")
				if strings.HasPrefix(mark, "▸") || strings.HasPrefix(mark, "✓") || strings.HasPrefix(mark, "✗") ||
					mode == Short && strings.HasPrefix(mark, "│") {
					if width(l) > cols {
						t.Fatalf("a line of %d columns at width %d: %q", width(l), cols, l)
					}
				}
			}
		}
	})
}
