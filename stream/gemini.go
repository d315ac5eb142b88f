package stream

import (
	"github.com/valyala/fastjson"
)

// Gemini CLI's stream-json (gemini -p … --output-format stream-json): init,
// message, tool_use, tool_result, error and result events, each with an ISO
// 8601 timestamp. Tool results name their call by tool_id and may come in
// any order; tokens are only in the result's stats, and there is no cost.

func (p *Processor) geminiFields(v *fastjson.Value, m *Message) {
	if (m.Type == "" && (chatHeader(v) || chatEdit(v) != "")) || chatMessage(v, m.Type) {
		p.geminiChatFields(v, m)
		return
	}
	if m.Type == "" && geminiJSON(v) {
		// The run's one object: its answer and figures.
		m.Type = "result"
		id := v.GetStringBytes("session_id")
		p.sessionID(id)
		p.newRun(id)
		p.Facts.SourceFormat = "gemini-json"
		return
	}
	switch m.Type {
	case "init":
		id := v.GetStringBytes("session_id")
		p.sessionID(id)
		p.newRun(id)
		if p.Facts.InitModel == "" {
			p.Facts.InitModel = str(v, "model")
		}
	case "message":
		m.Subtype = str(v, "role")
		if m.Subtype == "user" {
			if c := v.Get("content"); c != nil && c.Type() == fastjson.TypeString {
				p.promptText(c.GetStringBytes())
			}
		}
	case "tool_result", "result":
		m.Subtype = str(v, "status")
	case "error":
		m.Subtype = str(v, "severity")
	}
}

func (p *Processor) gemini(v *fastjson.Value, m *Message) {
	if chatMessage(v, m.Type) || m.Type == "session" || m.Type == "$set" {
		p.geminiChat(v, m)
		return
	}
	switch m.Type {
	case "tool_use":
		id := v.GetStringBytes("tool_id")
		if len(id) == 0 {
			return
		}
		input := p.input(v.Get("parameters"))
		own := parseTime(v.GetStringBytes("timestamp"))
		u := ToolUse{ID: p.toolID(id), Name: str(v, "tool_name"), Input: input, Time: m.Time, MessageSeq: m.Seq}
		p.begin(&u, own)
	case "tool_result":
		id := v.GetStringBytes("tool_id")
		if len(id) == 0 {
			return
		}
		r := ToolResult{ID: p.toolID(id), Time: m.Time, MessageSeq: m.Seq, IsError: str(v, "status") != "success"}
		r.Output = []byte{}
		if out := v.Get("output"); out != nil && out.Type() != fastjson.TypeNull {
			p.buf = jsonText(p.buf[:0], out)
			r.Output = p.buf
		}
		if e := v.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
			r.IsError = true
			if msg := e.GetStringBytes("message"); msg != nil {
				p.errBuf = append(p.errBuf[:0], msg...)
			} else {
				p.errBuf = jsonText(p.errBuf[:0], e)
			}
			r.ErrorText = p.errBuf
		}
		p.complete(&r, parseTime(v.GetStringBytes("timestamp")))
	case "result":
		if geminiJSON(v) {
			p.geminiJSONResult(v, m)
			return
		}
		p.geminiResult(v, m)
	}
}

// geminiJSON says whether a line is what `gemini -p … --output-format
// json` prints, one object for the run: {"session_id" (newer versions),
// "response", "stats": {"models": {<model>: {"api", "tokens": {"prompt"
// (or "input"), "candidates", "cached", "thoughts", "tool", "total"}}},
// "tools", "files"}, and "error": {"type", "message", "code"} when it
// failed}. Its tools are counts, not calls: it has no tool calls.
func geminiJSON(v *fastjson.Value) bool {
	return !v.Exists("type") && (v.Exists("response") || v.Exists("error")) && isObject(v.Get("stats", "models"))
}

func (p *Processor) geminiJSONResult(v *fastjson.Value, m *Message) {
	f := &p.Facts
	f.ResultType, f.ResultSubtype, f.IsError = m.Type, "success", 0
	if e := v.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
		f.ResultSubtype, f.IsError = "error", 1
	}
	var best []byte
	var most int64 = -1
	v.GetObject("stats", "models").Visit(func(k []byte, mv *fastjson.Value) {
		t := mv.Get("tokens")
		if len(k) == 0 || !isObject(t) {
			return
		}
		u := geminiTokens(t)
		p.addUsage(u)
		p.addModelUsage(string(k), u)
		if n := t.GetInt64("total"); n > most {
			best, most = k, n
		}
	})
	if best != nil {
		f.ConcreteModel = string(best)
	}
}

func (p *Processor) geminiResult(v *fastjson.Value, m *Message) {
	f := &p.Facts
	status := str(v, "status")
	f.ResultType, f.ResultSubtype = m.Type, status
	if status == "success" {
		f.IsError = 0
	} else {
		f.IsError = 1
	}
	stats := v.Get("stats")
	if !isObject(stats) {
		return
	}
	// One result per run, with that run's figures.
	p.addUsage(geminiUsage(stats))
	// The concrete model: init may name an alias ("auto"); the models that
	// answered are the keys of stats.models. Where several did, the one
	// that used the most tokens names the session.
	var best []byte
	var most int64 = -1
	if o := stats.GetObject("models"); o != nil {
		o.Visit(func(k []byte, mv *fastjson.Value) {
			if n := mv.GetInt64("total_tokens"); n > most && len(k) > 0 {
				best, most = k, n
			}
			if len(k) > 0 && isObject(mv) {
				p.addModelUsage(string(k), geminiUsage(mv))
			}
		})
	}
	if best != nil {
		f.ConcreteModel = string(best)
	}
}

// geminiTokens maps the tokens Gemini CLI counts for a model's turn (its
// saved chats: "input", "output") or for a model over a run (--output-format
// json: "prompt", "candidates") onto Claude's usage: the prompt counts the
// cached tokens, the tool-use prompt is input too, and thoughts are billed
// as output.
func geminiTokens(t *fastjson.Value) Usage {
	prompt, out := t.Get("prompt"), t.Get("candidates")
	if prompt == nil {
		prompt = t.Get("input")
	}
	if out == nil {
		out = t.Get("output")
	}
	cached := t.GetInt64("cached")
	return Usage{
		Input:     max(prompt.GetInt64()-cached, 0) + t.GetInt64("tool"),
		Output:    out.GetInt64() + t.GetInt64("thoughts"),
		CacheRead: cached,
	}
}

// geminiUsage maps Gemini CLI's stats onto Claude's usage: input_tokens
// includes the cached tokens ("cached"), and "input" (newer versions) is
// the part that was not cached.
func geminiUsage(s *fastjson.Value) Usage {
	u := Usage{Output: s.GetInt64("output_tokens"), CacheRead: s.GetInt64("cached")}
	switch {
	case s.Exists("input"):
		u.Input = s.GetInt64("input")
	default:
		u.Input = max(s.GetInt64("input_tokens")-u.CacheRead, 0)
	}
	return u
}
