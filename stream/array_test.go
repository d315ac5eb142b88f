package stream

import (
	"bytes"
	"slices"
	"testing"
)

// An array of messages, on one line or indented over many, is read as its
// elements, each as written but for the whitespace between its tokens; a
// line or file that is anything else is not.
func TestArrayLines(t *testing.T) {
	line := []byte(`[{"type":"system","subtype":"init","session_id":"s"},{"type":"assistant","message":{"content":[{"type":"text","text":"caf\u00e9 \"x\""}]}},{"type":"result","result":"ok"}]`)
	want := [][]byte{
		[]byte(`{"type":"system","subtype":"init","session_id":"s"}`),
		[]byte(`{"type":"assistant","message":{"content":[{"type":"text","text":"caf\u00e9 \"x\""}]}}`),
		[]byte(`{"type":"result","result":"ok"}`),
	}
	elems, ok := arrayElements(line)
	if !ok || !slices.EqualFunc(elems, want, bytes.Equal) {
		t.Fatalf("line: %v %q", ok, elems)
	}
	indented := []byte("\xef\xbb\xbf[\n  {\n    \"type\": \"system\", \"subtype\": \"init\", \"session_id\": \"s\"\n  },\n  {\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"caf\\u00e9 \\\"x\\\"\"}]}},\n  {\"type\": \"result\", \"result\": \"ok\"}\n]\n")
	lines, ok := ArrayLines(indented)
	if !ok || string(lines) != string(bytes.Join(want, []byte("\n")))+"\n" {
		t.Fatalf("file: %v\n%s", ok, lines)
	}
	for name, data := range map[string]string{
		"an object":            `{"type":"result"}`,
		"no elements":          `[]`,
		"not objects":          `[1,2]`,
		"an object then not":   `[{"type":"user"},"x"]`,
		"cut short":            `[{"type":"user"},{"type":`,
		"two arrays":           `[{"type":"user"}][{"type":"user"}]`,
		"an array then a line": "[{\"type\":\"user\"}]\n{\"type\":\"user\"}",
	} {
		if _, ok := arrayElements([]byte(data)); ok {
			t.Errorf("%s: read as a line of messages", name)
		}
		if _, ok := ArrayLines([]byte(data)); ok {
			t.Errorf("%s: read as a file of messages", name)
		}
	}
	// Objects without a type are not an agent's messages as a file: JSON
	// data of some other tool is not imported as a session.
	if _, ok := ArrayLines([]byte(`[{"a":1}]`)); ok {
		t.Error("objects without a type read as a file of messages")
	}
}

// An object indented over several lines is read as one line; JSONL, a
// one-line object and what is not JSON are not.
func TestObjectLine(t *testing.T) {
	line, ok := ObjectLine([]byte("\xef\xbb\xbf{\n  \"response\": \"caf\\u00e9 ok\",\n  \"stats\": {\"models\": {}}\n}\n"))
	if want := "{\"response\":\"caf\\u00e9 ok\",\"stats\":{\"models\":{}}}\n"; !ok || string(line) != want {
		t.Fatalf("%v %q", ok, line)
	}
	for name, data := range map[string]string{
		"JSONL":         "{\"type\":\"user\"}\n{\"type\":\"user\"}\n",
		"one line":      "{\"response\":\"ok\"}\n",
		"cut short":     "{\n  \"response\": \"ok\"\n",
		"two objects":   "{\n\"a\":1\n}\n{\n\"a\":1\n}\n",
		"an array":      "[\n{\"a\":1}\n]\n",
		"plain text":    "hello\nworld\n",
		"a brace alone": "{\n",
	} {
		if l, ok := ObjectLine([]byte(data)); ok {
			t.Errorf("%s: read as one object: %q", name, l)
		}
	}
}
