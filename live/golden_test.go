package live

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/redact"
	"github.com/convlog/convlog/stream"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixtures are the real-shaped streams of every agent that the project
// carries: Claude Code's in cli/testdata, the others' in stream/testdata.
func fixtures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../cli/testdata/sample.jsonl", "../cli/testdata/corpus/*.jsonl", "../stream/testdata/agents/*/*.jsonl"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	return files
}

// goldenName is a fixture's golden file: its folder and name, without the
// paths common to all.
func goldenName(path, suffix string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(filepath.ToSlash(path), "../cli/testdata/"), "../stream/testdata/agents/")
	return filepath.Join("testdata", strings.ReplaceAll(strings.TrimSuffix(rel, ".jsonl"), "/", "-")+suffix)
}

// t0 is the start of every narrated session; a line is read every 250 ms.
var t0 = time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC)

// narrate runs a stream through a Processor with redaction, as tee does,
// and returns what the Narrator wrote. The clock stands at 42.5 s after
// the start when the session ends.
func narrate(t *testing.T, data []byte, o Options) []byte {
	t.Helper()
	red, err := redact.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := stream.NewProcessor(discard{})
	p.Redactor = red
	var out bytes.Buffer
	o.Now = func() time.Time { return t0.Add(42500 * time.Millisecond) }
	o.Started = t0
	if o.CWD == "" {
		o.CWD = "/srv/here"
	}
	n := Attach(p, &out, o)
	var fr stream.Framer
	i := int64(0)
	line := func(l []byte) {
		i++
		p.Line(l, t0.UnixMilli()+i*250)
	}
	fr.Feed(data, line)
	fr.Flush(line)
	n.End(p.Totals(), ".turso/sessions/0199aa00-0000-7000-8000-000000000001.db")
	return out.Bytes()
}

func readFixture(path string) ([]byte, error) { return os.ReadFile(path) }

type discard struct{}

func (discard) Message(*stream.Message)       {}
func (discard) ToolUse(*stream.ToolUse)       {}
func (discard) ToolResult(*stream.ToolResult) {}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGolden narrates every fixture, plain and in GitHub Actions, at a
// fixed width and clock.
func TestGolden(t *testing.T) {
	for _, path := range fixtures(t) {
		data := readFile(t, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			golden(t, goldenName(path, ".golden"), narrate(t, data, Options{Width: 100}))
			golden(t, goldenName(path, ".github.golden"), narrate(t, data, Options{Width: 100, GitHub: true}))
		})
	}
}

// TestGoldenFullAndColour: the sample session with --progress=full, and on
// a terminal in colour.
func TestGoldenFullAndColour(t *testing.T) {
	data, err := os.ReadFile("../cli/testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/sample.full.golden", narrate(t, data, Options{Width: 100, Mode: Full}))
	golden(t, "testdata/sample.colour.golden", narrate(t, data, Options{Width: 100, Color: true}))
}
