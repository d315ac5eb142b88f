package stream

import (
	"bytes"
	"encoding/json"
	"io"
)

// `claude -p --output-format json` prints one JSON object, the result; with
// --verbose, or Claude Code's verbose view mode set in its settings, it
// prints instead a JSON array of every message of the run, the same objects
// that stream-json prints one to a line, on one line. Such a line, or a
// file holding such an array (written out by another tool, perhaps with
// indentation), is read as those lines.

// maxArrayLine is the longest line read as an array of messages: a run's
// whole output, held twice while it is split.
const maxArrayLine = 64 << 20

// DocumentLines returns the lines of data when data is a JSON document
// rather than JSONL: Gemini CLI's saved chat (ChatLines), an array of
// messages (ArrayLines), or an object written over several lines
// (ObjectLine); false for anything else.
func DocumentLines(data []byte) ([]byte, bool) {
	if lines, ok := ChatLines(data); ok {
		return lines, true
	}
	if lines, ok := ArrayLines(data); ok {
		return lines, true
	}
	return ObjectLine(data)
}

// arrayElements returns the elements of a line that is a JSON array of
// objects, each without whitespace between its tokens and otherwise as
// written; false for any other line.
func arrayElements(line []byte) ([][]byte, bool) {
	doc := bytes.TrimLeft(line, " \t\r")
	if len(doc) == 0 || doc[0] != '[' || len(line) > maxArrayLine {
		return nil, false
	}
	return splitArray(doc)
}

// ArrayLines returns the lines of data when data is one JSON array of
// objects (see above): each element a line; false for anything else.
func ArrayLines(data []byte) ([]byte, bool) {
	doc := bytes.TrimLeft(TrimBOM(data), " \t\r\n")
	if len(doc) == 0 || doc[0] != '[' {
		return nil, false
	}
	// A cheap look first: the first element must be an object with a type.
	head := bytes.TrimLeft(doc[1:min(len(doc), 4096)], " \t\r\n")
	if len(head) == 0 || head[0] != '{' || !bytes.Contains(doc[:min(len(doc), 4096)], []byte(`"type"`)) {
		return nil, false
	}
	elems, ok := splitArray(doc)
	if !ok {
		return nil, false
	}
	return append(bytes.Join(elems, []byte("\n")), '\n'), true
}

// ObjectLine returns data as one line when data is one JSON object written
// over several lines (`gemini -p … --output-format json` prints its result
// indented), without the whitespace between its tokens; false for anything
// else, a JSONL file among them.
func ObjectLine(data []byte) ([]byte, bool) {
	doc := bytes.TrimSpace(TrimBOM(data))
	if len(doc) == 0 || doc[0] != '{' || bytes.IndexByte(doc, '\n') < 0 {
		return nil, false
	}
	// JSONL's first line is a whole object; an indented object's is not.
	first, _, _ := bytes.Cut(doc, []byte("\n"))
	if json.Valid(bytes.TrimSpace(first)) {
		return nil, false
	}
	var buf bytes.Buffer
	buf.Grow(len(doc) + 1)
	if json.Compact(&buf, doc) != nil {
		return nil, false
	}
	buf.WriteByte('\n')
	return buf.Bytes(), true
}

// splitArray returns the elements of the JSON array doc, each compacted,
// in one buffer; false unless doc is one array of at least one object, of
// objects only, and nothing after it but whitespace.
func splitArray(doc []byte) ([][]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, false
	}
	var buf bytes.Buffer
	var ends []int
	for dec.More() {
		var e json.RawMessage
		if dec.Decode(&e) != nil || len(e) == 0 || e[0] != '{' || json.Compact(&buf, e) != nil {
			return nil, false
		}
		ends = append(ends, buf.Len())
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') || len(ends) == 0 {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	all := buf.Bytes()
	elems := make([][]byte, len(ends))
	from := 0
	for i, end := range ends {
		elems[i], from = all[from:end], end
	}
	return elems, true
}
