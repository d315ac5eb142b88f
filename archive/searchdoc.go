package archive

import (
	"cmp"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// The search index holds documents: the searchable pieces of the stored
// rows, each with the place it came from. A message gives one document per
// block of text (a user's or the assistant's text, thinking, a summary, an
// error line); a tool call gives its input and its output. Tool calls are
// read from table tool_calls, which every agent's stream fills alike, so the
// tool_use and tool_result blocks of the messages are not read twice.
//
// Documents are made from the stored copy, in which secrets are already
// redacted, so that the index never holds what redaction removed.

// Doc is one searchable piece of a message or a tool call.
type Doc struct {
	Part   int    // the block's place in its message's content; for a tool call, PartInput or PartOutput
	Kind   string // user, assistant, thinking, summary, error, input, output
	Tool   string // the tool's name, on input and output
	Status string // the tool call's status (success, error, pending); error on error lines
	Text   string
}

// The parts of a tool call.
const (
	PartInput  = 0
	PartOutput = 1
)

// Kinds of documents.
const (
	KindUser      = "user"
	KindAssistant = "assistant"
	KindThinking  = "thinking"
	KindSummary   = "summary"
	KindError     = "error"
	KindInput     = "input"
	KindOutput    = "output"
)

// maxParts bounds the documents of one message: the rowid of a document
// keeps its part in partBits bits. Blocks past the last part are indexed
// together in it.
const (
	partBits = 10
	maxParts = 1 << partBits
)

// Where a document's rowid says it came from: the row's rowid, one bit for
// its table, and the part.
const (
	fromMessage  = 0
	fromToolCall = 1
)

// sourceKey is what the index keeps of a row: its rowid and its table.
func sourceKey(rowid int64, table int) int64 { return rowid<<1 | int64(table) }

// docRowid is the rowid of a document in the full-text table.
func docRowid(key int64, part int) int64 { return key<<partBits | int64(part) }

// splitRowid is the row and part of a document's rowid.
func splitRowid(id int64) (rowid int64, table, part int) {
	key := id >> partBits
	return key >> 1, int(key & 1), int(id & (maxParts - 1))
}

// indexedTypes are the message types that carry text of their own; the
// others (system lines, stream events, results that repeat the last
// answer) are not read. The list is also in the index's triggers.
var indexedTypes = []string{"user", "assistant", "summary", "error", "result", "message", "item.completed", "ai-title", "custom-title", "event_msg", "gemini"}

var parsers fastjson.ParserPool

// MessageDocs is the documents of a stored message line of type typ.
func MessageDocs(typ, subtype string, raw []byte) []Doc {
	if typ == "error" && subtype == "invalid_json" {
		// A line that is not JSON: a banner, or the agent's plain-text error.
		return textDoc(nil, 0, KindError, "", KindError, string(raw))
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	var docs []Doc
	switch typ {
	case "user", "assistant":
		msg := v.Get("message")
		if msg == nil {
			// Gemini CLI's saved chats: {"type":"user","content":…}, the
			// content a string or a list of {"text":…} parts.
			return textDoc(nil, 0, typ, "", "", contentText(v.Get("content")))
		}
		content := msg.Get("content")
		if content == nil {
			return nil
		}
		switch content.Type() {
		case fastjson.TypeString:
			docs = textDoc(docs, 0, typ, "", "", str(content))
		case fastjson.TypeArray:
			blocks, _ := content.Array()
			for i, b := range blocks {
				part := min(i, maxParts-1)
				switch str(b.Get("type")) {
				case "text":
					docs = textDoc(docs, part, typ, "", "", str(b.Get("text")))
				case "thinking":
					docs = textDoc(docs, part, KindThinking, "", "", str(b.Get("thinking")))
				}
			}
		}
	case "summary":
		// Transcripts: the title Claude Code gave the conversation.
		docs = textDoc(docs, 0, KindSummary, "", "", str(v.Get("summary")))
	case "ai-title":
		// Transcripts of Claude Code 2.x: the title it gave the session
		// ({"type":"ai-title","aiTitle":…}), and the one the user gave it.
		docs = textDoc(docs, 0, KindSummary, "", "", str(v.Get("aiTitle")))
	case "custom-title":
		docs = textDoc(docs, 0, KindSummary, "", "", str(v.Get("customTitle")))
	case "result":
		// A successful result repeats the last answer; a failed one says why.
		if v.GetBool("is_error") || strings.HasPrefix(subtype, "error") {
			var b strings.Builder
			b.WriteString(str(v.Get("result")))
			for _, e := range v.GetArray("errors") {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(str(e))
			}
			docs = textDoc(docs, 0, KindError, "", KindError, b.String())
		}
	case "error":
		// Gemini CLI and Codex: {"type":"error","message":…}; Gemini CLI's
		// saved chats: {"type":"error","content":…}.
		docs = textDoc(docs, 0, KindError, "", KindError, cmp.Or(str(v.Get("message")), str(v.Get("content"))))
	case "gemini":
		// Gemini CLI's saved chats: the model's text, then its thoughts
		// (a subject and a description each). Its tool calls are rows of
		// their own.
		docs = textDoc(docs, 0, KindAssistant, "", "", str(v.Get("content")))
		for i, t := range v.GetArray("thoughts") {
			docs = textDoc(docs, min(i+1, maxParts-1), KindThinking, "", "", strings.TrimSpace(str(t.Get("subject"))+"\n"+str(t.Get("description"))))
		}
	case "message":
		// Gemini CLI: {"type":"message","role":…,"content":"…"}; Codex's
		// older session files: the content in blocks, [{"type":
		// "input_text"|"output_text","text":…}].
		role := str(v.Get("role"))
		if role == KindUser || role == KindAssistant {
			docs = textDoc(docs, 0, role, "", "", contentText(v.Get("content")))
		}
	case "item.completed":
		// Codex: the agent's messages and reasoning; its commands are tool calls.
		item := v.Get("item")
		switch str(item.Get("type")) {
		case "agent_message":
			docs = textDoc(docs, 0, KindAssistant, "", "", str(item.Get("text")))
		case "reasoning":
			docs = textDoc(docs, 0, KindThinking, "", "", str(item.Get("text")))
		case "error":
			docs = textDoc(docs, 0, KindError, "", KindError, str(item.Get("message")))
		}
	case "event_msg":
		// Codex's session files: what the user typed and what the agent
		// said, as the CLI showed them. The model's own copy of each
		// (response_item lines) is not read: it repeats them among the
		// instructions Codex sends with every turn.
		pl := v.Get("payload")
		switch subtype {
		case "user_message":
			docs = textDoc(docs, 0, KindUser, "", "", str(pl.Get("message")))
		case "agent_message":
			docs = textDoc(docs, 0, KindAssistant, "", "", str(pl.Get("message")))
		case "agent_reasoning":
			docs = textDoc(docs, 0, KindThinking, "", "", str(pl.Get("text")))
		case "error":
			docs = textDoc(docs, 0, KindError, "", KindError, str(pl.Get("message")))
		}
	}
	return mergeLastPart(docs)
}

// contentText is the text of a content that is a string, or a list of
// parts or blocks with "text" (Gemini CLI's saved chats, Codex's older
// session files), their texts one to a line.
func contentText(c *fastjson.Value) string {
	if c == nil || c.Type() == fastjson.TypeString {
		return str(c)
	}
	var b strings.Builder
	for i, part := range c.GetArray() {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(str(part.Get("text")))
	}
	return b.String()
}

// ToolCallDocs is the documents of a tool call: its input (the string
// values of the input object, without the keys) and its output, or its
// error when it failed. Both carry the call's status.
func ToolCallDocs(name, input, output, status, errText string) []Doc {
	var docs []Doc
	docs = textDoc(docs, PartInput, KindInput, name, status, inputText(input))
	out := output
	if status == "error" && errText != "" {
		out = errText
	}
	return textDoc(docs, PartOutput, KindOutput, name, status, withoutMedia(out))
}

// withoutMedia is a tool's output with each image or document it holds
// (a content block the output keeps as a JSON object of its own line,
// {"type":"image","source":{"type":"base64","data":…}}, as Read and
// screenshot tools give them) named in its place, "image (image/png)".
// Base64 is no text to search, and split into random words it made the
// index larger than its text: ten 300 KB screenshots, a 1.0 MB index of
// 0.7 MB of text.
func withoutMedia(out string) string {
	if !strings.Contains(out, `"base64"`) && !strings.Contains(out, `"data":"`) {
		return out
	}
	lines := strings.Split(out, "\n")
	changed := false
	p := parsers.Get()
	defer parsers.Put(p)
	for i, l := range lines {
		if len(l) < 256 || l[0] != '{' || l[len(l)-1] != '}' {
			continue
		}
		v, err := p.Parse(l)
		if err != nil {
			continue
		}
		kind := str(v.Get("type"))
		src := v.Get("source")
		if src == nil {
			src = v // MCP's form: {"type":"image","data":…,"mimeType":…}
		}
		if (kind != "image" && kind != "document" && kind != "audio") || len(str(src.Get("data"))) < 256 {
			continue
		}
		// In parentheses: a search's plain output marks matches with
		// brackets, and "[[image] [image]/png]" is hard to read.
		if media := cmp.Or(str(src.Get("media_type")), str(src.Get("mimeType"))); media != "" {
			kind += " (" + media + ")"
		}
		lines[i] = kind
		changed = true
	}
	if !changed {
		return out
	}
	return strings.Join(lines, "\n")
}

// inputText is the string values of a tool's JSON input, one a line: the
// command, the path, the pattern, the text written. Keys and numbers are
// left out, as nobody searches for "file_path". An input that is not JSON
// is taken as it is.
func inputText(input string) string {
	if input == "" {
		return ""
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.Parse(input)
	if err != nil {
		return input
	}
	var b strings.Builder
	var walk func(v *fastjson.Value)
	walk = func(v *fastjson.Value) {
		switch v.Type() {
		case fastjson.TypeString:
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.Write(v.GetStringBytes())
		case fastjson.TypeArray:
			for _, x := range v.GetArray() {
				walk(x)
			}
		case fastjson.TypeObject:
			o, _ := v.Object()
			o.Visit(func(_ []byte, x *fastjson.Value) { walk(x) })
		}
	}
	walk(v)
	return b.String()
}

func str(v *fastjson.Value) string {
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	return string(v.GetStringBytes())
}

// textDoc appends a document when text has something to search for.
func textDoc(docs []Doc, part int, kind, tool, status, text string) []Doc {
	if strings.TrimSpace(text) == "" {
		return docs
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	return append(docs, Doc{Part: part, Kind: kind, Tool: tool, Status: status, Text: text})
}

// mergeLastPart joins the documents of blocks past the last part into one,
// so that every document has a rowid of its own.
func mergeLastPart(docs []Doc) []Doc {
	first := -1
	for i, d := range docs {
		if d.Part == maxParts-1 {
			first = i
			break
		}
	}
	if first < 0 || first == len(docs)-1 {
		return docs
	}
	var b strings.Builder
	for _, d := range docs[first:] {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Text)
	}
	docs[first].Text = b.String()
	return docs[:first+1]
}

// DocAt is the document of docs at part, or nil.
func DocAt(docs []Doc, part int) *Doc {
	for i := range docs {
		if docs[i].Part == part {
			return &docs[i]
		}
	}
	return nil
}

// The full-text table's tokenizer (unicode61) takes a run of letters as one
// word. Chinese and Japanese are written without spaces, so a sentence
// would be one word that no search matches: their characters are indexed
// each as a word of its own, and a query's words are split alike, so that
// a word of two characters is found as a phrase of two.

// isIdeo says whether r is written without spaces between words: the
// CJK ideographs, Hiragana and Katakana.
func isIdeo(r rune) bool {
	switch {
	case r < 0x3040:
		return r >= 0x2E80 && r < 0x2FE0 // radicals
	case r < 0x3100:
		return r != 0x30A0 && r != 0x30FB // kana, without the double hyphen and the middle dot
	case r < 0x3400:
		return r >= 0x31F0 && r < 0x3200 // small katakana
	case r < 0xA000:
		return r < 0x4DC0 || r >= 0x4E00 // extension A, unified ideographs
	case r < 0xF900:
		return false
	case r < 0xFB00:
		return true // compatibility ideographs
	}
	return r >= 0x20000 && r < 0x32000 // extensions B and later
}

// spaceIdeographs puts a space on each side of every Chinese or Japanese
// character of s; text without any is returned as it is.
func spaceIdeographs(s string) string {
	var b []byte
	last := 0 // s[:last] is in b
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0xE2 {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isIdeo(r) {
			i += size
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s)+len(s)/4)
		}
		b = append(b, s[last:i]...)
		b = append(b, ' ')
		b = append(b, s[i:i+size]...)
		b = append(b, ' ')
		i += size
		last = i
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}
