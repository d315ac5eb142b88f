package archive

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// render writes spans with [ ] around matches, as the plain output does.
func render(spans []Span) string {
	var b strings.Builder
	for _, s := range spans {
		if s.Match {
			b.WriteString("[" + s.Text + "]")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("filler words here ", 40)
	for _, c := range []struct {
		query, text, want string
		width             int
	}{
		{"flaky", "the flaky test", "the [flaky] test", 80},
		// Case, accents, prefixes, phrases.
		{"FLAKY zebra", "Flaky ZÉBRA crossing", "[Flaky ZÉBRA] crossing", 80},
		{"FLAKY zebra", "Zébra flaky", "[Zébra] [flaky]", 80},
		{"migrat*", "a migration, then migrated rows", "a [migration], then [migrated] rows", 80},
		{`"flaky migration test"`, "the flaky migration test and a flaky test", "the [flaky migration test] and a flaky test", 80},
		{"flaky migration", "the flaky migration", "the [flaky migration]", 80},
		// Words inside other words are not matches; words split at
		// punctuation are.
		{"test", "attest testing run_test", "attest testing run_[test]", 80},
		// Chinese: a word is found inside a sentence.
		{"端口", "请确认配置文件中的端口号是否正确", "请确认配置文件中的[端口]号是否正确", 80},
		// Lines become one.
		{"flaky", "line one\n\tflaky   line two\r\n", "line one [flaky] line two", 80},
		{`"flaky test"`, "a flaky\r\n\t test", "a [flaky test]", 80},
		// Words under NOT and filters are not highlighted; the text's
		// beginning stands in when nothing is.
		{"flaky NOT test", "flaky test", "[flaky] test", 80},
		{"tool:Bash", "go test ./...", "go test ./...", 80},
		// A long text is cut around the window with the most words.
		{"needle", long + "the needle is here " + long, "…here the [needle] is here filler words here…", 40},
		{"alpha beta", "alpha " + long + " alpha beta gamma", "…here [alpha beta] gamma", 40},
	} {
		q, err := ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := render(q.Snippet(c.text, c.width)); got != c.want {
			t.Errorf("%s in %.30q:\n got %q\nwant %q", c.query, c.text, got, c.want)
		}
	}
}

// Whatever a stored text holds, a snippet is valid UTF-8 on one line,
// never much longer than asked, and made of the text's own characters.
func FuzzSnippet(f *testing.F) {
	f.Add("flaky", "the flaky test")
	f.Add(`"a b"*`, "a b\x00c \xff a bc")
	f.Add("端口", "请确认配置文件中的端口号是否正确")
	f.Fuzz(func(t *testing.T, query, text string) {
		q, err := ParseQuery(query)
		if err != nil {
			return
		}
		text = strings.ToValidUTF8(text, "\uFFFD")
		out := render(q.Snippet(text, 40))
		if !utf8.ValidString(out) {
			t.Fatalf("not UTF-8: %q", out)
		}
		if strings.ContainsAny(out, "\n\r\t") {
			t.Fatalf("not one line: %q", out)
		}
		plain := strings.NewReplacer("[", "", "]", "", "…", "").Replace(out)
		if n := utf8.RuneCountInString(plain); n > 40+utf8.RuneCountInString(text) || n > 40+200 {
			t.Fatalf("%d characters: %q", n, out)
		}
	})
}

// Whatever a stored line holds, its documents are valid UTF-8 with
// something to search for, each part once.
func FuzzMessageDocs(f *testing.F) {
	for _, s := range []string{
		`{"type":"user","message":{"role":"user","content":"hello"}}`,
		`{"type":"assistant","message":{"content":[{"type":"text","text":"a"},{"type":"thinking","thinking":"b"},{"type":"tool_use","id":"t","name":"Bash","input":{}}]}}`,
		`{"type":"result","subtype":"error_during_execution","is_error":true,"errors":["boom",1]}`,
		`{"type":"summary","summary":"s"}`,
		`{"type":"item.completed","item":{"type":"agent_message","text":"x"}}`,
		`{"type":"message","role":"assistant","content":"y","delta":true}`,
		"not json \xff",
	} {
		f.Add("user", "", []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ, subtype string, raw []byte) {
		seen := map[int]bool{}
		for _, d := range MessageDocs(typ, subtype, raw) {
			if !utf8.ValidString(d.Text) || strings.TrimSpace(d.Text) == "" {
				t.Fatalf("document %q", d.Text)
			}
			if seen[d.Part] || d.Part < 0 || d.Part >= maxParts {
				t.Fatalf("part %d", d.Part)
			}
			seen[d.Part] = true
		}
	})
}

// A message of more blocks than a rowid has room for keeps the last ones
// together in its last part.
func TestMessageDocsManyBlocks(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type":"assistant","message":{"content":[`)
	for i := range maxParts + 5 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"text","text":"w` + strings.Repeat("x", i%3) + `"}`)
	}
	b.WriteString(`]}}`)
	docs := MessageDocs("assistant", "", []byte(b.String()))
	if len(docs) != maxParts {
		t.Fatalf("%d documents, want %d", len(docs), maxParts)
	}
	last := docs[len(docs)-1]
	if last.Part != maxParts-1 || strings.Count(last.Text, "\n") != 5 {
		t.Errorf("last part %d: %q", last.Part, last.Text)
	}
}

// Only the beginning and the end of a very long text are indexed, cut
// between characters.
func TestIndexedPart(t *testing.T) {
	s := strings.Repeat("é", indexedHead) + "middle" + strings.Repeat("ü", indexedTail)
	got := indexedPart(s)
	if !utf8.ValidString(got) || strings.Contains(got, "middle") || len(got) > indexedHead+indexedTail+8 {
		t.Errorf("%d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if short := "short text"; indexedPart(short) != short {
		t.Error("a short text is changed")
	}
}
