package stream

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// Agent is the coding agent whose machine-readable output a stream is: its
// shape decides how lines become messages, tool calls and session facts.
type Agent uint8

// The agents whose streams convlog maps. AgentUnknown is a stream whose
// format is not (yet) known: its lines are stored, read as Claude Code's.
const (
	AgentUnknown  Agent = iota
	AgentClaude         // claude -p --output-format stream-json, and Claude Code's transcripts
	AgentGemini         // gemini -p --output-format stream-json
	AgentCodex          // codex exec --json (both the current and the pre-0.44 shape)
	AgentCursor         // cursor-agent -p --output-format stream-json
	AgentOpencode       // opencode run --format json
)

// FormatNames are the values of --format, in Agent order from AgentClaude.
var FormatNames = []string{"claude", "gemini", "codex", "cursor", "opencode"}

// String is the agent's name as sessions.agent stores it; "" when unknown.
func (a Agent) String() string {
	switch a {
	case AgentClaude:
		return "claude-code"
	case AgentGemini:
		return "gemini-cli"
	case AgentCodex:
		return "codex"
	case AgentCursor:
		return "cursor"
	case AgentOpencode:
		return "opencode"
	}
	return ""
}

// SourceFormat is what sessions.source_format says of the agent's stream.
// Claude Code's is "stream-json", as before other agents were known.
func (a Agent) SourceFormat() string {
	switch a {
	case AgentGemini:
		return "gemini-stream-json"
	case AgentCodex:
		return "codex-json"
	case AgentCursor:
		return "cursor-stream-json"
	case AgentOpencode:
		return "opencode-json"
	}
	return FormatStreamJSON
}

// ParseFormat reads a value of --format: one of FormatNames, or an agent's
// name as String gives it. "" and "auto" mean: detect it.
func ParseFormat(s string) (Agent, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return AgentUnknown, nil
	case "claude", "claude-code":
		return AgentClaude, nil
	case "gemini", "gemini-cli":
		return AgentGemini, nil
	case "codex":
		return AgentCodex, nil
	case "cursor", "cursor-agent":
		return AgentCursor, nil
	case "opencode":
		return AgentOpencode, nil
	}
	return AgentUnknown, fmt.Errorf("unknown format %q: use one of %s", s, strings.Join(FormatNames, ", "))
}

// Classify says which agent wrote a line, when the line alone tells: the
// first lines of each agent's stream do (a Claude or Cursor system/init,
// Gemini's init, Codex's thread.started or its older config line,
// opencode's envelope). Lines that several agents share in shape (a bare
// user or result line) give AgentUnknown.
func Classify(line []byte) Agent {
	var p fastjson.Parser
	v, err := p.ParseBytes(line)
	if err != nil || v.Type() != fastjson.TypeObject {
		return AgentUnknown
	}
	return classify(v, str(v, "type"))
}

func classify(v *fastjson.Value, typ string) Agent {
	switch typ {
	case "system":
		if str(v, "subtype") != "init" {
			return AgentUnknown
		}
		// Claude Code's init lists its tools and version; Cursor's has the
		// same few keys as Claude's otherwise, without those.
		if !v.Exists("tools") && !v.Exists("claude_code_version") && !v.Exists("mcp_servers") &&
			(v.Exists("apiKeySource") || v.Exists("permissionMode")) {
			return AgentCursor
		}
		return AgentClaude
	case "assistant", "user":
		if v.Exists("timestamp_ms") || v.Exists("model_call_id") {
			return AgentCursor
		}
		if isObject(v.Get("message")) {
			return AgentClaude
		}
	case "file-history-snapshot":
		// Claude Code's checkpoints of the files it edits, in its
		// transcripts.
		if isObject(v.Get("snapshot")) {
			return AgentClaude
		}
	case "summary":
		// A title of Claude Code's for the conversation that leads to
		// leafUuid.
		if v.Exists("leafUuid") {
			return AgentClaude
		}
	case "tool_call":
		if v.Exists("call_id") {
			return AgentCursor
		}
	case "thinking":
		if v.Exists("session_id") {
			return AgentCursor
		}
	case "result":
		switch {
		case v.Exists("total_cost_usd"), v.Exists("cost_usd"), v.Exists("num_turns"), v.Exists("modelUsage"):
			return AgentClaude
		case isObject(v.Get("stats")) || v.Get("status") != nil && v.Get("status").Type() == fastjson.TypeString:
			return AgentGemini
		case v.Exists("request_id"), isObject(v.Get("usage")) && v.Exists("usage", "inputTokens"):
			return AgentCursor
		}
	case "init":
		if v.Exists("session_id") {
			return AgentGemini
		}
	case "message":
		switch c := v.Get("content"); {
		case c != nil && c.Type() == fastjson.TypeArray:
			// Codex's session files before the payload envelope: the
			// model's items as they are, their content in blocks.
			if v.Exists("role") {
				return AgentCodex
			}
		case v.Exists("role"):
			return AgentGemini
		}
	case "function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output", "local_shell_call":
		if v.Exists("call_id") {
			return AgentCodex // the same, older session files
		}
	case "tool_use":
		switch {
		case v.Exists("tool_id"):
			return AgentGemini
		case isObject(v.Get("part")):
			return AgentOpencode
		}
	case "tool_result":
		if v.Exists("tool_id") {
			return AgentGemini
		}
	case "error":
		switch {
		case v.Exists("severity"):
			return AgentGemini
		case v.Exists("sessionID"):
			return AgentOpencode
		case v.Exists("message") && v.GetObject().Len() == 2:
			return AgentCodex
		}
	case "step_start", "step_finish", "text", "reasoning":
		if isObject(v.Get("part")) {
			return AgentOpencode
		}
	case "gemini":
		if chatMessage(v, typ) {
			return AgentGemini // a message of Gemini CLI's saved chats
		}
	case "":
		if chatHeader(v) {
			return AgentGemini // the first line of a saved chat (ChatLines)
		}
		if geminiJSON(v) {
			return AgentGemini // gemini -p --output-format json
		}
		// Codex before 0.44: a config summary, the prompt, then {id, msg}
		// envelopes. Claude Code's transcripts always have a type.
		switch {
		case isObject(v.Get("msg")) && v.Exists("msg", "type"):
			return AgentCodex
		case v.Exists("sandbox") && (v.Exists("approval") || v.Exists("workdir") || v.Exists("model")):
			return AgentCodex
		case v.Exists("record_type"), olderRolloutMeta(v):
			// Codex's session files before the payload envelope: a line
			// of the session's id, time, instructions and git state, then
			// the model's items between {"record_type":"state"} lines.
			return AgentCodex
		}
	default:
		if strings.HasPrefix(typ, "thread.") || strings.HasPrefix(typ, "turn.") || strings.HasPrefix(typ, "item.") {
			return AgentCodex
		}
		if RolloutType(typ) && isObject(v.Get("payload")) {
			return AgentCodex // Codex's session files (rollouts)
		}
	}
	if v.Exists("parentUuid") || v.Exists("isSidechain") {
		return AgentClaude
	}
	return AgentUnknown
}

// claudeTypes are the types of the lines that make up nearly all of a
// Claude Code stream: a stream known to be Claude's is not classified again
// on these, so that its lines cost no more than before other agents.
func claudeHot(typ string) bool {
	return typ == "assistant" || typ == "user" || typ == "stream_event"
}

func isObject(v *fastjson.Value) bool {
	return v != nil && v.Type() == fastjson.TypeObject
}

// lineTime is a line's own time in Unix ms, 0 when it has none: ISO 8601
// in "timestamp" (Claude Code transcripts, Gemini CLI), epoch ms as a number
// in "timestamp" (opencode) or in "timestamp_ms" (Cursor). A Claude Code
// file-history-snapshot has its time in "snapshot".
func lineTime(v *fastjson.Value) int64 {
	t := v.Get("timestamp")
	if t == nil {
		t = v.Get("snapshot", "timestamp")
	}
	if t != nil {
		switch t.Type() {
		case fastjson.TypeString:
			return parseTime(t.GetStringBytes())
		case fastjson.TypeNumber:
			return msNumber(t)
		}
	}
	if t := v.Get("timestamp_ms"); t != nil {
		return msNumber(t)
	}
	return 0
}

// msNumber reads epoch milliseconds written as a number or a string of
// digits; 0 when it is neither, or not a plausible time.
func msNumber(t *fastjson.Value) int64 {
	var n int64
	switch t.Type() {
	case fastjson.TypeNumber:
		f, err := t.Float64()
		if err != nil || f != f || f < 1 || f > 1e15 {
			return 0
		}
		n = int64(f)
	case fastjson.TypeString:
		var err error
		if n, err = strconv.ParseInt(string(t.GetStringBytes()), 10, 64); err != nil {
			return 0
		}
	default:
		return 0
	}
	if n < 1 || n > 1e15 {
		return 0
	}
	return n
}

// jsonText renders a value for a text column: a string as is, anything
// else as its JSON; nil for a missing value. The result is appended to buf.
func jsonText(buf []byte, v *fastjson.Value) []byte {
	if v == nil {
		return nil
	}
	if v.Type() == fastjson.TypeString {
		return append(buf, v.GetStringBytes()...)
	}
	return v.MarshalTo(buf)
}
