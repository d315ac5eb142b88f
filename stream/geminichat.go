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
// the document without its messages.
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

// geminiChatFields reads what a saved chat's line says of the session.
func (p *Processor) geminiChatFields(v *fastjson.Value, m *Message) {
	if m.Type == "" {
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

// geminiChat maps a saved chat's message: the model's turn gives its
// tokens, and its tool calls, each finished with its result.
func (p *Processor) geminiChat(v *fastjson.Value, m *Message) {
	if m.Type != "gemini" {
		return
	}
	model := str(v, "model")
	if p.Facts.InitModel == "" {
		p.Facts.InitModel = model
	}
	if t := v.Get("tokens"); isObject(t) {
		cached := t.GetInt64("cached")
		u := Usage{
			// "input" counts the cached tokens; the tool-use prompt is
			// input too, and thoughts are billed as output.
			Input:     max(t.GetInt64("input")-cached, 0) + t.GetInt64("tool"),
			Output:    t.GetInt64("output") + t.GetInt64("thoughts"),
			CacheRead: cached,
		}
		p.addUsage(u)
		p.addModelUsage(model, u)
		p.agentModels[model].Requests++
		// The model that did the most work names the session.
		if p.chatTokens == nil {
			p.chatTokens = map[string]int64{}
		}
		p.chatTokens[model] += t.GetInt64("total")
		if model != "" && p.chatTokens[model] > p.chatTokens[p.Facts.ConcreteModel] {
			p.Facts.ConcreteModel = model
		}
	}
	for _, c := range v.GetArray("toolCalls") {
		id := c.GetStringBytes("id")
		if len(id) == 0 {
			continue
		}
		var input []byte
		if args := c.Get("args"); args != nil {
			p.inBuf = args.MarshalTo(p.inBuf[:0])
			input = p.inBuf
		}
		u := ToolUse{ID: p.toolID(id), Name: str(c, "name"), Input: input, Time: m.Time, MessageSeq: m.Seq}
		if !p.begin(&u, m.Time) {
			continue
		}
		status := str(c, "status")
		if status == "" {
			continue // not finished when the chat was saved
		}
		r := ToolResult{ID: u.ID, Time: m.Time, MessageSeq: m.Seq, Output: []byte{}, IsError: status != "success"}
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
		p.complete(&r, parseTime(c.GetStringBytes("timestamp")))
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
