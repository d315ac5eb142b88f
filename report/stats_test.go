package report

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/record"
	_ "github.com/convlog/convlog/record" // registers the "sqlite" driver
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
