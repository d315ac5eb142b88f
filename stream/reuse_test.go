package stream

import (
	"reflect"
	"strings"
	"testing"
)

// TestProcessorAfter: a Processor that takes over an earlier one's buffers
// reports exactly what a new one does, whatever the earlier one saw (a
// long line, tool calls left pending, usage), and the earlier one is not
// usable by mistake.
func TestProcessorAfter(t *testing.T) {
	long := `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t9","content":"` + strings.Repeat("z", 1<<20) + `"}]},"session_id":"s0"}`
	lines := []string{initLine, useTwo, result2, "not json", result1,
		`{"type":"result","subtype":"success","is_error":false,"num_turns":2,"total_cost_usd":0.5,"usage":{"input_tokens":7,"output_tokens":3}}`}

	fresh := &recorder{}
	pf := NewProcessor(fresh)
	feed(pf, lines...)

	first := NewProcessor(&recorder{})
	feed(first, initLine, `{"type":"assistant","message":{"id":"msg_9","model":"claude-z","content":[{"type":"tool_use","id":"t9","name":"Bash","input":{"command":"yes"}}],"usage":{"input_tokens":99,"output_tokens":9}},"session_id":"s0"}`, long)
	reused := &recorder{}
	pr := NewProcessorAfter(first, reused)
	feed(pr, lines...)

	if !reflect.DeepEqual(fresh, reused) {
		t.Errorf("told differently:\nfresh  %+v\nreused %+v", fresh, reused)
	}
	if !reflect.DeepEqual(pf.Totals(), pr.Totals()) {
		t.Errorf("totals:\nfresh  %+v\nreused %+v", pf.Totals(), pr.Totals())
	}
	if first.Sink != nil {
		t.Error("the earlier Processor is still set up")
	}
}
