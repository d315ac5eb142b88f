package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/convlog/convlog/record"
)

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello", 0, "hello"},
		{"hello world", 5, "hello… [+6 chars]"},
		{"日本語のテキスト", 3, "日本語… [+5 chars]"},
		{"😀😀😀", 2, "😀😀… [+1 chars]"},
	} {
		if got := Clip(c.in, c.n); got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain ünïcode 日本":     "plain ünïcode 日本",
		"a\nb\tc\r\n":          `a\nb\tc\r\n`,
		"\x1b[31mred\x1b[0m":   `\x1b[31mred\x1b[0m`,
		"bell\x07 del\x7f":     `bell\a del\x7f`,
		"c1 \u009b line\u2028": `c1 \u009b line\u2028`,
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func str(s string) *string { return &s }

func TestMessageDigest(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{`{"type":"system","subtype":"init","model":"m1","cwd":"/p","tools":["Bash","Read"],"claude_code_version":"2.1"}`,
			"model m1, cwd /p, 2 tools, version 2.1"},
		{`{"type":"system","subtype":"hook_response","hook_name":"SessionStart:startup","exit_code":0,"outcome":"success"}`,
			"SessionStart:startup, exit 0, success"},
		{`{"type":"system","subtype":"compact_boundary","compact_metadata":{"trigger":"manual","pre_tokens":1234}}`,
			"trigger manual, 1234 tokens before"},
		{`{"type":"system","subtype":"status","status":"requesting"}`, "requesting"},
		{`{"type":"assistant","message":{"content":[{"type":"text","text":"Hi\nthere"},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls","z":1,"a":"<b>"}}]}}`,
			`text: Hi\nthere | tool_use Bash {"command":"ls","z":1,"a":"<b>"}`},
		{`{"type":"assistant","aborted":true,"message":{"content":[{"type":"thinking","thinking":""},{"type":"text","text":"1"}]}}`,
			"(aborted) thinking | text: 1"},
		{`{"type":"user","message":{"role":"user","content":"do it"}}`, "text: do it"},
		{`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"a"},{"type":"image"}],"is_error":true}]}}`,
			`tool_result t1 (error): a\n[image]`},
		{`{"type":"result","subtype":"success","is_error":false,"num_turns":2,"duration_ms":4109,"total_cost_usd":0.462392,"result":"hello"}`,
			"2 turns, 4109ms, $0.4624: hello"},
		{`{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":1,"cost_usd":0,"errors":["boom",{"x":1}]}`,
			`is_error, 1 turn, $0.0000: errors: boom; {"x":1}`},
		{`{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"ello"}}}`,
			"content_block_delta text_delta: ello"},
		{`{"type":"stream_event","event":{"type":"content_block_start","content_block":{"type":"tool_use","name":"Read"}}}`,
			"content_block_start tool_use Read"},
		{`{"type":"summary","summary":"Fixing tests","leafUuid":"x"}`, "summary: Fixing tests"},
		// Claude Code 2.1's notes beside the conversation: a line each, not
		// their JSON (a skill listing is several KB of it).
		{`{"type":"permission-mode","permissionMode":"acceptEdits","sessionId":"s"}`, "permission mode acceptEdits"},
		{`{"type":"file-history-snapshot","messageId":"m","snapshot":{"messageId":"m","trackedFileBackups":{"a.go":{"version":1},"b.go":{"version":2}},"timestamp":"t"},"isSnapshotUpdate":true}`,
			"file history snapshot: 2 files (update)"},
		{`{"type":"last-prompt","lastPrompt":"fix it","sessionId":"s"}`, "last prompt: fix it"},
		{`{"type":"attachment","attachment":{"type":"hook_success","hookName":"SessionStart:startup","hookEvent":"SessionStart","content":"","stdout":"started","stderr":"","exitCode":0,"command":"hooks/start.sh","durationMs":1203},"uuid":"u"}`,
			"attachment hook_success SessionStart:startup (hooks/start.sh, exit 0): started"},
		{`{"type":"attachment","attachment":{"type":"hook_additional_context","content":["session registered"],"hookName":"SessionStart","hookEvent":"SessionStart"}}`,
			`attachment hook_additional_context SessionStart: ["session registered"]`},
		{`{"type":"attachment","attachment":{"type":"deferred_tools_delta","addedNames":["Cron","Monitor"],"addedLines":["Cron","Monitor"],"removedNames":[]}}`,
			"attachment deferred_tools_delta: 2 tools added, 0 removed"},
		{`{"type":"attachment","attachment":{"type":"skill_listing","content":"- update-config: …","skillCount":25,"isInitial":true}}`, "attachment skill_listing: 25 skills"},
		{`{"type":"attachment","attachment":{"type":"task_reminder","content":[{"id":"1"}],"itemCount":6}}`, "attachment task_reminder: 6 items"},
		{`{"type":"rate_limit_event","uuid":"u","session_id":"s","rate_limit_info":{"status":"allowed"}}`,
			`{"rate_limit_info":{"status":"allowed"}}`},
		{`>>> not json`, ">>> not json"},
		{`[1,2]`, "[1,2]"},
		{"{\"type\":\"user\",\"message\":{\"content\":\"caf\xe9\"}}", "text: caf\uFFFD"},
		{"{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"\\u001b[2J\"}]}}", `text: \x1b[2J`},
	} {
		got := MessageDigest(&record.Message{Raw: []byte(c.raw)})
		if got != c.want {
			t.Errorf("digest of %s\n got %q\nwant %q", c.raw, got, c.want)
		}
	}
}

func TestMessageJSON(t *testing.T) {
	ts := int64(1767323045000)
	for _, c := range []struct {
		raw     string
		utf8    bool
		isValue string // what raw_message must decode to, as JSON
	}{
		{`{"type":"user","b":1,"a":"<x>"}`, true, `{"type":"user","b":1,"a":"<x>"}`},
		{"{\"type\":\"user\"}\r", true, `{"type":"user"}`},
		{`>>> hi`, true, `">>> hi"`},
		{`42`, true, `"42"`},
		{"", true, `""`},
		{"{\"type\":\"user\",\"t\":\"caf\xe9\"}", false, "{\"type\":\"user\",\"t\":\"caf\uFFFD\"}"},
		{"bad \xff\xfe bytes", false, "\"bad \uFFFD bytes\""},
	} {
		m := &record.Message{ID: "s-msg-0", Raw: []byte(c.raw), Timestamp: &ts, Type: str("user")}
		var b bytes.Buffer
		if err := WriteJSON(&b, MessageOf(m)); err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(b.Bytes()) || !json.Valid(b.Bytes()) {
			t.Fatalf("not valid UTF-8 JSON for %q: %s", c.raw, b.Bytes())
		}
		var got struct {
			RawUTF8    bool            `json:"raw_utf8"`
			RawMessage json.RawMessage `json:"raw_message"`
			Time       string          `json:"time"`
		}
		json.Unmarshal(b.Bytes(), &got)
		var compact bytes.Buffer
		json.Compact(&compact, got.RawMessage)
		if got.RawUTF8 != c.utf8 || compact.String() != c.isValue || got.Time != "2026-01-02T03:04:05.000Z" {
			t.Errorf("%q: raw_utf8 %v, raw_message %s, time %s", c.raw, got.RawUTF8, compact.String(), got.Time)
		}
		if strings.Contains(b.String(), `\u003c`) {
			t.Errorf("HTML-escaped: %s", b.String())
		}
	}
}

func TestToolCallJSONInput(t *testing.T) {
	for in, want := range map[string]string{
		`{"command":"ls"}`: `{"command":"ls"}`,
		`not json`:         `"not json"`,
	} {
		j := ToolCallOf(&record.ToolCall{ID: "t", ToolInput: &in})
		b, _ := json.Marshal(j.ToolInput)
		if string(b) != want {
			t.Errorf("tool_input of %q: %s", in, b)
		}
	}
	j := ToolCallOf(&record.ToolCall{ID: "t"})
	if string(j.ToolInput) != "null" {
		t.Errorf("missing input: %s", j.ToolInput)
	}
}

func TestDoc(t *testing.T) {
	var b bytes.Buffer
	d := NewDoc(&b)
	d.Member("session", map[string]any{"id": "x", "n": []int{1}})
	d.Begin("messages")
	d.End()
	d.Begin("tool_calls")
	d.Item(map[string]string{"a": "<b>"})
	d.Item(2)
	d.End()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	want := `{
  "session": {
    "id": "x",
    "n": [
      1
    ]
  },
  "messages": [],
  "tool_calls": [
    {
      "a": "<b>"
    },
    2
  ]
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	var empty bytes.Buffer
	NewDoc(&empty).Close()
	if empty.String() != "{}\n" {
		t.Errorf("empty doc %q", empty.String())
	}
}

func TestSummaryColour(t *testing.T) {
	end := int64(2000)
	s := &record.Session{ID: "c", StartedAt: &end, IsError: func() *bool { b := true; return &b }()}
	var plain, colour bytes.Buffer
	NewText(&plain, false).Summary(s)
	NewText(&colour, true).Summary(s)
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("colour without asking: %q", plain.String())
	}
	for _, want := range []string{"\x1b[1m=== Session Summary ===\x1b[0m", "\x1b[33m(incomplete", "\x1b[31mnone yet"} {
		if !strings.Contains(colour.String(), want) {
			t.Errorf("coloured summary lacks %q:\n%q", want, colour.String())
		}
	}
}

func TestSubAgentAndTranscriptWording(t *testing.T) {
	yes := true
	m := &record.Message{Raw: []byte(`{"type":"assistant","message":{"content":[{"type":"text","text":"found 3"}]}}`), IsSidechain: &yes}
	if got := MessageDigest(m); got != "(sub-agent) text: found 3" {
		t.Errorf("sidechain: %q", got)
	}
	m = &record.Message{Raw: m.Raw, ParentToolUseID: str("toolu_task")}
	if got := MessageDigest(m); got != "(sub-agent) text: found 3" {
		t.Errorf("parent_tool_use_id: %q", got)
	}
	end := int64(1)
	for _, c := range []struct {
		s    record.Session
		want string
	}{
		{record.Session{EndedAt: &end, SourceFormat: str("transcript")}, "none (transcripts have no result line)"},
		{record.Session{EndedAt: &end}, "none (stream ended without a result)"},
		{record.Session{}, "none yet (no result line so far)"},
		{record.Session{ResultType: str("result")}, "result"},
		{record.Session{ResultType: str("result"), ResultSubtype: str("error_max_turns")}, "result (error_max_turns)"},
	} {
		if got := ResultText(&c.s); got != c.want {
			t.Errorf("ResultText = %q, want %q", got, c.want)
		}
	}
}
