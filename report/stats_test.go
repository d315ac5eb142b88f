package report

import (
	"context"
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"strings"
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

// queryPlan is the EXPLAIN QUERY PLAN of q, one step a line.
func queryPlan(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	var steps []string
	err := each(t.Context(), db, "EXPLAIN QUERY PLAN "+q, func(r *sql.Rows) error {
		var id, parent, unused int64
		var detail string
		if err := r.Scan(&id, &parent, &unused, &detail); err != nil {
			return err
		}
		steps = append(steps, detail)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(steps, "\n")
}

// TestToolsReadTheIndexOnly: with the archive's index, the tool figures
// are read from it alone (a step that reads table tool_calls would walk
// every tool output); without it, the same query runs all the same.
func TestToolsReadTheIndexOnly(t *testing.T) {
	for _, extras := range []bool{true, false} {
		db := schemaDB(t, extras)
		for _, r := range []StatsRange{{}, {Since: 1, Until: 2}} {
			q := "WITH s AS (SELECT * FROM sessions WHERE " + r.where() + ")" + toolsSQL
			plan := queryPlan(t, db, q)
			if extras {
				for _, step := range strings.Split(plan, "\n") {
					if strings.Contains(step, "tool_calls") && !strings.Contains(step, "COVERING INDEX "+record.StatsIndex) {
						t.Errorf("range %+v: step %q does not read the covering index:\n%s", r, step, plan)
					}
				}
				if !strings.Contains(plan, "COVERING INDEX "+record.StatsIndex) {
					t.Errorf("range %+v: the index is not used:\n%s", r, plan)
				}
			}
			st := &Stats{}
			if err := st.tools(t.Context(), db, "WITH s AS (SELECT * FROM sessions WHERE "+r.where()+")\n"); err != nil {
				t.Errorf("extras %v, range %+v: %v", extras, r, err)
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
