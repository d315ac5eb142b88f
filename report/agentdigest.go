package report

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/convlog/convlog/stream"
)

// agentError is the error object in another agent's lines: a message, or
// opencode's name and data.message. The digests and the Markdown summary
// read it, each preferring its own of the three.
type agentError struct {
	Message string `json:"message"`
	Name    string `json:"name"`
	Data    struct {
		Message string `json:"message"`
	} `json:"data"`
}

// agentLine is the few fields of another agent's lines that digests use.
type agentLine struct {
	Type      string                 `json:"type"`
	Subtype   string                 `json:"subtype"`
	Role      string                 `json:"role"`
	Content   *string                `json:"content"`
	Model     string                 `json:"model"`
	SessionID string                 `json:"session_id"`
	ToolName  string                 `json:"tool_name"`
	ToolID    string                 `json:"tool_id"`
	Params    json.RawMessage        `json:"parameters"`
	Status    string                 `json:"status"`
	Output    *string                `json:"output"`
	Severity  string                 `json:"severity"`
	Message   *string                `json:"message"`
	ThreadID  string                 `json:"thread_id"`
	Text      *string                `json:"text"`
	Error     *agentError            `json:"error"`
	Usage     map[string]json.Number `json:"usage"`
	Stats     map[string]any         `json:"stats"`
	Item      *struct {
		ID       string          `json:"id"`
		Type     string          `json:"type"`
		Text     string          `json:"text"`
		Command  json.RawMessage `json:"command"`
		ExitCode *int64          `json:"exit_code"`
		Status   string          `json:"status"`
		Output   string          `json:"aggregated_output"`
		Changes  []struct {
			Path string `json:"path"`
			Kind string `json:"kind"`
		} `json:"changes"`
		Server  string          `json:"server"`
		Tool    string          `json:"tool"`
		Args    json.RawMessage `json:"arguments"`
		Query   string          `json:"query"`
		Message string          `json:"message"`
	} `json:"item"`
	ToolCall map[string]json.RawMessage `json:"tool_call"`
	Part     *struct {
		Text   string `json:"text"`
		Tool   string `json:"tool"`
		Reason string `json:"reason"`
		Tokens *struct {
			Input  int64 `json:"input"`
			Output int64 `json:"output"`
		} `json:"tokens"`
		State *struct {
			Status string          `json:"status"`
			Input  json.RawMessage `json:"input"`
			Output *string         `json:"output"`
			Error  *string         `json:"error"`
		} `json:"state"`
	} `json:"part"`
}

// agentDigest is the digest of a line of Gemini CLI, Codex, Cursor or
// opencode, of the kinds they alone have; "" for other lines.
func agentDigest(raw []byte, typ string) string {
	switch typ {
	case "init", "message", "tool_use", "tool_result", "error", "thread.started", "turn.completed", "turn.failed",
		"item.started", "item.updated", "item.completed", "tool_call", "thinking", "step_start", "step_finish", "text":
	default:
		return ""
	}
	var l agentLine
	if json.Unmarshal(raw, &l) != nil {
		return ""
	}
	switch typ {
	case "init":
		return strings.TrimSpace(fmt.Sprintf("model %s, session %s", l.Model, l.SessionID))
	case "message":
		if l.Content != nil {
			return l.Role + ": " + *l.Content
		}
	case "tool_use":
		if p := l.Part; p != nil && p.State != nil { // opencode: a finished call
			s := strings.TrimSpace("tool_use " + p.Tool + " " + compactJSON(p.State.Input) + " (" + p.State.Status + ")")
			switch {
			case p.State.Error != nil:
				s += ": " + *p.State.Error
			case p.State.Output != nil:
				s += ": " + *p.State.Output
			}
			return s
		}
		return strings.TrimSpace("tool_use " + l.ToolName + " " + compactJSON(l.Params))
	case "tool_result":
		s := "tool_result " + l.ToolID
		if l.Status != "success" {
			s += " (" + l.Status + ")"
		}
		switch {
		case l.Error != nil && l.Error.Message != "":
			return s + ": " + l.Error.Message
		case l.Output != nil:
			return s + ": " + *l.Output
		}
		return s
	case "error":
		switch {
		case l.Error != nil:
			return cmpOr(l.Error.Data.Message, l.Error.Message, l.Error.Name)
		case l.Message != nil:
			return strings.TrimSpace(l.Severity + " " + *l.Message)
		}
	case "thread.started":
		return "thread " + l.ThreadID
	case "turn.completed":
		var parts []string
		for _, k := range []string{"input_tokens", "cached_input_tokens", "output_tokens"} {
			if v, ok := l.Usage[k]; ok {
				parts = append(parts, v.String()+" "+strings.ReplaceAll(k, "_", " "))
			}
		}
		return strings.Join(parts, ", ")
	case "turn.failed":
		if l.Error != nil {
			return "error: " + l.Error.Message
		}
	case "item.started", "item.updated", "item.completed":
		if it := l.Item; it != nil {
			return codexItemDigest(it.Type, it.Text, it.Command, it.ExitCode, it.Status, it.Output, it.Server, it.Tool, it.Args, it.Query, it.Message, len(it.Changes), func(i int) string {
				return it.Changes[i].Kind + " " + it.Changes[i].Path
			})
		}
	case "tool_call":
		for kind, v := range l.ToolCall {
			if kind == "toolCallId" || kind == "startedAtMs" || kind == "completedAtMs" || kind == "hookAdditionalContexts" {
				continue
			}
			var call struct {
				Args   json.RawMessage            `json:"args"`
				Result map[string]json.RawMessage `json:"result"`
			}
			json.Unmarshal(v, &call)
			s := strings.TrimSpace(l.Subtype + " " + strings.TrimSuffix(kind, "ToolCall") + " " + compactJSON(call.Args))
			for outcome := range call.Result {
				s += " → " + outcome
			}
			return s
		}
	case "thinking", "text":
		if l.Text != nil {
			return typ + ": " + *l.Text
		}
		if l.Part != nil && l.Part.Text != "" {
			return "text: " + l.Part.Text
		}
	case "step_finish":
		if p := l.Part; p != nil {
			s := p.Reason
			if p.Tokens != nil {
				s += fmt.Sprintf(", %d input, %d output tokens", p.Tokens.Input, p.Tokens.Output)
			}
			return strings.TrimPrefix(s, ", ")
		}
	}
	return ""
}

func codexItemDigest(typ, text string, command json.RawMessage, exit *int64, status, output, server, tool string,
	args json.RawMessage, query, message string, changes int, change func(int) string) string {
	switch typ {
	case "agent_message", "reasoning":
		return typ + ": " + text
	case "command_execution":
		var cmd string
		if json.Unmarshal(command, &cmd) != nil {
			cmd = compactJSON(command)
		}
		s := "command " + cmd + " (" + status
		if exit != nil {
			s += fmt.Sprintf(", exit %d", *exit)
		}
		s += ")"
		if output != "" {
			s += ": " + output
		}
		return s
	case "file_change":
		parts := make([]string, changes)
		for i := range parts {
			parts[i] = change(i)
		}
		return "file_change (" + status + "): " + strings.Join(parts, ", ")
	case "mcp_tool_call":
		return strings.TrimSpace("mcp " + server + "." + tool + " " + compactJSON(args) + " (" + status + ")")
	case "web_search":
		return "web_search " + query
	case "error":
		return "warning: " + message
	}
	return typ
}

// rolloutLine is the few fields of a line of Codex's session files
// (rollouts) that digests use: everything is in payload.
type rolloutLine struct {
	Payload struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		CWD        string          `json:"cwd"`
		CLIVersion string          `json:"cli_version"`
		Model      string          `json:"model"`
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		Summary    json.RawMessage `json:"summary"` // a reasoning's blocks; turn_context's setting
		Name       string          `json:"name"`
		Arguments  string          `json:"arguments"`
		Input      string          `json:"input"`
		CallID     string          `json:"call_id"`
		Output     json.RawMessage `json:"output"`
		Status     string          `json:"status"`
		Action     struct {
			Query string `json:"query"`
		} `json:"action"`
		Message  string `json:"message"`
		Text     string `json:"text"`
		Reason   string `json:"reason"`
		ExitCode *int64 `json:"exit_code"`
		Info     *struct {
			Total map[string]json.Number `json:"total_token_usage"`
		} `json:"info"`
		AggregatedOutput string `json:"aggregated_output"`
	} `json:"payload"`
}

// chatDigest is the digest of a line of a chat Gemini CLI saved (see
// stream.ChatLines), "" for other lines.
func chatDigest(raw []byte, typ string) string {
	var l struct {
		Response  *string         `json:"response"` // gemini -p --output-format json
		ID        *string         `json:"id"`
		SessionID string          `json:"sessionId"`
		Project   string          `json:"projectHash"`
		Content   json.RawMessage `json:"content"`
		Model     string          `json:"model"`
		Thoughts  []struct {
			Subject string `json:"subject"`
		} `json:"thoughts"`
		ToolCalls []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"toolCalls"`
	}
	if json.Unmarshal(raw, &l) != nil {
		return ""
	}
	if typ == "" && l.Response != nil {
		return "response: " + *l.Response
	}
	if typ == "" || typ == "session" {
		// The first line, which has no type of its own.
		if l.SessionID == "" || l.Project == "" {
			return ""
		}
		return "session " + l.SessionID
	}
	if l.ID == nil || len(l.Content) == 0 {
		return ""
	}
	var text string
	if json.Unmarshal(l.Content, &text) != nil {
		text = strings.Join(blockTexts(l.Content), " ") // newer versions' parts
	}
	switch typ {
	case "user", "info", "error", "warning":
		return typ + ": " + text
	case "gemini":
		s := "gemini: " + text
		if text == "" && len(l.Thoughts) > 0 {
			s = "gemini (thinking): " + l.Thoughts[len(l.Thoughts)-1].Subject
		}
		for _, c := range l.ToolCalls {
			s += " → " + c.Name + " (" + c.Status + ")"
		}
		return s
	}
	return ""
}

// rolloutDigest is the digest of a line of Codex's session files, "" for
// other lines. Only what a reader needs of the long ones: the session's
// instructions are left out of session_meta, whose digest is its id,
// version and folder.
func rolloutDigest(raw []byte, typ string) string {
	if !stream.RolloutType(typ) {
		return ""
	}
	var l rolloutLine
	if json.Unmarshal(raw, &l) != nil {
		return ""
	}
	p := &l.Payload
	switch typ {
	case "session_meta":
		return strings.TrimSpace(fmt.Sprintf("session %s, Codex %s, %s", p.ID, p.CLIVersion, p.CWD))
	case "turn_context":
		return "model " + p.Model
	case "compacted":
		return "compacted: " + p.Message
	}
	switch p.Type {
	case "message":
		return p.Role + ": " + strings.Join(blockTexts(p.Content), " | ")
	case "reasoning":
		if texts := blockTexts(p.Summary); len(texts) > 0 {
			return "reasoning: " + strings.Join(texts, " | ")
		}
		return "reasoning (encrypted)"
	case "function_call":
		return strings.TrimSpace("call " + p.Name + " " + p.Arguments)
	case "custom_tool_call":
		return strings.TrimSpace("call " + p.Name + " " + p.Input)
	case "function_call_output", "custom_tool_call_output":
		var out string
		if json.Unmarshal(p.Output, &out) != nil {
			out = compactJSON(p.Output)
		}
		return "output " + p.CallID + ": " + out
	case "web_search_call":
		return "web search " + p.Action.Query
	case "user_message", "agent_message":
		return strings.TrimSuffix(p.Type, "_message") + ": " + p.Message
	case "agent_reasoning":
		return "reasoning: " + p.Text
	case "exec_command_end":
		s := "command ended " + p.CallID
		if p.ExitCode != nil {
			s += fmt.Sprintf(" (exit %d)", *p.ExitCode)
		}
		return s + ": " + p.AggregatedOutput
	case "token_count":
		if p.Info == nil {
			return "token_count"
		}
		var parts []string
		for _, k := range []string{"input_tokens", "cached_input_tokens", "output_tokens"} {
			if v, ok := p.Info.Total[k]; ok {
				parts = append(parts, v.String()+" "+strings.ReplaceAll(k, "_", " "))
			}
		}
		return "session total: " + strings.Join(parts, ", ")
	case "turn_aborted":
		return "turn aborted: " + p.Reason
	case "error":
		return "error: " + p.Message
	}
	return p.Type
}

// blockTexts is the text of each block of a list, [{"text": …}, …].
func blockTexts(raw json.RawMessage) []string {
	var blocks []struct {
		Text string `json:"text"`
	}
	json.Unmarshal(raw, &blocks)
	texts := make([]string, len(blocks))
	for i, b := range blocks {
		texts[i] = b.Text
	}
	return texts
}
