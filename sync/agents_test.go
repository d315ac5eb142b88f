package sync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/agentcorpus"
	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// Sessions of every agent go to a target whose tables predate
// sessions.agent: the column is added, and each session arrives with its
// agent, its calls (whose ids, qualified by the agent's session id, do not
// collide across sessions that all number their items item_0, …), and
// every row as the file has it.
func TestAgentSessionsSyncToAnOlderTarget(t *testing.T) {
	t.Parallel()
	full := testkit.Schema(t)
	var lines []string
	for _, l := range strings.Split(full.SQL, "\n") {
		if !strings.Contains(l, "whose stream:") {
			lines = append(lines, l)
		}
	}
	older, err := record.ParseSchema(strings.Replace(strings.Join(lines, "\n"), "redactions        INTEGER DEFAULT 0, --", "redactions        INTEGER DEFAULT 0 --", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := columnOf(older, "agent"); ok {
		t.Fatal("the older schema has the agent column")
	}
	srv := testkit.Start(t)
	tg := Target{URL: srv.URL, Token: testToken}
	db := srv.DB()
	// The target as an older convlog left it.
	mustSync(t, tg, Options{Schema: older}, hostileSession(t, t.TempDir(), "before"))

	dir := t.TempDir()
	want := map[string]string{} // session → agent
	calls := 0
	for _, name := range []string{"gemini/tools-out-of-order.jsonl", "codex/overlapping-items.jsonl", "codex/resumed-thread.jsonl",
		"codex/killed-mid-command.jsonl", "cursor/tools-parallel-usage.jsonl", "opencode/two-steps.jsonl"} {
		data, err := os.ReadFile(filepath.Join(agentcorpus.FixtureDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		exp := agentcorpus.Parse(data)
		id := strings.NewReplacer("/", "-", ".", "-").Replace(name)
		s := testkit.NewSession(t, dir, id)
		for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			s.Line(l)
		}
		s.Finish()
		want[id] = exp.Agent
		calls += len(exp.Calls)
	}
	rep := mustSync(t, tg, Options{Schema: full}, filesIn(t, dir)...)
	if !rep.Migrated {
		t.Error("the target was not migrated")
	}
	for _, path := range filesIn(t, dir) {
		assertSame(t, db, path)
	}
	target := &target{t, db}
	for id, agent := range want {
		if n := target.count("SELECT count(*) FROM sessions WHERE id = ? AND agent = ?", id, agent); n != 1 {
			t.Errorf("session %s: agent %q not on the target", id, agent)
		}
	}
	if n := target.count("SELECT count(*) FROM tool_calls WHERE session_id IN (SELECT id FROM sessions WHERE agent IS NOT NULL)"); n != int64(calls) {
		t.Errorf("%d tool calls of agent sessions on the target, want %d", n, calls)
	}
	if n := target.count("SELECT count(*) FROM sessions WHERE id = 'before' AND agent IS NULL"); n != 1 {
		t.Error("the older session was changed")
	}
}

func columnOf(s *record.Schema, name string) (record.Column, bool) {
	for _, c := range s.Tables()["sessions"] {
		if c.Name == name {
			return c, true
		}
	}
	return record.Column{}, false
}
