package stream

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"

	"github.com/valyala/fastjson"
)

// Gemini CLI's saved chats: ~/.gemini/tmp/<project>/chats/session-*.json,
// one JSON document a session, rewritten whole as the session goes on:
//
//	{"sessionId", "projectHash", "startTime", "lastUpdated", ["kind"],
//	 "messages": [{"id", "timestamp", "type", "content", …}]}
//
// A message's type is user, gemini (the model's turn: its text, thoughts,
// model, tokens and tool calls), info, error or warning (the CLI's own
// notes: a model switched, an API error). The user's content is a string,
// or in newer versions a list of parts ({"text": …}). A tool call holds its
// own result: {"id", "name", "args", "result": [{"functionResponse":
// {"response": {"output"|"error": …}}}], "status": success, error or
// cancelled, "timestamp"}. Tokens are the message's own, not a running
// total: {"input" (cached included), "output", "cached", "thoughts",
// "tool", "total" = input + output + thoughts + tool}.
//
// ChatLines makes the lines of a stream of such a document, so that it is
// stored as any stream is: the document without its messages first, then
// each message, each written without the whitespace between its tokens and
// otherwise byte for byte as in the file. Nothing of the document is lost:
// it is the first line with the others as its "messages".

// ChatLines returns the lines of data when data is a Gemini CLI saved chat;
// false for anything else (a JSONL file among them).
func ChatLines(data []byte) ([]byte, bool) {
	doc := bytes.TrimLeft(TrimBOM(data), " \t\r\n")
	if len(doc) == 0 || doc[0] != '{' {
		return nil, false
	}
	// The keys come first: a file that does not name them there is no
	// chat, and is not read whole to find out.
	head := doc[:min(len(doc), 4096)]
	if !bytes.Contains(head, []byte(`"sessionId"`)) || !bytes.Contains(head, []byte(`"projectHash"`)) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var header, body bytes.Buffer
	header.WriteByte('{')
	named, listed := false, false
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return nil, false
		}
		if key == "messages" {
			// Each message a line, in the order of the list.
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return nil, false
			}
			for dec.More() {
				var m json.RawMessage
				if dec.Decode(&m) != nil || json.Compact(&body, m) != nil {
					return nil, false
				}
				body.WriteByte('\n')
			}
			if t, err := dec.Token(); err != nil || t != json.Delim(']') {
				return nil, false
			}
			listed = true
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if key == "sessionId" {
			var id string
			named = json.Unmarshal(raw, &id) == nil && id != ""
		}
		if header.Len() > 1 {
			header.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		header.Write(k)
		header.WriteByte(':')
		if json.Compact(&header, raw) != nil {
			return nil, false
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') || !named || !listed {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // more after the document: not one chat
	}
	header.WriteString("}\n")
	out := make([]byte, 0, header.Len()+body.Len())
	return append(append(out, header.Bytes()...), body.Bytes()...), true
}

// chatHeader says whether a line is the first of a saved chat's lines:
// the document without its messages (ChatLines), or the first line of the
// append-only form.
func chatHeader(v *fastjson.Value) bool {
	return v.Exists("sessionId") && v.Exists("projectHash") && !v.Exists("type")
}

// chatMessage says whether a line is a message of a saved chat.
func chatMessage(v *fastjson.Value, typ string) bool {
	switch typ {
	case "user", "gemini", "info", "error", "warning":
		return v.Exists("id") && v.Exists("content") && !v.Exists("message") && !v.Exists("role")
	}
	return false
}

// chatEdit is the kind of a line of the append-only form that edits the
// chat rather than adding a message: "$set" (metadata, or the messages
// anew) or "$rewindTo"; "" for any other line.
func chatEdit(v *fastjson.Value) string {
	switch {
	case v.Exists("$set"):
		return "$set"
	case v.Exists("$rewindTo"):
		return "$rewindTo"
	}
	return ""
}

// geminiChatFields reads what a saved chat's line says of the session.
//
// Gemini CLI 0.58 and later write a chat as JSONL instead, appended to as
// the session goes on: the same first line (with "messages": [] or
// without), then each message, written again in full, with the same id,
// each time its tool calls, their results or its tokens change; {"$set":
// {…}} lines change the metadata, or put "messages" anew (at a resume or
// a compression); {"$rewindTo": id} takes that message and those after it
// out of the conversation. Every line is stored; each message counts once,
// as its last writing says: its tokens once, each of its tool calls once,
// finished when a writing shows it finished. A rewind takes nothing back:
// the tokens were spent and the calls ran.
func (p *Processor) geminiChatFields(v *fastjson.Value, m *Message) {
	if m.Type == "" {
		if e := chatEdit(v); e != "" {
			m.Type = e
			return
		}
		// The document without its messages: the session's id and start.
		m.Type = "session"
		id := v.GetStringBytes("sessionId")
		p.sessionID(id)
		p.newRun(id)
		p.Facts.SourceFormat = "gemini-chat"
		if m.Time == 0 && p.LineTimes {
			m.Time = parseTime(v.GetStringBytes("startTime"))
		}
		return
	}
	if m.Type == "user" {
		p.promptText(chatText(v.Get("content"), &p.textBuf))
	}
}

// geminiChat maps a saved chat's line: a message, or messages put anew by
// the first line or a $set.
func (p *Processor) geminiChat(v *fastjson.Value, m *Message) {
	switch m.Type {
	case "gemini":
		p.chatTurn(v, m)
	case "session", "$set":
		set := v
		if m.Type == "$set" {
			set = v.Get("$set")
		}
		for _, rec := range set.GetArray("messages") {
			if str(rec, "type") == "gemini" {
				p.chatTurn(rec, m)
			}
		}
	}
}

// chatTurn maps the model's turn: its tokens, counted once for its id, and
// its tool calls, each finished with its result once it has one.
func (p *Processor) chatTurn(v *fastjson.Value, m *Message) {
	model := str(v, "model")
	if p.Facts.InitModel == "" {
		p.Facts.InitModel = model
	}
	at := m.Time
	if p.LineTimes {
		if t := parseTime(v.GetStringBytes("timestamp")); t > 0 {
			at = t
		}
	}
	if t := v.Get("tokens"); isObject(t) {
		p.noteMessage("gemini-chat:"+p.runID+":"+str(v, "id"), reqUsage{model: model, u: geminiTokens(t)})
		// The model that did the most work names the session.
		best, most := "", int64(-1)
		for k, a := range p.msgAgg {
			if n := a.Input + a.Output + a.CacheRead; k.model != "" && (n > most || n == most && k.model < best) {
				best, most = k.model, n
			}
		}
		p.Facts.ConcreteModel = best
	}
	for _, c := range v.GetArray("toolCalls") {
		id := c.GetStringBytes("id")
		if len(id) == 0 {
			continue
		}
		tid := p.toolID(id)
		if !p.known(tid) {
			input := p.input(c.Get("args"))
			u := ToolUse{ID: tid, Name: str(c, "name"), Input: input, Time: at, MessageSeq: m.Seq}
			p.begin(&u, at)
		}
		status := str(c, "status")
		if !p.pending(tid) || (status != "success" && status != "error" && status != "cancelled") {
			continue // done before, or not yet (scheduled, executing, awaiting approval)
		}
		done := parseTime(c.GetStringBytes("timestamp"))
		r := ToolResult{ID: tid, Time: m.Time, MessageSeq: m.Seq, Output: []byte{}, IsError: status != "success"}
		if p.LineTimes && done > 0 {
			r.Time = done // the line's own time is the turn's start
		}
		p.buf = p.buf[:0]
		for _, part := range c.GetArray("result") {
			resp := part.Get("functionResponse", "response")
			if out := resp.Get("output"); out != nil {
				p.buf = jsonText(p.buf, out)
			}
			if e := resp.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
				r.IsError = true
				p.errBuf = jsonText(p.errBuf[:0], e)
				r.ErrorText = p.errBuf
			}
		}
		r.Output = p.buf
		if !r.IsError && str(c, "name") == "run_shell_command" {
			// The tool ran, so Gemini says success; the command's own
			// exit is in the trailer of its output.
			p.failExit(&r, shellExit(r.Output))
		}
		if r.IsError && r.ErrorText == nil {
			p.errBuf = append(p.errBuf[:0], status...)
			r.ErrorText = p.errBuf
		}
		p.complete(&r, done)
	}
}

// shellExit is the exit code that the trailer of Gemini CLI's shell tool
// output gives ("…\nExit Code: 127\nSignal: 0\n…"; newer versions write
// it only when it is not 0), 0 if none. The last such line is the
// trailer's: the command's own output comes before it.
func shellExit(out []byte) int64 {
	i := bytes.LastIndex(out, []byte("\nExit Code: "))
	if i < 0 {
		return 0
	}
	rest := out[i+len("\nExit Code: "):]
	n := 0
	for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || n == 0 && rest[n] == '-') {
		n++
	}
	c, _ := strconv.ParseInt(string(rest[:n]), 10, 64)
	return c
}

// chatText is the text of a saved chat's content: a string, or the texts
// of its parts one to a line.
func chatText(c *fastjson.Value, buf *[]byte) []byte {
	if c == nil {
		return nil
	}
	if c.Type() == fastjson.TypeString {
		return c.GetStringBytes()
	}
	*buf = (*buf)[:0]
	for i, part := range c.GetArray() {
		if i > 0 {
			*buf = append(*buf, '\n')
		}
		*buf = append(*buf, part.GetStringBytes("text")...)
	}
	return *buf
}
