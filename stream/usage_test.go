package stream

import (
	"fmt"
	"testing"
)

type nop struct{}

func (nop) Message(*Message)       {}
func (nop) ToolUse(*ToolUse)       {}
func (nop) ToolResult(*ToolResult) {}

func assistantUsage(id, model string, in, cw, cr, out int64) []byte {
	return fmt.Appendf(nil, `{"type":"assistant","message":{"id":%q,"model":%q,"content":[],"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":%d}}}`,
		id, model, in, cw, cr, out)
}

// TestByModelTiers: a request whose input (input, cache writes and cache
// reads) is 200,000 tokens is standard, one of 200,001 long; each API
// message counts once, by its last line, however its lines change tier.
func TestByModelTiers(t *testing.T) {
	p := NewProcessor(nop{})
	p.Line(assistantUsage("m1", "claude-sonnet-4-20250514", 10, 90_000, 109_990, 5), 0) // 200,000
	p.Line(assistantUsage("m2", "claude-sonnet-4-20250514", 1, 0, 1, 1), 0)
	p.Line(assistantUsage("m2", "claude-sonnet-4-20250514", 11, 90_000, 109_990, 7), 0) // m2's last line: 200,001
	p.Line(assistantUsage("m3", "claude-haiku-4-5", 1, 2, 3, 4), 0)
	f := p.Totals()
	got := fmt.Sprint(f.UsageKind, " ", f.ByModel)
	want := "messages [{claude-haiku-4-5 standard 1 {1 4 2 3 0} 0 false} " +
		"{claude-sonnet-4-20250514 standard 1 {10 5 90000 109990 0} 0 false} " +
		"{claude-sonnet-4-20250514 long 1 {11 7 90000 109990 0} 0 false}]"
	if got != want {
		t.Errorf("by model:\n got %s\nwant %s", got, want)
	}
	gen := f.UsageGen
	if p.Totals(); p.UsageGen() != gen {
		t.Errorf("usage changed without a line")
	}
}

// TestByModelOneRule: a result line's modelUsage, where given, is the
// session's usage by model, whether or not the result line has usage too;
// the messages do not count beside it.
func TestByModelOneRule(t *testing.T) {
	for _, withUsage := range []bool{false, true} {
		p := NewProcessor(nop{})
		p.Line(assistantUsage("m1", "claude-opus-4-5", 3, 0, 301, 31), 0)
		usage := ""
		if withUsage {
			usage = `"usage":{"input_tokens":3,"output_tokens":31},`
		}
		p.Line([]byte(`{"type":"result","subtype":"success","session_id":"a",`+usage+
			`"modelUsage":{"claude-opus-4-5":{"inputTokens":3,"outputTokens":30,"cacheReadInputTokens":300,"cacheCreationInputTokens":0,"costUSD":0.25}}}`), 0)
		f := p.Totals()
		got := fmt.Sprint(f.UsageKind, " ", f.ByModel)
		if want := "result [{claude-opus-4-5 standard 0 {3 30 0 300 0} 0.25 true}]"; got != want {
			t.Errorf("result usage %v:\n got %s\nwant %s", withUsage, got, want)
		}
	}
}
