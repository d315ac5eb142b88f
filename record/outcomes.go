package record

import (
	"context"
	"strconv"
)

// ToolOutcomes hands fn the session's tool calls like ToolCalls, but without
// their tool_input and tool_output, which are most of a file's bytes and
// which a summary does not show: Error says why a call failed.
func (r *Reader) ToolOutcomes(ctx context.Context, sessionID string, fn func(*ToolCall) error) error {
	have := r.cols["tool_calls"]
	if !have["session_id"] {
		return nil
	}
	light := make(map[string]bool, len(have))
	for name := range have {
		light[name] = name != "tool_input" && name != "tool_output"
	}
	list, cols := selectList(light, toolCallColumns)
	order := "rowid"
	if have["sequence"] {
		order = "sequence, rowid"
	}
	return each(ctx, r.tx, "SELECT "+list+" FROM tool_calls WHERE session_id = ? ORDER BY "+order, cols, fn, sessionID)
}

// LastMessage is the session's last message of the given type (the final
// "result" line, say), or nil when it has none.
func (r *Reader) LastMessage(ctx context.Context, sessionID, typ string) (*Message, error) {
	have := r.cols["messages"]
	if !have["session_id"] || !have["type"] {
		return nil, nil
	}
	list, cols := selectList(have, messageColumns)
	order := "rowid DESC"
	if have["sequence"] {
		order = "sequence DESC, rowid DESC"
	}
	var last *Message
	err := each(ctx, r.tx, "SELECT "+list+" FROM messages WHERE session_id = ? AND type = ? ORDER BY "+order+" LIMIT 1",
		cols, func(m *Message) error { last = m; return nil }, sessionID, typ)
	return last, err
}

// finalLimit bounds the lines a final answer is put together from (Gemini
// CLI streams its answer as deltas).
const finalLimit = 5000

// FinalMessages are the messages that hold the session's outcome, in
// sequence order: Claude Code's and Cursor's last result line; Gemini CLI's
// answer (the assistant's deltas after its last tool call) and its last
// result line; Codex's last agent message and its last turn.failed,
// task_complete or error; opencode's last text parts and its last error.
// None when the session has none of them.
func (r *Reader) FinalMessages(ctx context.Context, s *Session) ([]*Message, error) {
	have := r.cols["messages"]
	if !have["session_id"] || !have["type"] || !have["sequence"] {
		m, err := r.LastMessage(ctx, s.ID, "result")
		if m == nil || err != nil {
			return nil, err
		}
		return []*Message{m}, nil
	}
	agent := ""
	if s.Agent != nil {
		agent = *s.Agent
	}
	list, cols := selectList(have, messageColumns)
	var q string
	switch agent {
	case "gemini-cli":
		if s.SourceFormat != nil && *s.SourceFormat == "gemini-chat" {
			// A saved chat: the model's last turn with text, and an error
			// the CLI noted after it (an API error).
			q = `SELECT ` + list + ` FROM messages WHERE session_id = ?1 AND sequence IN (
				SELECT max(sequence) FROM messages WHERE session_id = ?1 AND type = 'gemini'
					AND CASE WHEN json_valid(raw_message) THEN json_extract(raw_message, '$.content') END <> ''
				UNION ALL
				SELECT max(sequence) FROM messages WHERE session_id = ?1 AND type = 'error'
					AND sequence > coalesce((SELECT max(sequence) FROM messages WHERE session_id = ?1 AND type = 'gemini'), -1))
				ORDER BY sequence`
			break
		}
		q = `SELECT ` + list + ` FROM messages WHERE session_id = ?1 AND sequence IN (
			SELECT sequence FROM messages WHERE session_id = ?1 AND type = 'message' AND subtype = 'assistant'
				AND sequence > coalesce((SELECT max(sequence) FROM messages WHERE session_id = ?1
					AND type IN ('tool_use', 'tool_result', 'init')), -1)
				ORDER BY sequence DESC LIMIT ` + strconv.Itoa(finalLimit) + `)
			OR sequence = (SELECT max(sequence) FROM messages WHERE session_id = ?1 AND type = 'result')
			ORDER BY sequence`
	case "codex":
		q = `SELECT ` + list + ` FROM messages WHERE session_id = ?1 AND (
			sequence = (SELECT max(sequence) FROM messages WHERE session_id = ?1 AND type = 'item.completed' AND subtype = 'agent_message')
			OR sequence = (SELECT max(sequence) FROM messages WHERE session_id = ?1 AND type IN ('turn.failed', 'task_complete', 'error')))
			ORDER BY sequence`
	case "opencode":
		q = `SELECT ` + list + ` FROM messages WHERE session_id = ?1 AND sequence IN (
			SELECT sequence FROM messages WHERE session_id = ?1 AND type = 'text'
				AND sequence > coalesce((SELECT max(sequence) FROM messages WHERE session_id = ?1 AND type = 'step_start'), -1)
				ORDER BY sequence DESC LIMIT ` + strconv.Itoa(finalLimit) + `)
			OR sequence = (SELECT max(sequence) FROM messages WHERE session_id = ?1 AND type = 'error')
			ORDER BY sequence`
	default:
		m, err := r.LastMessage(ctx, s.ID, "result")
		if m == nil || err != nil {
			return nil, err
		}
		return []*Message{m}, nil
	}
	var out []*Message
	err := each(ctx, r.tx, q, cols, func(m *Message) error { out = append(out, m); return nil }, s.ID)
	return out, err
}
