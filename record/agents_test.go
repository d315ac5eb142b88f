package record

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/agentcorpus"
	"github.com/convlog/convlog/stream"
)

// agentFile is what a session file holds of one agent stream, read back
// with SQL.
type agentFile struct {
	lines  [][]byte
	calls  map[string]agentcorpus.Call
	agent  sql.NullString
	sid    sql.NullString
	model  sql.NullString
	format sql.NullString
	rtype  sql.NullString
	rsub   sql.NullString
	isErr  sql.NullInt64
	in     sql.NullInt64
	out    sql.NullInt64
	cw     sql.NullInt64
	cr     sql.NullInt64
	cost   sql.NullFloat64
	turns  sql.NullInt64
	ended  sql.NullInt64
}

func readAgentFile(t *testing.T, path string) *agentFile {
	t.Helper()
	db, err := sql.Open("sqlite", DSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := &agentFile{calls: map[string]agentcorpus.Call{}}
	err = db.QueryRow(`SELECT agent, agent_session_id, model, source_format, result_type, result_subtype, is_error,
		input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, total_cost_usd, num_turns, ended_at FROM sessions`).
		Scan(&f.agent, &f.sid, &f.model, &f.format, &f.rtype, &f.rsub, &f.isErr, &f.in, &f.out, &f.cw, &f.cr, &f.cost, &f.turns, &f.ended)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT raw_message FROM messages ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var raw []byte
		rows.Scan(&raw)
		f.lines = append(f.lines, raw)
	}
	rows.Close()
	rows, err = db.Query(`SELECT id, tool_name, status, duration_ms FROM tool_calls`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, status string
		var d sql.NullInt64
		rows.Scan(&id, &name, &status, &d)
		c := agentcorpus.Call{Name: name, Status: status, DurationMS: -1}
		if d.Valid {
			c.DurationMS = d.Int64
		}
		f.calls[id] = c
	}
	return f
}

// check compares a session file with what its stream shows. Durations
// are compared when the lines were fed with the tests' clock (live).
func (f *agentFile) check(t *testing.T, want *agentcorpus.Expect, data []byte, live bool) {
	t.Helper()
	lines := bytes.Split(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] == '\n' {
		lines = lines[:len(lines)-1]
	}
	if len(f.lines) != want.Lines || len(lines) != want.Lines {
		t.Fatalf("%d messages, want %d", len(f.lines), want.Lines)
	}
	for i := range lines {
		if !bytes.Equal(f.lines[i], lines[i]) {
			t.Fatalf("message %d stored as %q, want %q", i, f.lines[i], lines[i])
		}
	}
	if len(f.calls) != len(want.Calls) {
		t.Errorf("%d tool calls %v, want %v", len(f.calls), f.calls, want.Calls)
	}
	for id, w := range want.Calls {
		got := f.calls[id]
		if !live {
			got.DurationMS, w.DurationMS = 0, 0
		}
		if got != w {
			t.Errorf("tool call %s: %+v, want %+v", id, got, w)
		}
	}
	str := func(v sql.NullString) string { return v.String }
	if str(f.agent) != want.Agent || str(f.sid) != want.SessionID || str(f.model) != want.Model {
		t.Errorf("agent %q session %q model %q, want %q %q %q", f.agent.String, f.sid.String, f.model.String, want.Agent, want.SessionID, want.Model)
	}
	if want.Agent != "" && want.Agent != "claude-code" && !strings.HasPrefix(f.format.String, strings.SplitN(want.Agent, "-", 2)[0]) {
		t.Errorf("source_format %q for %s", f.format.String, want.Agent)
	}
	if want.ResultType == "" {
		if f.rtype.Valid || f.isErr.Valid {
			t.Errorf("result %q is_error %v where the stream has none", f.rtype.String, f.isErr)
		}
	} else if f.rtype.String != want.ResultType || f.rsub.String != want.ResultSubtype || !f.isErr.Valid || (f.isErr.Int64 == 1) != want.IsError {
		t.Errorf("result %q/%q is_error %v, want %q/%q %v", f.rtype.String, f.rsub.String, f.isErr, want.ResultType, want.ResultSubtype, want.IsError)
	}
	if f.turns.Valid {
		t.Errorf("num_turns %d: no agent here reports turns", f.turns.Int64)
	}
	if want.Tokens == nil {
		if f.in.Valid || f.out.Valid {
			t.Errorf("tokens stored where the stream reports none")
		}
	} else if w := want.Tokens; f.in.Int64 != w.Input || f.out.Int64 != w.Output || f.cr.Int64 != w.CacheRead || f.cw.Int64 != w.CacheWrite || !f.in.Valid {
		t.Errorf("tokens in %v out %v cache read %v write %v, want %+v", f.in, f.out, f.cr, f.cw, *w)
	}
	if want.Cost == nil {
		if f.cost.Valid {
			t.Errorf("cost %v where the stream reports none", f.cost.Float64)
		}
	} else if !f.cost.Valid || f.cost.Float64 != *want.Cost {
		t.Errorf("cost %v, want %v", f.cost, *want.Cost)
	}
	if live && !f.ended.Valid {
		t.Errorf("session not finished")
	}
}

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
			readAgentFile(t, w.Path).check(t, want, data, true)
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
			readAgentFile(t, filepath.Join(dir, res.SessionID+".db")).check(t, want, data, false)
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
		if f := readAgentFile(t, w.Path); f.model.String != c.want {
			t.Errorf("%s with --model %s: model %q, want %q", c.file, c.flag, f.model.String, c.want)
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
		"codex/legacy-0.3x.jsonl": {"call_Zp0Oq9Nr8Ms7Lt6Ku5Jv4Iw3": "Exit code 1\nnpm ERR! Missing script: \"test\"\n"},
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
