package live

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/convlog/convlog/stream"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{
		"": Off, "0": Off, "false": Off, "off": Off, "no": Off,
		"1": Short, "true": Short, "on": Short, "yes": Short, "short": Short, " TRUE ": Short,
		"full": Full, "Full": Full,
	} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseMode("2"); err == nil {
		t.Error("ParseMode(2) is not an error")
	}
}

func TestInputDigest(t *testing.T) {
	for _, tc := range []struct{ input, want string }{
		{`{"command":"npm test","description":"Run the tests"}`, "npm test"},
		{`{"command":"/bin/bash -lc 'npm run build'"}`, "npm run build"},
		{`{"command":"/bin/zsh -lc ls"}`, "ls"},
		{`{"command":"/bin/bash -lc 'echo '\''x'\'''"}`, `/bin/bash -lc 'echo '\''x'\'''`},
		{`{"command":["git","status"]}`, "git status"},
		{`{"file_path":"/srv/app/src/a.go","old_string":"x","new_string":"y"}`, "src/a.go"},
		{`{"file_path":"/elsewhere/a.go"}`, "/elsewhere/a.go"},
		{`{"filePath":"/srv/app/tests/conftest.py"}`, "tests/conftest.py"},
		{`{"absolute_path":"/srv/app/go.mod"}`, "go.mod"},
		{`{"pattern":"func main","path":"/srv/app/cmd","output_mode":"content"}`, "func main"},
		{`{"globPattern":"**/*.go","targetDirectory":"/srv/app"}`, "**/*.go"},
		{`{"url":"https://example.com/a","prompt":"Summarise"}`, "https://example.com/a"},
		{`{"query":"golang context deadline"}`, "golang context deadline"},
		{`{"description":"Find other float rounding","prompt":"Search the repository…","subagent_type":"general-purpose"}`, "Find other float rounding"},
		{`{"paths":["/srv/app/a.go","/srv/app/b.go"]}`, "a.go, b.go"},
		{`{"changes":[{"path":"/srv/app/page.tsx","kind":"update"},{"path":"/srv/app/old.ts","kind":"delete"}]}`, "update page.tsx, delete old.ts"},
		{`{"changes":{"/srv/app/src/router.ts":{"update":{"unified_diff":"@@"}}}}`, "update src/router.ts"},
		{`{"todos":[{"content":"a","status":"completed"},{"content":"Run the tests","status":"in_progress"},{"content":"c","status":"pending"}]}`, "3 todos, 1 done, now: Run the tests"},
		{`{"owner":"acme","repo":"web","issue_number":412,"labels":["bug"]}`, "owner=acme repo=web issue_number=412"},
		{`{"command":""}`, ""},
		{`{}`, ""},
		{`null`, ""},
		{`"plain"`, "plain"},
		{`not json`, "not json"},
		{``, ""},
	} {
		var p fastjson.Parser
		if got := inputDigest(&p, []byte(tc.input), "/srv/app"); got != tc.want {
			t.Errorf("inputDigest(%s) = %q, want %q", tc.input, got, tc.want)
		}
	}
}

func TestErrorLine(t *testing.T) {
	for in, want := range map[string]string{
		"<tool_use_error>String to replace not found in file.\nString: x</tool_use_error>": "String to replace not found in file.",
		"Exit code 1\n> web build\n\nType error: bad prop\n":                               "Exit code 1: Type error: bad prop",
		"Error: Exit code 2\nmake: *** [test] Error 1":                                     "Error: Exit code 2: make: *** [test] Error 1",
		"Exit code 1":           "Exit code 1",
		"\n\n  declined  \n":    "declined",
		"Exit codes 1\nnext":    "Exit codes 1",
		"":                      "",
		"--- FAIL: TestA\nFAIL": "--- FAIL: TestA",
	} {
		if got := errorLine([]byte(in)); got != want {
			t.Errorf("errorLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// A failed command's output of megabytes on one line is looked at no
// further than a line can use.
func TestErrorLineOfHugeOutput(t *testing.T) {
	huge := "Exit code 1\n" + strings.Repeat("é", 3<<20) + "\nfatal: the end\n"
	if got := errorLine([]byte(huge)); got != "Exit code 1: fatal: the end" {
		t.Fatalf("errorLine = %q", got)
	}
	got := errorLine([]byte(strings.Repeat("é", 3<<20)))
	if len(got) > maxLine || !utf8.ValidString(got) || !strings.HasPrefix(got, "éé") {
		t.Fatalf("errorLine of one huge line: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1k", 12345: "12.3k", 99999: "100k", 100000: "100k", 654321: "654k", 1_000_000: "1M", 4_150_000: "4.2M"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

// Every line the fixtures give fits the width, but the start and end,
// which are not cut, and GitHub's workflow commands.
func TestLinesFitTheWidth(t *testing.T) {
	for _, path := range fixtures(t) {
		data := readFile(t, path)
		for _, w := range []int{100, 40} {
			out := narrate(t, data, Options{Width: w})
			for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
				if strings.HasPrefix(l, "●") || strings.HasPrefix(l, "■") || strings.HasPrefix(l, "  ") && !strings.Contains(l, "│") && !strings.ContainsAny(l, "▸✓✗") {
					continue
				}
				if width(l) > w {
					t.Errorf("%s at width %d: line of %d columns: %q", path, w, width(l), l)
				}
			}
		}
	}
}

// hostile is a session whose texts, tool names, inputs and errors try to
// pass for GitHub workflow commands and terminal escapes.
const hostile = `{"type":"system","subtype":"init","cwd":"/w","session_id":"s1","model":"m","tools":[]}
{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"::add-mask::x\n::error::pwned\r::stop-commands::t\u001b[2J"}]}}
{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"::set-output name=a::b","input":{"command":"echo\n::error::in-command"}}]}}
{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"\n::error file=a,line=1::100%\n"}]}}
`

// No text of the session can start a line the runner would read as a
// workflow command: every line starts with a mark of convlog's, or is one
// of its own commands, with the session's text escaped in it.
func TestNoWorkflowCommandFromTheSession(t *testing.T) {
	for _, mode := range []Mode{Short, Full} {
		out := string(narrate(t, []byte(hostile), Options{Width: 100, GitHub: true, Mode: mode}))
		checkCommands(t, out)
		if strings.Contains(out, "\x1b") || strings.Contains(out, "\r") {
			t.Errorf("escape or carriage return in the narration:\n%q", out)
		}
		if !strings.Contains(out, "::warning title=%3A%3Aset-output name=a%3A%3Ab failed::") {
			t.Errorf("the failed call's warning is missing or unescaped:\n%s", out)
		}
	}
}

func checkCommands(t *testing.T, out string) {
	t.Helper()
	open := false
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(trimmed, "::group::"):
			if open {
				t.Errorf("a group opens inside another: %q", l)
			}
			open = true
		case trimmed == "::endgroup::":
			if !open {
				t.Errorf("a group ends that was not open")
			}
			open = false
		case strings.HasPrefix(trimmed, "::warning title="):
			rest := strings.TrimPrefix(trimmed, "::warning title=")
			title, _, ok := strings.Cut(rest, "::")
			if !ok || strings.ContainsAny(title, ",") {
				t.Errorf("bad warning: %q", l)
			}
		case strings.HasPrefix(trimmed, "::"):
			t.Errorf("the session's text passes for a workflow command: %q", l)
		}
	}
	if open {
		t.Errorf("a group is left open at the end:\n%s", out)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := readFixture(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// blockingWriter holds every write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *blockingWriter) Write(b []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// A stderr that does not keep up never holds up the one who puts lines:
// those that find the queue full are dropped, and the end says how many.
func TestSlowStderrDropsAndCounts(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	wr := newWriter(w, 8)
	const lines = 500
	done := make(chan struct{})
	go func() {
		for i := range lines {
			wr.put(fmt.Appendf(nil, "line %d\n", i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("put waited for stderr")
	}
	close(w.release)
	wr.finish([][]byte{[]byte("the end\n")})
	out := w.buf.String()
	written := strings.Count(out, "line ")
	var dropped int
	if _, err := fmt.Sscanf(out[strings.Index(out, "the end\n")+len("the end\n"):], "  %d progress lines dropped", &dropped); err != nil {
		t.Fatalf("no count of dropped lines after the end: %q (%v)", out, err)
	}
	if written+dropped != lines || dropped == 0 {
		t.Fatalf("%d lines written and %d dropped of %d", written, dropped, lines)
	}
}

// The end waits for a stderr that is stuck for good for a while only.
func TestStuckStderrDoesNotHoldTheEnd(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	defer close(w.release)
	wr := newWriter(w, 4)
	for range 10 {
		wr.put([]byte("x\n"))
	}
	ended := make(chan struct{})
	go func() {
		wr.finish([][]byte{[]byte("end\n")})
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(10 * closeWait):
		t.Fatal("the end waits for a stuck stderr")
	}
}

var _ stream.Sink = (*Narrator)(nil)

// A long text is clipped before it is turned into a line, to the same line.
func TestLongTextClipped(t *testing.T) {
	n := &Narrator{o: Options{Width: 80, Mode: Short}}
	long := strings.Repeat("lorem ipsum dolor sit amet ", 400)
	if got, want := n.textLines(0, string(n.clip([]byte(long)))), n.textLines(0, long); len(got) != 1 || got[0] != want[0] || !strings.HasSuffix(got[0], "…") {
		t.Fatalf("clipped %q, whole %q", got, want)
	}
	spaced := "start" + strings.Repeat(" \n", 2000) + "end"
	if got := n.textLines(0, string(n.clip([]byte(spaced)))); len(got) != 1 || got[0] != "│ start …" {
		t.Fatalf("a text cut in its whitespace: %q", got)
	}
	if got := n.clip([]byte("é" + strings.Repeat("é", 1000))); !utf8.Valid(got) {
		t.Fatalf("cut inside a character: %q", got[len(got)-8:])
	}
	full := &Narrator{o: Options{Width: 80, Mode: Full}}
	if got := full.clip([]byte(long)); string(got) != long {
		t.Fatal("--progress=full clipped the text")
	}
}
