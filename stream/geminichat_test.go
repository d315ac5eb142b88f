package stream

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func chatFixture(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join("..", "cli", "testdata", "import", "gemini", "session-2026-02-03T09-15-3f2a9c1e.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A saved chat's lines are its messages, each as written but for the
// whitespace between tokens, after the document without them, whose keys
// keep their order; nothing else is read as a chat.
func TestChatLines(t *testing.T) {
	doc := chatFixture(t)
	lines, ok := ChatLines(doc)
	if !ok {
		t.Fatal("not read as a chat")
	}
	var want struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(doc, &want); err != nil {
		t.Fatal(err)
	}
	got := bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n"))
	if len(got) != 1+len(want.Messages) {
		t.Fatalf("%d lines for %d messages", len(got), len(want.Messages))
	}
	if !bytes.HasPrefix(got[0], []byte(`{"sessionId":"3f2a9c1e-7b4d-4e21-9a0c-5d6e7f8a9b0c","projectHash":`)) || !bytes.HasSuffix(got[0], []byte(`,"kind":"main"}`)) {
		t.Errorf("first line %s", got[0])
	}
	for i, m := range want.Messages {
		var c bytes.Buffer
		json.Compact(&c, m)
		if !bytes.Equal(got[i+1], c.Bytes()) {
			t.Errorf("line %d:\n%s\nwant\n%s", i+1, got[i+1], c.Bytes())
		}
	}
	// The same document on one line, with a byte order mark; and \u escapes
	// kept as they are.
	var one bytes.Buffer
	json.Compact(&one, doc)
	if l, ok := ChatLines(append([]byte("\xef\xbb\xbf"), one.Bytes()...)); !ok || !bytes.Equal(l, lines) {
		t.Errorf("one line: %v\n%s", ok, l)
	}
	if l, ok := ChatLines([]byte(`{"sessionId":"s","projectHash":"p","messages":[{"id":"1","type":"user","content":"caf\u00e9"}]}`)); !ok ||
		string(l) != "{\"sessionId\":\"s\",\"projectHash\":\"p\"}\n{\"id\":\"1\",\"type\":\"user\",\"content\":\"caf\\u00e9\"}\n" {
		t.Errorf("escapes: %v %q", ok, l)
	}
	for name, data := range map[string]string{
		"a JSONL stream":          "{\"sessionId\":\"s\",\"projectHash\":\"p\",\"messages\":[]}\n{\"type\":\"user\"}\n",
		"no messages":             `{"sessionId":"s","projectHash":"p"}`,
		"no session":              `{"projectHash":"p","messages":[]}`,
		"messages not a list":     `{"sessionId":"s","projectHash":"p","messages":{}}`,
		"cut short":               `{"sessionId":"s","projectHash":"p","messages":[{"id":"1"`,
		"Gemini's prompt log":     `[{"sessionId":"s","messageId":0,"type":"user","message":"hi"}]`,
		"a transcript's line":     `{"type":"user","sessionId":"s","message":{"role":"user","content":"hi"}}`,
		"an empty session id":     `{"sessionId":"","projectHash":"p","messages":[]}`,
		"keys past the 4 KB head": `{"x":"` + string(bytes.Repeat([]byte("a"), 5000)) + `","sessionId":"s","projectHash":"p","messages":[]}`,
	} {
		if l, ok := ChatLines([]byte(data)); ok {
			t.Errorf("%s: read as a chat: %s", name, l)
		}
	}
}

// FuzzDocumentLines: never a panic; what is read as a saved chat, or as an
// array of messages, is lines of JSON objects, one for each message (and
// for a chat, a first one naming its session); an array line splits into
// the same.
func FuzzDocumentLines(f *testing.F) {
	f.Add(chatFixture(f))
	f.Add([]byte(`{"sessionId":"s","projectHash":"p","messages":[{"id":"1","type":"user","content":[{"text":"hi"}]}]}`))
	f.Add([]byte("{\"sessionId\":\"s\",\"projectHash\":\"p\",\"messages\":[]}\n{}\n"))
	f.Add([]byte(`[{"type":"system","subtype":"init"},{"type":"result","result":"ok"}]`))
	f.Add([]byte("{\n  \"response\": \"ok\",\n  \"stats\": {\"models\": {\"m\": {\"tokens\": {\"prompt\": 3}}}}\n}\n"))
	f.Add([]byte("[\n  {\"type\": \"user\", \"message\": {\"content\": \"a \\u00e9\"}}\n]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if lines, ok := ChatLines(data); ok {
			var doc struct {
				SessionID string            `json:"sessionId"`
				Messages  []json.RawMessage `json:"messages"`
			}
			if err := json.Unmarshal(TrimBOM(data), &doc); err != nil {
				t.Fatalf("read as a chat, but not JSON: %v", err)
			}
			got := splitLines(t, lines, 1+len(doc.Messages))
			var head struct {
				SessionID string `json:"sessionId"`
			}
			if json.Unmarshal(got[0], &head) != nil || head.SessionID != doc.SessionID || head.SessionID == "" {
				t.Fatalf("first line %s, session %q", got[0], doc.SessionID)
			}
		}
		if line, ok := ObjectLine(data); ok {
			got := splitLines(t, line, 1)
			var a, b any
			if json.Unmarshal(TrimBOM(data), &a) != nil || json.Unmarshal(got[0], &b) != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("one line %s is not the object %s", got[0], data)
			}
		}
		if lines, ok := ArrayLines(data); ok {
			var doc []map[string]any
			if err := json.Unmarshal(TrimBOM(data), &doc); err != nil {
				t.Fatalf("read as an array of objects, but it is none: %v", err)
			}
			got := splitLines(t, lines, len(doc))
			if elems, ok := arrayElements(bytes.TrimLeft(TrimBOM(data), " \t\r\n")); bytes.IndexByte(bytes.TrimSpace(data), '\n') < 0 &&
				(!ok || !slices.EqualFunc(elems, got, bytes.Equal)) {
				t.Fatalf("as a line: %v, %d elements for %d lines", ok, len(elems), len(got))
			}
		}
	})
}

// splitLines checks that lines holds n lines, each a JSON object, and
// returns them.
func splitLines(t *testing.T, lines []byte, n int) [][]byte {
	t.Helper()
	got := bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n"))
	if len(got) != n || !bytes.HasSuffix(lines, []byte("\n")) {
		t.Fatalf("%d lines for %d messages", len(got), n)
	}
	for i, l := range got {
		if !json.Valid(l) || l[0] != '{' {
			t.Fatalf("line %d is not a JSON object: %s", i, l)
		}
	}
	return got
}
