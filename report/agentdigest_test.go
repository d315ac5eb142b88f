package report

import (
	"testing"

	"github.com/convlog/convlog/record"
)

func TestAgentMessageDigest(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{`{"type":"init","timestamp":"x","session_id":"s1","model":"auto"}`, "model auto, session s1"},
		{`{"type":"message","role":"assistant","content":"Hi\nthere","delta":true}`, `assistant: Hi\nthere`},
		{`{"type":"tool_use","tool_name":"read_file","tool_id":"r1","parameters":{"file_path":"/a"}}`, `tool_use read_file {"file_path":"/a"}`},
		{`{"type":"tool_result","tool_id":"r1","status":"error","output":"x","error":{"type":"t","message":"not found"}}`, "tool_result r1 (error): not found"},
		{`{"type":"error","severity":"warning","message":"Loop detected"}`, "warning Loop detected"},
		{`{"type":"thread.started","thread_id":"019a"}`, "thread 019a"},
		{`{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":4,"output_tokens":2}}`, "10 input tokens, 4 cached input tokens, 2 output tokens"},
		{`{"type":"turn.failed","error":{"message":"quota"}}`, "error: quota"},
		{`{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"bash -lc ls","aggregated_output":"a\n","exit_code":0,"status":"completed"}}`,
			`command bash -lc ls (completed, exit 0): a\n`},
		{`{"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"/a","kind":"add"}],"status":"completed"}}`, "file_change (completed): add /a"},
		{`{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"done"}}`, "agent_message: done"},
		{`{"type":"tool_call","subtype":"completed","call_id":"c","tool_call":{"readToolCall":{"args":{"path":"/a"},"result":{"success":{"content":"x"}}},"startedAtMs":"1"}}`,
			`completed read {"path":"/a"} → success`},
		{`{"type":"thinking","subtype":"delta","text":"hmm","session_id":"s"}`, "thinking: hmm"},
		{`{"type":"tool_use","timestamp":1,"sessionID":"o","part":{"callID":"c","tool":"bash","state":{"status":"completed","input":{"command":"ls"},"output":"a"}}}`,
			`tool_use bash {"command":"ls"} (completed): a`},
		{`{"type":"step_finish","timestamp":1,"sessionID":"o","part":{"reason":"stop","tokens":{"input":5,"output":7}}}`, "stop, 5 input, 7 output tokens"},
		{`{"type":"text","timestamp":1,"sessionID":"o","part":{"text":"ok"}}`, "text: ok"},
		{`{"type":"error","sessionID":"o","error":{"name":"ProviderAuthError","data":{"message":"no key"}}}`, "no key"},
		// Codex's session files: the instructions are left out.
		{`{"timestamp":"t","type":"session_meta","payload":{"id":"019e","cwd":"/w","cli_version":"0.125.0","base_instructions":{"text":"You are Codex"}}}`, "session 019e, Codex 0.125.0, /w"},
		{`{"timestamp":"t","type":"turn_context","payload":{"cwd":"/w","model":"gpt-5.5","summary":"auto"}}`, "model gpt-5.5"},
		{`{"timestamp":"t","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_text","text":"b"}]}}`, "user: a | b"},
		{`{"timestamp":"t","type":"response_item","payload":{"type":"reasoning","summary":[],"encrypted_content":"gAAA"}}`, "reasoning (encrypted)"},
		{`{"timestamp":"t","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"ls\"}","call_id":"c1"}}`, `call exec_command {"cmd":"ls"}`},
		{`{"timestamp":"t","type":"response_item","payload":{"type":"function_call_output","call_id":"c1","output":"Exit code: 0\nOutput:\na"}}`, `output c1: Exit code: 0\nOutput:\na`},
		{`{"timestamp":"t","type":"event_msg","payload":{"type":"exec_command_end","call_id":"c1","exit_code":2,"aggregated_output":"no"}}`, "command ended c1 (exit 2): no"},
		{`{"timestamp":"t","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":10,"cached_input_tokens":4,"output_tokens":2}}}}`,
			"session total: 10 input tokens, 4 cached input tokens, 2 output tokens"},
		{`{"timestamp":"t","type":"event_msg","payload":{"type":"agent_message","message":"done"}}`, "agent: done"},
		{`{"timestamp":"t","type":"event_msg","payload":{"type":"turn_aborted","reason":"interrupted"}}`, "turn aborted: interrupted"},
	} {
		if got := MessageDigest(&record.Message{Raw: []byte(c.raw)}); got != c.want {
			t.Errorf("digest of %s\n got %q\nwant %q", c.raw, got, c.want)
		}
	}
}
