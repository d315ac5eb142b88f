package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/convlog/convlog/record"
	_ "github.com/convlog/convlog/record" // registers the "sqlite" driver
	"github.com/convlog/convlog/stream"
)

// schemaDB is a database file on convlog's schema, with the stats extras
// when asked.
func schemaDB(t *testing.T, extras bool) *sql.DB {
	t.Helper()
	ddl, err := os.ReadFile(filepath.Join("..", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "stats.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(t.Context(), string(ddl)); err != nil {
		t.Fatal(err)
	}
	if extras {
		if err := record.CreateStatsExtras(t.Context(), db); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// recorder passes queries on to a database and keeps their text.
type recorder struct {
	db      *sql.DB
	queries []string
}

func (r *recorder) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r.queries = append(r.queries, q)
	return r.db.QueryContext(ctx, q, args...)
}

// toolsDB is a database on the schema with four sessions: one has tool
// calls in several tools, with and without durations and results, one has
// none, one is a copy of the first (the same agent session), and one
// started a day later.
func toolsDB(t *testing.T) *sql.DB {
	db := schemaDB(t, false)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	day := int64(1_760_000_000_000)
	sessions := []struct {
		id, agent string
		started   int64
		calls     int
	}{{"a", "agent-1", day, 40}, {"b", "", day + 1000, 0}, {"c", "agent-1", day + 2000, 3}, {"d", "", day + 86_400_000, 7}}
	for _, s := range sessions {
		exec(`INSERT INTO sessions (id, agent_session_id, started_at, ended_at, duration_ms, model, total_messages, total_tool_calls)
			VALUES (?, nullif(?, ''), ?, ?, 1000, 'claude-sonnet-4-20250514', 10, ?)`, s.id, s.agent, s.started, s.started+1000, s.calls)
		exec(`INSERT INTO messages (id, session_id, sequence, type, raw_message) VALUES (?, ?, 0, 'assistant', '{}')`, s.id+"-msg-0", s.id)
		for i := range s.calls {
			name := []any{"Bash", "Read", nil}[i%3]
			status := []string{"success", "error", "pending", "success"}[i%4]
			var dur any = int64((i * 7919) % 1000)
			if status == "pending" || i%5 == 0 {
				dur = nil
			}
			exec(`INSERT INTO tool_calls (id, tool_use_id, session_id, tool_name, status, duration_ms, tool_output) VALUES (?, ?, ?, ?, ?, ?, 'out')`,
				fmt.Sprintf("%s-tool-%d", s.id, i), fmt.Sprintf("toolu_%d", i), s.id, name, status, dur)
		}
	}
	return db
}

var readsTable = regexp.MustCompile(`(?i)\b(FROM|JOIN)\s+(messages|tool_calls)\b`)

// TestStatsReadNeitherLinesNorOutputs: with the tool figures, the
// statistics read neither the messages nor the tool calls, whose rows hold
// the lines and the tools' outputs; without them, only the tool calls.
func TestStatsReadNeitherLinesNorOutputs(t *testing.T) {
	for _, figures := range []bool{true, false} {
		db := toolsDB(t)
		if figures {
			for _, q := range []string{record.ToolsDDL, record.ToolsFill} {
				if _, err := db.ExecContext(t.Context(), q); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, r := range []StatsRange{{}, {Since: 1, Until: 1_760_000_100_000}} {
			rec := &recorder{db: db}
			st, err := CollectStats(t.Context(), rec, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Tools) == 0 {
				t.Errorf("figures %v, range %+v: no tools", figures, r)
			}
			for _, q := range rec.queries {
				m := readsTable.FindStringSubmatch(q)
				if m != nil && (m[2] == "messages" || figures) {
					t.Errorf("figures %v, range %+v: the statistics read %q", figures, r, q)
				}
			}
		}
	}
}

// TestToolFiguresEqualToolCalls: the tool statistics are the same whether
// they come from the tool figures (with their durations in any order, as
// a database filled from its own tool calls has them), from the tool calls
// (a database synced by an older convlog), or from both (a session whose
// figures are missing); over all sessions and over a range.
func TestToolFiguresEqualToolCalls(t *testing.T) {
	db := toolsDB(t)
	collect := func(r StatsRange) *Stats {
		t.Helper()
		st, err := CollectStats(t.Context(), db, r)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	ranges := []StatsRange{{}, {Since: 1_760_000_000_500}, {Until: 1_760_000_001_500}}
	var want []*Stats
	for _, r := range ranges {
		want = append(want, collect(r))
	}
	if len(want[0].Tools) != 3 || want[0].Tools[0].P95DurationMS == nil || len(want[0].Copies) != 1 {
		t.Fatalf("the fixture makes no figures to compare: %+v, copies %v", want[0].Tools, want[0].Copies)
	}
	steps := []struct{ name, sql string }{
		{"figures", record.ToolsDDL + "; " + record.ToolsFill + "; UPDATE " + record.ToolsTable + " SET durations = '[' || substr(durations, 2)"},
		{"figures of some sessions", "DELETE FROM " + record.ToolsTable + " WHERE session_id IN ('a', 'd')"},
	}
	for _, step := range steps {
		if _, err := db.ExecContext(t.Context(), step.sql); err != nil {
			t.Fatal(err)
		}
		for i, r := range ranges {
			if got := collect(r); !reflect.DeepEqual(got, want[i]) {
				t.Errorf("%s, range %+v:\n got %+v\nwant %+v", step.name, r, got.Tools, want[i].Tools)
			}
		}
	}
}

// TestStatsExtrasKnown: HasStatsExtras tells a database with them from one
// without, and CollectStats reads both.
func TestStatsExtrasKnown(t *testing.T) {
	ctx := context.Background()
	for _, extras := range []bool{true, false} {
		db := schemaDB(t, extras)
		has, err := record.HasStatsExtras(ctx, db)
		if err != nil || has != extras {
			t.Errorf("HasStatsExtras = %v, %v; want %v", has, err, extras)
		}
		if _, err := CollectStats(ctx, db, StatsRange{}); err != nil {
			t.Errorf("extras %v: %v", extras, err)
		}
	}
}

// TestLongContextPrice: a Sonnet 4 request of more than 200k input tokens
// is billed whole at the long-context rates, input, output and cache
// alike; one of 200k at the standard rates; models without long-context
// rates bill both tiers the same.
func TestLongContextPrice(t *testing.T) {
	p, ok := PriceOf("claude-sonnet-4-20250514")
	if !ok {
		t.Fatal("no price for Sonnet 4")
	}
	// 10 + 90,000 + 109,990 = 200,000 input tokens and 5 output: $3, $3.75,
	// $0.30 and $15 per million; above the threshold $6, $7.50, $0.60 and
	// $22.50.
	tok := TokenCounts{Input: 10, CacheWrite: 90_000, CacheRead: 109_990, Output: 5}
	if got, want := p.CostIn(stream.TierStandard, tok), (10*3+90_000*3.75+109_990*0.30+5*15)/1e6; math.Abs(got-want) > 1e-12 {
		t.Errorf("standard request: $%v, want $%v", got, want)
	}
	tok.Input = 11
	if got, want := p.CostIn(stream.TierLong, tok), (11*6+90_000*7.50+109_990*0.60+5*22.50)/1e6; math.Abs(got-want) > 1e-12 {
		t.Errorf("long request: $%v, want $%v", got, want)
	}
	opus, _ := PriceOf("claude-opus-4-5-20251101")
	if opus.CostIn(stream.TierLong, tok) != opus.CostIn(stream.TierStandard, tok) {
		t.Errorf("Opus 4.5 has no long-context rate")
	}
}
