package record

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/agentcorpus"
	"github.com/convlog/convlog/stream"
)

// TestAgentStreamsIntoSessionFiles logs every agent stream as convlog tee
// does (a Processor and a Writer on a new session file, commits as lines
// come) and reads the file back with SQL.
func TestAgentStreamsIntoSessionFiles(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	dir := t.TempDir()
	for i, path := range agentcorpus.Files() {
		name, _ := filepath.Rel(filepath.Dir(filepath.Dir(path)), path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := agentcorpus.Parse(data)
			w, err := Create(ctx, dir, schema, Meta{ID: "s" + string(rune('a'+i)), StartedAt: 1_700_000_000_000, PromptLength: -1,
				Source: "tee", SourceFormat: stream.FormatStreamJSON})
			if err != nil {
				t.Fatal(err)
			}
			p := stream.NewProcessor(w)
			var fr stream.Framer
			n := int64(0)
			line := func(l []byte) {
				n++
				p.Line(l, 1_700_000_000_000+n*1000)
				if n%3 == 0 {
					w.Commit(p.Totals())
				}
			}
			fr.Feed(data, line)
			fr.Flush(line)
			if err := w.Finish(p.Totals(), 1_700_000_000_000+(n+1)*1000); err != nil || w.Err != nil {
				t.Fatal(err, w.Err)
			}
			agentcorpus.ReadSessionFile(t, w.Path).Check(t, want, data, true)
		})
	}
}

// TestImportMixedAgentsFolder imports a folder holding every agent's
// streams: each file becomes a session of its own agent.
func TestImportMixedAgentsFolder(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	src, dir := t.TempDir(), t.TempDir()
	files := agentcorpus.Files()
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		flat := strings.ReplaceAll(filepath.Base(filepath.Dir(path))+"-"+filepath.Base(path), string(filepath.Separator), "-")
		if err := os.WriteFile(filepath.Join(src, flat), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(src)
	agents := map[string]int{}
	ids := map[string]string{}
	for _, e := range entries {
		path := filepath.Join(src, e.Name())
		data, _ := os.ReadFile(path)
		want := agentcorpus.Parse(data)
		res, err := Import(ctx, path, dir, schema, ImportOptions{})
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if other, ok := ids[res.SessionID]; ok {
			t.Errorf("%s and %s imported as one session %s", other, e.Name(), res.SessionID)
		}
		ids[res.SessionID] = e.Name()
		if res.Agent != want.Agent {
			t.Errorf("%s: agent %q, want %q", e.Name(), res.Agent, want.Agent)
		}
		agents[res.Agent]++
		t.Run(e.Name(), func(t *testing.T) {
			agentcorpus.ReadSessionFile(t, filepath.Join(dir, res.SessionID+".db")).Check(t, want, data, false)
		})
		// Again: unchanged, so skipped.
		if again, err := Import(ctx, path, dir, schema, ImportOptions{}); err != nil || !again.Skipped || again.SessionID != res.SessionID {
			t.Errorf("%s imported again: %+v %v", e.Name(), again, err)
		}
	}
	for _, a := range []string{"gemini-cli", "codex", "cursor", "opencode"} {
		if agents[a] == 0 {
			t.Errorf("no %s session among %v", a, agents)
		}
	}
}

// TestModelFlagFillsTheGap: --model (Meta.Model) names the model of a
// stream that does not (Codex, opencode), and does not hide the model a
// stream does name, an alias resolved included.
func TestModelFlagFillsTheGap(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	dir := t.TempDir()
	for _, c := range []struct{ file, flag, want string }{
		{"codex/overlapping-items.jsonl", "gpt-5-codex", "gpt-5-codex"},
		{"opencode/two-steps.jsonl", "anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5"},
		{"gemini/tools-out-of-order.jsonl", "gemini-2.5-pro", "gemini-3.5-flash"},
		{"cursor/tools-parallel-usage.jsonl", "gpt-5", "Claude 4.5 Sonnet"},
	} {
		data, err := os.ReadFile(filepath.Join(agentcorpus.FixtureDir(), c.file))
		if err != nil {
			t.Fatal(err)
		}
		w, err := Create(ctx, dir, schema, Meta{ID: strings.NewReplacer("/", "-", ".", "-").Replace(c.file), Model: c.flag, PromptLength: -1})
		if err != nil {
			t.Fatal(err)
		}
		p := stream.NewProcessor(w)
		var fr stream.Framer
		fr.Feed(data, func(l []byte) { p.Line(l, 1) })
		w.Finish(p.Totals(), 2)
		if f := agentcorpus.ReadSessionFile(t, w.Path); f.Model() != c.want {
			t.Errorf("%s with --model %s: model %q, want %q", c.file, c.flag, f.Model(), c.want)
		}
	}
}

// A failed call's error column says why, in the agent's words: its error
// message, a declined or rejected call's reason, or a command's exit code
// and output.
func TestAgentErrorTexts(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	dir := t.TempDir()
	want := map[string]map[string]string{
		"codex/overlapping-items.jsonl": {
			"item_2": "Exit code 1\n> web@0.1.0 build\n> next build\n\nType error: Property 'title' does not exist on type 'Props'.\n",
			"item_7": "declined",
			"item_8": "tool call failed: 401 Unauthorized",
		},
		"codex/legacy-0.3x.jsonl":         {"call_Zp0Oq9Nr8Ms7Lt6Ku5Jv4Iw3": "Exit code 1\nnpm ERR! Missing script: \"test\"\n"},
		"gemini/tools-out-of-order.jsonl": {"read_file__call_41209": "File not found: /home/dev/app/parse/missing_test.go"},
		"cursor/tools-parallel-usage.jsonl": {
			"toolu_vrtx_01Pq5Rs8Tu1Vw4Xy7Za0Bc3D": "User rejected the edit",
			"toolu_vrtx_01HkQ2mX9sPzR4tY7uW3eV5b": "Exit code 2\n--- FAIL: TestCart (0.00s)\n    cart_test.go:18: total 90, want 100\nFAIL\nmake: *** [test] Error 1\n",
		},
		"opencode/two-steps.jsonl": {
			"toolu_01Hd5Jf8Kg1Lh3Mj6Nk9Pl2Q": "File not found: /home/dev/api/tests/conftest.py",
			"toolu_01Xb7Kq2Wm9Rz4Tn6Yp8Lc3V": "Exit code 1\nF.\n1 failed, 1 passed in 0.41s\n",
		},
	}
	for file, errs := range want {
		data, err := os.ReadFile(filepath.Join(agentcorpus.FixtureDir(), file))
		if err != nil {
			t.Fatal(err)
		}
		w, err := Create(ctx, dir, schema, Meta{ID: strings.NewReplacer("/", "-", ".", "-").Replace(file), PromptLength: -1})
		if err != nil {
			t.Fatal(err)
		}
		p := stream.NewProcessor(w)
		var fr stream.Framer
		fr.Feed(data, func(l []byte) { p.Line(l, 1) })
		w.Finish(p.Totals(), 2)
		db, err := sql.Open("sqlite", DSN(w.Path, true))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		rows, err := db.Query(`SELECT id, error FROM tool_calls WHERE status = 'error'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, e string
			rows.Scan(&id, &e)
			got[id[strings.LastIndexByte(id, ':')+1:]] = e
		}
		rows.Close()
		db.Close()
		if len(got) != len(errs) {
			t.Errorf("%s: errors %q, want %q", file, got, errs)
		}
		for id, e := range errs {
			if got[id] != e {
				t.Errorf("%s %s: error %q, want %q", file, id, got[id], e)
			}
		}
	}
}
