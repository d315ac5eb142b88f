package stream

import (
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// Codex's JSON lines (codex exec --json). Since 0.44: thread.started,
// turn.started/completed/failed, error, and item.started/updated/completed,
// where a tool call is one item whose id repeats from start to completion
// (some kinds arrive completed only); items overlap and complete in any
// order. There are no times, no model and no cost; turn.completed's usage
// is the thread's total so far. Before 0.44: a config line, the prompt,
// then {id, msg} envelopes whose *_begin/*_end events pair on msg.call_id.
// Its own session files are another shape again (codexrollout.go).

type codexState struct {
	legacy bool
	// commands are the calls of a rollout that run a command: the exit
	// code in their output's header is theirs.
	commands map[string]bool
}

func (p *Processor) codexFields(v *fastjson.Value, m *Message) {
	switch {
	case m.Type == "thread.started":
		id := v.GetStringBytes("thread_id")
		p.sessionID(id)
		p.newRun(id)
	case strings.HasPrefix(m.Type, "item."):
		m.Subtype = str(v.Get("item"), "type")
	case RolloutType(m.Type):
		p.codexRolloutFields(v, m)
	case m.Type == "":
		p.codexLegacyFields(v, m)
	}
}

func (p *Processor) codexLine(v *fastjson.Value, m *Message) {
	f := &p.Facts
	if RolloutType(m.Type) {
		p.codexRollout(v, m)
		return
	}
	switch m.Type {
	case "item.started", "item.updated", "item.completed":
		p.codexItem(v.Get("item"), m, m.Type == "item.completed")
	case "turn.completed":
		f.ResultType, f.ResultSubtype, f.IsError = m.Type, "", 0
		if u := v.Get("usage"); isObject(u) {
			// The thread's total so far (not the turn's): the last one of
			// each thread counts, so a resumed thread is not counted twice.
			p.setRunUsage("thread:"+p.runBase, codexUsage(u))
		}
	case "turn.failed":
		f.ResultType, f.ResultSubtype, f.IsError = m.Type, "", 1
	case "function_call", "custom_tool_call", "local_shell_call":
		p.rolloutCall(v, m, m.Type) // an older rollout's items, as they are
	case "function_call_output", "custom_tool_call_output":
		p.rolloutOutput(v, m)
	default:
		if p.codex.legacy {
			if msg := v.Get("msg"); isObject(msg) {
				p.codexLegacy(msg, m)
			}
		}
	}
}

// codexUsage maps Codex's usage onto Claude's: input_tokens includes the
// cached tokens (and those written to the cache, where given).
func codexUsage(u *fastjson.Value) Usage {
	out := Usage{
		Output:        u.GetInt64("output_tokens"),
		CacheRead:     u.GetInt64("cached_input_tokens"),
		CacheCreation: u.GetInt64("cache_write_input_tokens"),
	}
	out.Input = max(u.GetInt64("input_tokens")-out.CacheRead-out.CacheCreation, 0)
	return out
}

// codexItem maps an item that is a tool call. An item seen first at its
// completion is a whole call whose duration is not known.
func (p *Processor) codexItem(item *fastjson.Value, m *Message, completed bool) {
	if !isObject(item) {
		return
	}
	typ := str(item, "type")
	// The first "id" is the item's own: a web_search item has been seen
	// with a second one, the search's.
	raw := item.GetStringBytes("id")
	if len(raw) == 0 {
		return
	}
	var name string
	switch typ {
	case "command_execution":
		name = "Bash"
	case "file_change":
		name = "Edit"
	case "mcp_tool_call":
		name = str(item, "server") + "." + str(item, "tool")
	case "web_search":
		name = "WebSearch"
	case "collab_tool_call":
		// A call to another agent's thread (spawn_agent, send_input,
		// wait, close_agent): Codex's sub-agents.
		name = str(item, "tool")
	default:
		return
	}
	id := p.toolID(raw)
	if !p.known(id) {
		u := ToolUse{ID: id, Name: name, Input: p.codexInput(item, typ), Time: m.Time, MessageSeq: m.Seq}
		if !p.begin(&u, 0) {
			return
		}
		if completed {
			p.unstarted(id)
		}
	}
	if !completed {
		return
	}
	status := str(item, "status")
	r := ToolResult{ID: id, Time: m.Time, MessageSeq: m.Seq, Output: []byte{}}
	switch status {
	case "completed", "":
	case "failed", "declined":
		r.IsError = true
	default:
		// Completed while still running (a turn that ended first): no
		// result, the call stays pending.
		return
	}
	switch typ {
	case "command_execution":
		p.buf = append(p.buf[:0], item.GetStringBytes("aggregated_output")...)
		r.Output = p.buf
		if !p.failExit(&r, exitCode(item.Get("exit_code"))) && r.IsError {
			p.errBuf = append(p.errBuf[:0], status...)
			if len(r.Output) > 0 {
				p.errBuf = append(append(p.errBuf, '\n'), r.Output...)
			}
			r.ErrorText = p.errBuf
		}
	case "file_change":
		p.buf = p.buf[:0]
		for i, c := range item.GetArray("changes") {
			if i > 0 {
				p.buf = append(p.buf, '\n')
			}
			p.buf = append(append(append(p.buf, c.GetStringBytes("kind")...), ' '), c.GetStringBytes("path")...)
		}
		r.Output = p.buf
		if r.IsError {
			r.ErrorText = []byte(status)
		}
	case "mcp_tool_call":
		if res := item.Get("result"); isObject(res) {
			if c := res.Get("content"); c != nil && len(c.GetArray()) > 0 {
				r.Output = p.contentText(c)
			} else if sc := res.Get("structured_content"); sc != nil && sc.Type() != fastjson.TypeNull {
				p.buf = sc.MarshalTo(p.buf[:0])
				r.Output = p.buf
			}
		}
		if e := item.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
			r.IsError = true
			if msg := e.GetStringBytes("message"); msg != nil {
				r.ErrorText = append(p.errBuf[:0], msg...)
			} else {
				r.ErrorText = e.MarshalTo(p.errBuf[:0])
			}
			p.errBuf = r.ErrorText
		} else if r.IsError {
			r.ErrorText = []byte(status)
		}
	case "web_search":
		if r.IsError {
			r.ErrorText = []byte(status)
		}
	case "collab_tool_call":
		// What the agents it named last said, one a line.
		p.buf = p.buf[:0]
		if o := item.GetObject("agents_states"); o != nil {
			o.Visit(func(id []byte, st *fastjson.Value) {
				if len(p.buf) > 0 {
					p.buf = append(p.buf, '\n')
				}
				p.buf = append(append(append(p.buf, id...), ' '), st.GetStringBytes("status")...)
				if msg := st.GetStringBytes("message"); len(msg) > 0 {
					p.buf = append(append(p.buf, ':', ' '), msg...)
				}
			})
		}
		r.Output = p.buf
		if r.IsError {
			r.ErrorText = []byte(status)
		}
	}
	p.complete(&r, 0)
}

// codexInput is a call's input as JSON, shaped as Claude Code's tools take
// theirs where there is one: {"command": …} for a command, the changes for
// a file change, the arguments of an MCP tool, {"query": …} for a search.
func (p *Processor) codexInput(item *fastjson.Value, typ string) []byte {
	b := p.inBuf[:0]
	switch typ {
	case "command_execution":
		b = append(b, `{"command":`...)
		b = commandJSON(b, item.Get("command"))
		b = append(b, '}')
	case "file_change":
		b = append(b, `{"changes":`...)
		b = valueOrNull(b, item.Get("changes"))
		b = append(b, '}')
	case "mcp_tool_call":
		b = valueOrNull(b, item.Get("arguments"))
	case "collab_tool_call":
		b = append(b, `{"prompt":`...)
		b = valueOrNull(b, item.Get("prompt"))
		b = append(b, `,"receiver_thread_ids":`...)
		b = valueOrNull(b, item.Get("receiver_thread_ids"))
		b = append(b, '}')
	case "web_search":
		b = append(b, `{"query":`...)
		b = valueOrNull(b, item.Get("query"))
		if a := item.Get("action"); a != nil {
			b = append(b, `,"action":`...)
			b = a.MarshalTo(b)
		}
		b = append(b, '}')
	}
	p.inBuf = b
	return b
}

func valueOrNull(b []byte, v *fastjson.Value) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return v.MarshalTo(b)
}

// commandJSON writes a command as one JSON string: as it is when it is a
// string, its words joined as a shell would read them when it is argv.
func commandJSON(b []byte, c *fastjson.Value) []byte {
	if c == nil {
		return append(b, "null"...)
	}
	if c.Type() != fastjson.TypeArray {
		return c.MarshalTo(b)
	}
	words := c.GetArray()
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = shellQuote(string(w.GetStringBytes()))
	}
	return strconv.AppendQuote(b, strings.Join(parts, " "))
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// exitCode is v as a command's exit code; 0 when it is not a number.
func exitCode(v *fastjson.Value) int64 {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0
	}
	return v.GetInt64()
}

// failExit marks r failed when a command's exit code is not 0, with the
// code and the output as its error, and says whether it did.
func (p *Processor) failExit(r *ToolResult, code int64) bool {
	if code == 0 {
		return false
	}
	r.IsError = true
	p.errBuf = exitText(p.errBuf[:0], code, r.Output)
	r.ErrorText = p.errBuf
	return true
}

// exitText is a failed command's error: its exit code, then its output.
func exitText(b []byte, code int64, output []byte) []byte {
	b = append(b, "Exit code "...)
	b = strconv.AppendInt(b, code, 10)
	if len(output) > 0 {
		b = append(b, '\n')
		b = append(b, output...)
	}
	return b
}

// codexLegacyFields reads the lines of Codex before 0.44, which have no
// type: the config summary, the prompt, and {id, msg} envelopes whose
// msg.type is the line's type.
func (p *Processor) codexLegacyFields(v *fastjson.Value, m *Message) {
	f := &p.Facts
	if msg := v.Get("msg"); isObject(msg) {
		p.codex.legacy = true
		m.Type = str(msg, "type")
		if m.Type == "session_configured" {
			id := msg.GetStringBytes("session_id")
			p.sessionID(id)
			p.setRun(id)
			if f.InitModel == "" {
				f.InitModel = str(msg, "model")
			}
		}
		return
	}
	if olderRolloutMeta(v) {
		// The first line of an older rollout (codexrollout.go).
		id := v.GetStringBytes("id")
		p.sessionID(id)
		p.newRun(id)
		p.Facts.SourceFormat = "codex-rollout"
		return
	}
	if v.Exists("sandbox") || v.Exists("workdir") {
		p.codex.legacy = true
		p.runs++
		p.Facts.SourceFormat = "codex-legacy-json"
		if f.InitModel == "" {
			f.InitModel = str(v, "model")
		}
		if wd := str(v, "workdir"); wd != "" && !f.cwdFromInit {
			f.CWD, f.cwdFromInit = wd, true
		}
		return
	}
	if pr := v.Get("prompt"); pr != nil && pr.Type() == fastjson.TypeString {
		p.promptText(pr.GetStringBytes())
	}
}

func (p *Processor) codexLegacy(msg *fastjson.Value, m *Message) {
	f := &p.Facts
	callID := msg.GetStringBytes("call_id")
	switch m.Type {
	case "exec_command_begin", "patch_apply_begin", "mcp_tool_call_begin", "web_search_begin":
		if len(callID) == 0 {
			return
		}
		u := ToolUse{ID: p.toolID(callID), Time: m.Time, MessageSeq: m.Seq}
		b := p.inBuf[:0]
		switch m.Type {
		case "exec_command_begin":
			u.Name = "Bash"
			b = commandJSON(append(b, `{"command":`...), msg.Get("command"))
			b = append(b, '}')
		case "patch_apply_begin":
			u.Name = "Edit"
			b = valueOrNull(append(b, `{"changes":`...), msg.Get("changes"))
			b = append(b, '}')
		case "mcp_tool_call_begin":
			inv := msg.Get("invocation")
			u.Name = str(inv, "server") + "." + str(inv, "tool")
			if inv != nil {
				b = valueOrNull(b, inv.Get("arguments"))
			}
		case "web_search_begin":
			u.Name = "WebSearch"
			b = valueOrNull(append(b, `{"query":`...), msg.Get("query"))
			b = append(b, '}')
		}
		p.inBuf = b
		u.Input = b
		p.begin(&u, 0)
	case "exec_command_end", "patch_apply_end", "mcp_tool_call_end", "web_search_end":
		if len(callID) == 0 {
			return
		}
		r := ToolResult{ID: p.toolID(callID), Time: m.Time, MessageSeq: m.Seq}
		switch m.Type {
		case "exec_command_end", "patch_apply_end":
			if agg := msg.GetStringBytes("aggregated_output"); agg != nil {
				p.buf = append(p.buf[:0], agg...)
			} else {
				p.buf = append(p.buf[:0], msg.GetStringBytes("stdout")...)
				if se := msg.GetStringBytes("stderr"); len(se) > 0 {
					if len(p.buf) > 0 && p.buf[len(p.buf)-1] != '\n' {
						p.buf = append(p.buf, '\n')
					}
					p.buf = append(p.buf, se...)
				}
			}
			r.Output = p.buf
			p.failExit(&r, exitCode(msg.Get("exit_code")))
			if s := msg.Get("success"); s != nil && s.Type() == fastjson.TypeFalse {
				r.IsError = true
			}
		case "mcp_tool_call_end":
			r.Output = []byte{}
			res := msg.Get("result")
			if ok := res.Get("Ok"); ok != nil {
				r.Output = p.contentText(ok.Get("content"))
			} else if e := res.Get("Err"); e != nil {
				r.IsError = true
				p.buf = jsonText(p.buf[:0], e)
				r.Output = p.buf
			}
		default:
			r.Output = []byte{}
		}
		p.complete(&r, 0)
	case "token_count":
		if total := msg.Get("info", "total_token_usage"); isObject(total) {
			p.setRunUsage("legacy:"+p.runID+":"+strconv.FormatInt(p.runs, 10), codexUsage(total))
		} else if msg.Exists("input_tokens") {
			// The older event is one response's usage.
			p.addUsage(codexUsage(msg))
		}
	case "task_complete":
		f.ResultType, f.ResultSubtype, f.IsError = m.Type, "", 0
	case "error":
		f.ResultType, f.ResultSubtype, f.IsError = m.Type, "", 1
	}
}
