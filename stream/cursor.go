package stream

import (
	"strings"

	"github.com/valyala/fastjson"
)

// Cursor's stream-json (cursor-agent -p --output-format stream-json) is
// shaped like Claude Code's (system/init, user, assistant, result, with
// session_id on every line), plus tool_call lines: started, then completed,
// paired on call_id. tool_call holds one key naming the tool's kind
// (shellToolCall, readToolCall, …) whose value has args and, once
// completed, result: {success: {…}} or another key for a failure. Newer
// builds add startedAtMs and completedAtMs (epoch ms as strings) beside it.

// cursorMeta are the keys of tool_call that are not the tool.
func cursorMeta(k string) bool {
	return k == "toolCallId" || k == "startedAtMs" || k == "completedAtMs" || k == "hookAdditionalContexts"
}

func (p *Processor) cursorToolCall(v *fastjson.Value, m *Message) {
	callID := v.GetStringBytes("call_id")
	tc := v.GetObject("tool_call")
	if len(callID) == 0 || tc == nil {
		return
	}
	var kind string
	var call *fastjson.Value
	var started, ended int64
	tc.Visit(func(k []byte, tv *fastjson.Value) {
		switch key := string(k); {
		case key == "startedAtMs":
			started = msNumber(tv)
		case key == "completedAtMs":
			ended = msNumber(tv)
		case cursorMeta(key):
		case call == nil:
			kind, call = key, tv
		}
	})
	if call == nil {
		return
	}
	id := p.toolID(callID)
	own := lineTime(v)
	if !p.known(id) {
		input := p.input(call.Get("args"))
		u := ToolUse{ID: id, Name: cursorToolName(kind, call), Input: input, Time: m.Time, MessageSeq: m.Seq}
		start := started
		if start == 0 && m.Subtype == "started" {
			start = own
		}
		if !p.begin(&u, start) {
			return
		}
		if m.Subtype != "started" && started == 0 {
			p.unstarted(id) // first seen completed
		}
	}
	if m.Subtype != "completed" {
		return
	}
	end := own
	if ended > 0 {
		end = ended
		if started > 0 {
			// Both times on the completed line: they win.
			st := p.uses[id]
			st.own = started
			p.uses[id] = st
		}
	}
	r := ToolResult{ID: id, Time: m.Time, MessageSeq: m.Seq, Output: []byte{}}
	res := call.GetObject("result")
	if res == nil {
		p.complete(&r, end)
		return
	}
	var outcome string
	var body *fastjson.Value
	res.Visit(func(k []byte, rv *fastjson.Value) {
		if body == nil && isObject(rv) || body == nil && rv.Type() == fastjson.TypeString {
			outcome, body = string(k), rv
		}
	})
	r.Output = p.cursorOutput(body)
	if outcome != "success" {
		r.IsError = true
		p.errBuf = append(p.errBuf[:0], cursorError(outcome, body)...)
		r.ErrorText = p.errBuf
	} else {
		p.failExit(&r, exitCode(body.Get("exitCode"))) // a shell command that ran and failed
	}
	p.complete(&r, end)
}

// cursorToolName is the tool's kind without its "ToolCall" suffix, as
// Cursor's own documentation names them (shell, read, edit, …); an MCP
// call is named by its server and tool where the args give them.
func cursorToolName(kind string, call *fastjson.Value) string {
	name := strings.TrimSuffix(kind, "ToolCall")
	if name == "" {
		name = kind
	}
	if name == "mcp" {
		args := call.Get("args")
		server := str(args, "providerIdentifier")
		tool := str(args, "toolName")
		if tool == "" {
			tool = str(args, "name")
		}
		if server != "" && tool != "" {
			return server + "." + tool
		}
		if tool != "" {
			return "mcp." + tool
		}
	}
	return name
}

// cursorOutput is the text of a tool's result: a shell's stdout and
// stderr, a read's content, an output or text field, else the JSON.
func (p *Processor) cursorOutput(body *fastjson.Value) []byte {
	if body == nil {
		return []byte{}
	}
	if body.Type() == fastjson.TypeString {
		return body.GetStringBytes()
	}
	out, errOut := body.GetStringBytes("stdout"), body.GetStringBytes("stderr")
	if out != nil || errOut != nil {
		p.buf = append(p.buf[:0], out...)
		if len(errOut) > 0 {
			if len(p.buf) > 0 && p.buf[len(p.buf)-1] != '\n' {
				p.buf = append(p.buf, '\n')
			}
			p.buf = append(p.buf, errOut...)
		}
		return p.buf
	}
	for _, k := range []string{"content", "output", "text", "message"} {
		if s := body.GetStringBytes(k); s != nil {
			return s
		}
	}
	p.buf = body.MarshalTo(p.buf[:0])
	return p.buf
}

// cursorError is a failed call's error text: the failure's message where
// it has one, else its kind and JSON.
func cursorError(outcome string, body *fastjson.Value) string {
	if body == nil {
		return outcome
	}
	if body.Type() == fastjson.TypeString {
		return string(body.GetStringBytes())
	}
	for _, k := range []string{"error", "message", "errorMessage", "reason", "stderr"} {
		if s := body.GetStringBytes(k); len(s) > 0 {
			return string(s)
		}
	}
	return outcome + ": " + string(body.MarshalTo(nil))
}
