package record

import "context"

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
