package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/agentcorpus"
)

// Every agent stream (the project's fixtures, and the shared corpus's real
// captures where it is there) through the real binary in a real pipe: the
// pass-through is the input, byte for byte, and the session file holds the
// tool calls, statuses, session id, model, tokens and result that the
// stream shows, as worked out apart from convlog's parser. Then the same
// files, mixed in one folder, through import.
func TestAgentStreamsThroughTee(t *testing.T) {
	t.Parallel()
	files := agentcorpus.Files()
	if len(files) < 10 {
		t.Fatalf("%d agent streams; the fixtures alone are more", len(files))
	}
	work := t.TempDir()
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		id := "agent-" + strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		id = strings.NewReplacer(".", "-").Replace(id) + "-" + string(rune('a'+i%26))
		res := runConvlog(t, work, data, nil, "tee", "-q", "--no-sync", "--dir", "s", "--session-id", id)
		if res.code != 0 || !bytes.Equal(res.stdout, data) {
			t.Errorf("%s: exit %d, pass-through equal %v: %s", f, res.code, bytes.Equal(res.stdout, data), res.stderr)
			continue
		}
		agentcorpus.ReadSessionFile(t, filepath.Join(work, "s", id+".db")).Check(t, agentcorpus.Parse(data), data, false)
	}

	imp := t.TempDir()
	sample, err := filepath.Abs("testdata/sample.jsonl") // and one of Claude Code's
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "--dir", "s", sample}
	for _, f := range files {
		args = append(args, f)
	}
	if res := runConvlog(t, imp, nil, nil, args...); res.code != 0 {
		t.Fatalf("import of the agent streams: exit %d: %s", res.code, res.stderr)
	}
	res := runConvlog(t, imp, nil, nil, "sql", "--dir", "s", "SELECT count(DISTINCT agent) FROM sessions WHERE agent IS NOT NULL")
	if res.code != 0 || string(res.stdout) != "count(DISTINCT agent)\n5\n" {
		t.Errorf("agents among the imported sessions: exit %d %q %s", res.code, res.stdout, res.stderr)
	}
	if res := runConvlog(t, imp, nil, nil, "stats", "--dir", "s", "--json"); res.code != 0 {
		t.Errorf("stats over every agent: exit %d: %s", res.code, res.stderr)
	}
}
