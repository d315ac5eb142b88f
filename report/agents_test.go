package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/agentcorpus"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/stream"
)

// agentArchive logs every agent stream into a session file of its own, as
// convlog tee does (Codex's with --model gpt-5-codex, which its stream does
// not name), and copies them all into one database, as the archive holds
// them. It returns the database, the session files, and what each stream
// shows by session id.
func agentArchive(t *testing.T) (*sql.DB, map[string]string, map[string]*agentcorpus.Expect, map[string]string) {
	t.Helper()
	ctx := context.Background()
	ddl, err := os.ReadFile(filepath.Join("..", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	schema, err := record.ParseSchema(string(ddl))
	if err != nil {
		t.Fatal(err)
	}
	db := schemaDB(t, false)
	dir := t.TempDir()
	files := map[string]string{}
	want := map[string]*agentcorpus.Expect{}
	sources := map[string]string{}
	for i, path := range agentcorpus.Files() {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		exp := agentcorpus.Parse(data)
		id := fmt.Sprintf("s%02d", i)
		meta := record.Meta{ID: id, StartedAt: 1_760_000_000_000 + int64(i)*86_400_000, PromptLength: -1, Source: "tee", SourceFormat: stream.FormatStreamJSON}
		if exp.Agent == "codex" && exp.Model == "" {
			meta.Model = "gpt-5-codex"
			exp.Model = meta.Model
		}
		w, err := record.Create(ctx, dir, schema, meta)
		if err != nil {
			t.Fatal(err)
		}
		p := stream.NewProcessor(w)
		var fr stream.Framer
		n := int64(0)
		line := func(l []byte) { n++; p.Line(l, meta.StartedAt+n*1000) }
		fr.Feed(data, line)
		fr.Flush(line)
		if err := w.Finish(p.Totals(), meta.StartedAt+(n+1)*1000); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"ATTACH ? AS f",
			"INSERT INTO sessions SELECT * FROM f.sessions", "INSERT INTO messages SELECT * FROM f.messages",
			"INSERT INTO tool_calls SELECT * FROM f.tool_calls", "INSERT INTO " + record.UsageTable + " SELECT * FROM f." + record.UsageTable,
			"DETACH f"} {
			var args []any
			if strings.HasPrefix(q, "ATTACH") {
				args = append(args, w.Path)
			}
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		files[id], want[id], sources[id] = w.Path, exp, path
	}
	return db, files, want, sources
}

// TestStatsByAgent: the statistics answer across agents, and by agent,
// with the figures the streams show.
func TestStatsByAgent(t *testing.T) {
	db, _, want, _ := agentArchive(t)
	st, err := CollectStats(t.Context(), db, StatsRange{})
	if err != nil {
		t.Fatal(err)
	}
	type figures struct {
		sessions, errors, calls, toolErrors int64
		reported                            float64
		estimated                           float64
		in, out                             int64
	}
	expect := map[string]*figures{}
	for _, e := range want {
		f := expect[e.Agent]
		if f == nil {
			f = &figures{}
			expect[e.Agent] = f
		}
		f.sessions++
		if e.ResultType != "" && e.IsError {
			f.errors++
		}
		f.calls += int64(len(e.Calls))
		f.toolErrors += int64(e.Statuses()["error"])
		if e.Cost != nil {
			f.reported += *e.Cost
		}
		if e.Tokens != nil {
			f.in += e.Tokens.Input
			f.out += e.Tokens.Output
			if p, ok := PriceOf(e.Model); ok && e.Cost == nil && e.Agent != "gemini-cli" {
				f.estimated += p.Cost(TokenCounts{Input: e.Tokens.Input, Output: e.Tokens.Output, CacheWrite: e.Tokens.CacheWrite, CacheRead: e.Tokens.CacheRead})
			}
		}
	}
	if len(st.ByAgent) != len(expect) {
		t.Fatalf("%d agents %+v, want %d", len(st.ByAgent), st.ByAgent, len(expect))
	}
	for _, a := range st.ByAgent {
		w := expect[deref(a.Agent)]
		if w == nil || a.Agent == nil {
			t.Errorf("agent %v not expected", a.Agent)
			continue
		}
		got := figures{sessions: a.Sessions, errors: a.Errors, calls: a.ToolCalls, toolErrors: a.ToolErrors, in: a.Cost.Input, out: a.Cost.Output}
		if a.Cost.ReportedCostUSD != nil {
			got.reported = *a.Cost.ReportedCostUSD
		}
		if a.Cost.EstimatedCostUSD != nil {
			got.estimated = *a.Cost.EstimatedCostUSD
		}
		if *a.Agent == "gemini-cli" {
			got.estimated = 0 // checked by model below
		}
		if math.Abs(got.reported-w.reported) > 1e-12 || math.Abs(got.estimated-w.estimated) > 1e-12 {
			t.Errorf("%s: cost %v/%v, want %v/%v", *a.Agent, got.reported, got.estimated, w.reported, w.estimated)
		}
		got.reported, got.estimated, w.reported, w.estimated = 0, 0, 0, 0
		if got != *w {
			t.Errorf("%s: %+v, want %+v", *a.Agent, got, *w)
		}
	}
	// Gemini CLI: by the concrete models its result names, not the alias.
	byModel := map[string]ModelCost{}
	for _, m := range st.CostByModel {
		byModel[deref(m.Model)] = m
	}
	for name, tok := range map[string]TokenCounts{
		"gemini-2.5-flash":      {Input: 2638, Output: 351, CacheRead: 18011},
		"gemini-2.5-flash-lite": {Input: 3001, Output: 61},
	} {
		m := byModel[name]
		p, _ := PriceOf(name)
		if m.TokenCounts != tok || m.EstimatedCostUSD == nil || math.Abs(*m.EstimatedCostUSD-p.Cost(tok)) > 1e-12 {
			t.Errorf("%s: %+v est %v, want %+v at %v", name, m.TokenCounts, m.EstimatedCostUSD, tok, p.Cost(tok))
		}
	}
	if m, ok := byModel["gemini-3.5-flash"]; !ok || m.EstimatedCostUSD != nil || m.UnpricedSessions != 1 {
		t.Errorf("an unpriced model is estimated, or missing: %+v", m)
	}
	found := false
	for _, u := range st.Prices.UnpricedModels {
		found = found || u == "gemini-3.5-flash"
	}
	if !found {
		t.Errorf("unpriced models %v lack gemini-3.5-flash", st.Prices.UnpricedModels)
	}
	var text strings.Builder
	if err := st.WriteText(&text, false); err != nil || !strings.Contains(text.String(), "Sessions by agent") || !strings.Contains(text.String(), "gemini-cli") {
		t.Errorf("text: %v\n%s", err, text.String())
	}
}

// TestStatsWithoutAgentColumn: a database of an older schema (a synced
// database not yet migrated) is read, its sessions under no agent.
func TestStatsWithoutAgentColumn(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ddl, _ := os.ReadFile(filepath.Join("..", "schema.sql"))
	if _, err := db.Exec(string(ddl) + `; ALTER TABLE sessions DROP COLUMN agent;
		INSERT INTO sessions (id, started_at, total_messages) VALUES ('a', 1, 3)`); err != nil {
		t.Fatal(err)
	}
	st, err := CollectStats(t.Context(), db, StatsRange{})
	if err != nil || len(st.ByAgent) != 1 || st.ByAgent[0].Agent != nil || st.ByAgent[0].Messages != 3 {
		t.Fatalf("%+v %v", st, err)
	}
}

// TestAgentSessionsRead: query's text, JSON and Markdown, and list, say
// whose session it is, and the Markdown gives each agent's final answer.
func TestAgentSessionsRead(t *testing.T) {
	_, files, want, sources := agentArchive(t)
	ctx := t.Context()
	answers := map[string]string{
		"gemini/tools-out-of-order.jsonl":   "```\n`TestParse` in parse/parse_test.go (got 3, want 4).\n```",
		"codex/overlapping-items.jsonl":     "The build failed on a renamed prop; page.tsx is fixed.",
		"opencode/two-steps.jsonl":          "Fixed: the create endpoint now returns 201.",
		"codex/failed-turn.jsonl":           "Your input exceeds the context window of this model.",
		"opencode/auth-error.jsonl":         "No API key found for provider anthropic.",
		"codex/legacy-0.3x.jsonl":           "Added GET /health to src/router.ts.",
		"gemini/banner-loop-error.jsonl":    "Reached max session turns for this session.",
		"cursor/tools-parallel-usage.jsonl": "My fix was rejected",
		"codex/killed-mid-command.jsonl":    "No final message: the stream ended without one.",
	}
	seen := 0
	var entries []record.Entry
	for id, path := range files {
		r, err := record.OpenReader(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := r.Session(ctx)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, record.Entry{Path: path, ID: s.ID, Session: s})
		var text strings.Builder
		NewText(&text, false).Summary(s)
		if w := want[id].Agent; w != "" && !strings.Contains(text.String(), "Agent:") || deref(s.Agent) != want[id].Agent {
			t.Errorf("%s: agent %v, want %q:\n%s", id, s.Agent, want[id].Agent, text.String())
		}
		if j := SessionOf(s); deref(j.Agent) != want[id].Agent {
			t.Errorf("%s: JSON agent %v", id, j.Agent)
		}
		md := NewMarkdown(s)
		r.ToolOutcomes(ctx, s.ID, md.ToolCall)
		final, err := r.FinalMessages(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		md.Final(final)
		var out strings.Builder
		md.WriteTo(&out)
		r.Close()
		if s.Agent != nil && !strings.Contains(out.String(), "| "+*s.Agent+" |") {
			t.Errorf("%s: markdown lacks the agent:\n%s", id, out.String())
		}
		rel, _ := filepath.Rel(agentcorpus.FixtureDir(), sources[id])
		if answer, ok := answers[rel]; ok {
			seen++
			if !strings.Contains(out.String(), answer) {
				t.Errorf("%s: markdown lacks %q:\n%s", rel, answer, out.String())
			}
		}
	}
	if seen < len(answers) {
		t.Errorf("only %d of %d answers checked", seen, len(answers))
	}
	var list strings.Builder
	NewText(&list, false).List(entries, ListOptions{Wide: true})
	for _, a := range []string{"AGENT", "gemini-cli", "codex", "cursor", "opencode"} {
		if !strings.Contains(list.String(), a) {
			t.Errorf("list lacks %q:\n%s", a, list.String())
		}
	}
}
