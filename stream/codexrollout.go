package stream

import (
	"bytes"
	"strconv"

	"github.com/valyala/fastjson"
)

// Codex's own session files, ~/.codex/sessions/YYYY/MM/DD/rollout-…-<id>.jsonl:
// {timestamp, type, payload} lines. session_meta names the session
// (payload.id, cwd, cli_version), turn_context gives each turn's model,
// response_item holds what went to and came from the model (messages,
// reasoning, function_call and function_call_output paired on call_id,
// custom_tool_call and its output, web_search_call), and event_msg what
// the CLI showed: token_count with the session's total so far,
// exec_command_end with a command's exit code and whole output,
// task_complete, turn_aborted and error. Older rollouts (before the
// envelope, mid 2025) have a first line of {id, timestamp, instructions,
// git}, then the model's items as they are, between {"record_type":
// "state"} lines, and no times, model or tokens.

// RolloutType says whether typ is a line type of a rollout file.
func RolloutType(typ string) bool {
	switch typ {
	case "session_meta", "turn_context", "response_item", "event_msg", "compacted":
		return true
	}
	return false
}

// olderRolloutMeta says whether v, a line without a type, is the first
// line of a rollout from before the envelope: {id, timestamp,
// instructions, git}.
func olderRolloutMeta(v *fastjson.Value) bool {
	return v.Exists("instructions") && v.Exists("id") && v.Exists("timestamp")
}

func (p *Processor) codexRolloutFields(v *fastjson.Value, m *Message) {
	f := &p.Facts
	pl := v.Get("payload")
	if !isObject(pl) {
		return
	}
	switch m.Type {
	case "response_item", "event_msg":
		m.Subtype = str(pl, "type")
	case "session_meta":
		id := pl.GetStringBytes("id")
		p.sessionID(id)
		p.newRun(id)
		f.SourceFormat = "codex-rollout"
		if cwd := str(pl, "cwd"); cwd != "" && !f.cwdFromInit {
			f.CWD, f.cwdFromInit = cwd, true
		}
		if f.AgentVersion == "" {
			f.AgentVersion = str(pl, "cli_version")
		}
	case "turn_context":
		if f.InitModel == "" {
			f.InitModel = str(pl, "model")
		}
	}
}

func (p *Processor) codexRollout(v *fastjson.Value, m *Message) {
	f := &p.Facts
	pl := v.Get("payload")
	if !isObject(pl) {
		return
	}
	switch m.Type + "/" + m.Subtype {
	case "response_item/function_call", "response_item/custom_tool_call", "response_item/local_shell_call":
		p.rolloutCall(pl, m, m.Subtype)
	case "response_item/function_call_output", "response_item/custom_tool_call_output":
		p.rolloutOutput(pl, m)
	case "response_item/web_search_call":
		// A search is made and answered within the model's response: one
		// line, without a call id.
		u := ToolUse{ID: p.toolID([]byte("search:" + strconv.FormatInt(m.Seq, 10))), Name: "WebSearch", Time: m.Time, MessageSeq: m.Seq}
		b := append(p.inBuf[:0], `{"query":`...)
		b = valueOrNull(b, pl.Get("action", "query"))
		p.inBuf = append(b, '}')
		u.Input = p.inBuf
		if p.begin(&u, 0) {
			p.unstarted(u.ID)
			r := ToolResult{ID: u.ID, Time: m.Time, MessageSeq: m.Seq, Output: []byte{}}
			if s := str(pl, "status"); s != "" && s != "completed" {
				r.IsError, r.ErrorText = true, []byte(s)
			}
			p.complete(&r, 0)
		}
	case "event_msg/exec_command_end":
		// A command that outlived its call's answer ("Process running with
		// session ID …") ends here, with its exit code and whole output.
		id := p.toolID(pl.GetStringBytes("call_id"))
		if !p.pending(id) {
			return
		}
		delete(p.codex.commands, id)
		p.buf = append(p.buf[:0], pl.GetStringBytes("aggregated_output")...)
		r := ToolResult{ID: id, Time: m.Time, MessageSeq: m.Seq, Output: p.buf}
		p.failExit(&r, exitCode(pl.Get("exit_code")))
		p.complete(&r, 0)
	case "event_msg/patch_apply_end":
		id := p.toolID(pl.GetStringBytes("call_id"))
		if !p.pending(id) {
			return
		}
		p.buf = append(append(p.buf[:0], pl.GetStringBytes("stdout")...), pl.GetStringBytes("stderr")...)
		r := ToolResult{ID: id, Time: m.Time, MessageSeq: m.Seq, Output: p.buf}
		if s := pl.Get("success"); s != nil && s.Type() == fastjson.TypeFalse {
			r.IsError, r.ErrorText = true, r.Output
		}
		p.complete(&r, 0)
	case "event_msg/token_count":
		if total := pl.Get("info", "total_token_usage"); isObject(total) {
			// The session's total so far: the last one counts.
			p.setRunUsage("rollout:"+p.runID, codexUsage(total))
		}
	case "event_msg/user_message":
		if msg := pl.Get("message"); msg != nil && msg.Type() == fastjson.TypeString {
			p.promptText(msg.GetStringBytes())
		}
	case "event_msg/task_complete":
		f.ResultType, f.ResultSubtype, f.IsError = m.Subtype, "", 0
	case "event_msg/turn_aborted":
		f.ResultType, f.ResultSubtype, f.IsError = m.Subtype, str(pl, "reason"), 1
	case "event_msg/error":
		f.ResultType, f.ResultSubtype, f.IsError = m.Subtype, "", 1
	}
}

// rolloutCall begins a tool call. Commands are Bash, with the command
// line as {"command": …} (exec_command's cmd, shell's argv, or
// shell_command's string); apply_patch is Edit, with the patch. Other
// tools keep their names and their arguments.
func (p *Processor) rolloutCall(pl *fastjson.Value, m *Message, kind string) {
	callID := pl.GetStringBytes("call_id")
	if len(callID) == 0 {
		return
	}
	name := str(pl, "name")
	b := p.inBuf[:0]
	switch {
	case kind == "local_shell_call":
		name = "Bash"
		b = commandJSON(append(b, `{"command":`...), pl.Get("action", "command"))
		b = append(b, '}')
	case kind == "custom_tool_call":
		key := "input"
		if name == "apply_patch" {
			name, key = "Edit", "patch"
		}
		b = append(append(append(b, `{"`...), key...), `":`...)
		b = valueOrNull(b, pl.Get("input"))
		b = append(b, '}')
	default:
		// arguments is JSON in a string; read with a parser of its own,
		// since pl belongs to the line's.
		args := pl.GetStringBytes("arguments")
		a, err := p.argParser.ParseBytes(args)
		if err != nil {
			b = strconv.AppendQuote(b, string(args))
			break
		}
		switch name {
		case "exec_command", "shell", "shell_command", "container.exec", "local_shell":
			cmd := a.Get("cmd")
			if cmd == nil {
				cmd = a.Get("command")
			}
			name = "Bash"
			b = commandJSON(append(b, `{"command":`...), cmd)
			b = append(b, '}')
		default:
			b = a.MarshalTo(b)
		}
	}
	p.inBuf = b
	u := ToolUse{ID: p.toolID(callID), Name: name, Input: b, Time: m.Time, MessageSeq: m.Seq}
	if p.begin(&u, 0) && name == "Bash" {
		if p.codex.commands == nil {
			p.codex.commands = map[string]bool{}
		}
		p.codex.commands[u.ID] = true
	}
}

// rolloutOutput is what a call gave the model. Older versions wrap it as
// JSON, {"output": …, "metadata": {"exit_code": …}}; newer ones write a
// header ("Exit code: 1", or "Process exited with code 1"), then the
// output. A command still running when its call was answered ("Process
// running with session ID …") is finished by its exec_command_end.
func (p *Processor) rolloutOutput(pl *fastjson.Value, m *Message) {
	id := p.toolID(pl.GetStringBytes("call_id"))
	if p.known(id) && !p.pending(id) {
		return // a patch_apply_end came first, with the same
	}
	out := pl.Get("output")
	r := ToolResult{ID: id, Time: m.Time, MessageSeq: m.Seq}
	var code int64
	if out != nil && out.Type() == fastjson.TypeString {
		text := out.GetStringBytes()
		if w, err := p.argParser.ParseBytes(text); err == nil && isObject(w) && w.Get("output") != nil {
			p.buf = append(p.buf[:0], w.GetStringBytes("output")...)
			code = exitCode(w.Get("metadata", "exit_code"))
		} else {
			p.buf = append(p.buf[:0], text...)
			if p.codex.commands[id] {
				// The header is the command's. (A write_stdin call that
				// polls a command answers with the same header: the
				// command's exit is not the poll's failure.)
				head := p.buf[:min(len(p.buf), 512)]
				if bytes.Contains(head, []byte("\nProcess running with session ID ")) {
					return
				}
				code = headerCode(head)
				delete(p.codex.commands, id)
			}
			if code == 0 && refusal(p.buf) {
				// Codex's own words: the call failed without running, or
				// was refused. A sandbox's refusal has the exit code.
				if code = sandboxCode(p.buf); code == 0 {
					r.IsError, r.ErrorText = true, p.buf
				}
			}
		}
		r.Output = p.buf
	} else {
		r.Output = p.contentText(out)
	}
	p.failExit(&r, code)
	p.complete(&r, 0)
}

// refusals begin the whole output of a call that Codex did not run, or
// that failed in its hands rather than the command's (codex-rs: a sandbox's
// denial, the user's rejection, a patch that does not apply, a timeout).
// Each is what Codex writes, never a command's output, which comes wrapped
// in JSON or under an "Exit code:" header.
var refusals = []string{
	"failed in sandbox ",
	"exec command rejected",
	"patch rejected by user",
	"apply_patch verification failed",
	"execution error: ",
	"command timed out after ",
	"retry failed: ",
	"failed to parse function arguments: ",
	"unsupported call: ",
}

// refusal says whether a call's plain output is one of Codex's refusals.
func refusal(out []byte) bool {
	for _, r := range refusals {
		if bytes.HasPrefix(out, []byte(r)) {
			return true
		}
	}
	return false
}

// sandboxCode is the exit code in a sandbox's refusal ("failed in sandbox
// … with execution error: sandbox denied exec error, exit code: 2, stdout:
// …"), 0 if it gives none.
func sandboxCode(out []byte) int64 {
	_, rest, ok := bytes.Cut(out[:min(len(out), 512)], []byte(", exit code: "))
	if !ok || !bytes.HasPrefix(out, []byte("failed in sandbox ")) {
		return 0
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	c, _ := strconv.ParseInt(string(rest[:n]), 10, 64)
	return c
}

// headerCode is the exit code that the header of a command's output
// gives, 0 if none.
func headerCode(head []byte) int64 {
	for _, prefix := range []string{"Exit code: ", "Process exited with code "} {
		i := bytes.Index(head, []byte(prefix))
		if i < 0 || (i > 0 && head[i-1] != '\n') {
			continue
		}
		rest := head[i+len(prefix):]
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if c, err := strconv.ParseInt(string(rest[:n]), 10, 64); err == nil {
			return c
		}
	}
	return 0
}
