package stream

import (
	"github.com/valyala/fastjson"
)

// opencode's JSON events (opencode run --format json): {type, timestamp
// (epoch ms), sessionID, part}, of types step_start, text, tool_use,
// step_finish and error. A tool call is one tool_use event, emitted when it
// has finished, with its own start and end times; each step_finish carries
// that step's tokens and cost. No model, and no prompt, is streamed.

func (p *Processor) opencodeFields(v *fastjson.Value, m *Message) {
	id := v.GetStringBytes("sessionID")
	p.sessionID(id)
	p.setRun(id)
	part := v.Get("part")
	switch m.Type {
	case "step_start":
		if p.runs == 0 {
			p.runs++
		}
	case "step_finish":
		m.Subtype = str(part, "reason")
	case "tool_use":
		m.Subtype = str(part.Get("state"), "status")
	case "error":
		m.Subtype = str(v.Get("error"), "name")
	}
}

func (p *Processor) opencode(v *fastjson.Value, m *Message) {
	f := &p.Facts
	part := v.Get("part")
	switch m.Type {
	case "tool_use":
		p.opencodeTool(part, m)
	case "step_finish":
		if !isObject(part) {
			return
		}
		if t := part.Get("tokens"); isObject(t) {
			p.addUsage(Usage{
				Input: t.GetInt64("input"), Output: t.GetInt64("output"),
				CacheRead: t.GetInt64("cache", "read"), CacheCreation: t.GetInt64("cache", "write"),
			})
		}
		if c := part.Get("cost"); c != nil && c.Type() == fastjson.TypeNumber {
			p.addCost(c.GetFloat64())
		}
		// A step that ends in tool calls is followed by another: only
		// the last step ends the run.
		if reason := str(part, "reason"); reason != "tool-calls" {
			f.ResultType, f.ResultSubtype, f.IsError = m.Type, reason, 0
		}
	case "error":
		f.ResultType, f.ResultSubtype, f.IsError = m.Type, m.Subtype, 1
	}
}

func (p *Processor) opencodeTool(part *fastjson.Value, m *Message) {
	callID := part.GetStringBytes("callID")
	if len(callID) == 0 {
		return
	}
	state := part.Get("state")
	start := msNumber0(state.Get("time", "start"))
	end := msNumber0(state.Get("time", "end"))
	id := p.toolID(callID)
	if !p.known(id) {
		input := p.input(state.Get("input"))
		u := ToolUse{ID: id, Name: str(part, "tool"), Input: input, Time: m.Time, MessageSeq: m.Seq}
		if p.LineTimes && start > 0 {
			u.Time = start
		}
		if !p.begin(&u, start) {
			return
		}
	}
	r := ToolResult{ID: id, Time: m.Time, MessageSeq: m.Seq, Output: []byte{}}
	if p.LineTimes && end > 0 {
		r.Time = end
	}
	switch str(state, "status") {
	case "completed":
	case "error":
		r.IsError = true
		if e := state.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
			p.errBuf = jsonText(p.errBuf[:0], e)
			r.ErrorText = p.errBuf
		}
	default:
		return // pending or running: no result yet
	}
	if out := state.Get("output"); out != nil && out.Type() != fastjson.TypeNull {
		p.buf = jsonText(p.buf[:0], out)
		r.Output = p.buf
	}
	if !r.IsError {
		// A command that ran and failed is "completed" to opencode.
		p.failExit(&r, exitCode(state.Get("metadata", "exit")))
	}
	p.complete(&r, end)
}

func msNumber0(v *fastjson.Value) int64 {
	if v == nil {
		return 0
	}
	return msNumber(v)
}
