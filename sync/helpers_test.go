package sync

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

const testToken = "tok-PLANTED-s3cr3t-0123456789"

// target queries the real server.
type target struct {
	t  testing.TB
	db *sql.DB
}

func (tg *target) count(q string, args ...any) int64 {
	tg.t.Helper()
	var n int64
	if err := tg.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		tg.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// rows reads every row of a query as typed values.
func readAll(t testing.TB, db *sql.DB, q string, args ...any) [][]any {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertSame checks that the target holds exactly the session file's rows
// in every column, value and type alike. Text that is not UTF-8 may arrive
// as a BLOB of the same bytes (see remoteArgs).
func assertSame(t testing.TB, db *sql.DB, path string) {
	t.Helper()
	local, err := record.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	var id string
	if err := local.QueryRow("SELECT id FROM sessions").Scan(&id); err != nil {
		t.Fatal(err)
	}
	schema := testkit.Schema(t)
	for _, table := range schema.Order() {
		var cols, exprs []string
		for _, c := range schema.Tables()[table] {
			cols = append(cols, quoteIdent(c.Name))
			// The target keeps tool calls under session-scoped ids.
			exprs = append(exprs, sourceExpr(table, c.Name))
		}
		where := "session_id = ?"
		if table == "sessions" {
			where = "id = ?"
		}
		order := " ORDER BY id"
		if table == record.UsageTable {
			order = " ORDER BY model, tier"
		}
		want := readAll(t, local, "SELECT "+strings.Join(exprs, ", ")+" FROM "+table+" WHERE "+where+strings.Replace(order, "id", toolKeyExpr, 1), id)
		got := readAll(t, db, "SELECT "+strings.Join(cols, ", ")+" FROM "+table+" WHERE "+where+order, id)
		if len(got) != len(want) {
			t.Fatalf("%s of %s: target has %d rows, the file %d", table, id, len(got), len(want))
		}
		for i := range want {
			for j := range want[i] {
				if !sameValue(want[i][j], got[i][j]) {
					t.Fatalf("%s of %s, row %d, column %s: target has %s, the file %s", table, id, i, cols[j], show(got[i][j]), show(want[i][j]))
				}
			}
		}
	}
	// The tool figures are the file's tool calls, summed up.
	tools, err := record.ToolRows(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, db, "SELECT "+strings.Join(record.ToolsCols, ", ")+" FROM "+record.ToolsTable+" WHERE session_id = ? ORDER BY tool_name", id)
	if len(got) != len(tools) {
		t.Fatalf("%s of %s: target has %d rows, the file's tool calls make %d", record.ToolsTable, id, len(got), len(tools))
	}
	for i := range tools {
		for j, v := range tools[i].Values() {
			if !sameValue(v, got[i][j]) {
				t.Fatalf("%s of %s, row %d, column %s: target has %s, the file's tool calls make %s", record.ToolsTable, id, i, record.ToolsCols[j], show(got[i][j]), show(v))
			}
		}
	}
}

func sameValue(want, got any) bool {
	switch w := want.(type) {
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(w, g)
	case string:
		if g, ok := got.([]byte); ok {
			return !utf8.ValidString(w) && string(g) == w
		}
		g, ok := got.(string)
		return ok && g == w
	default:
		return fmt.Sprintf("%T %v", want, want) == fmt.Sprintf("%T %v", got, got)
	}
}

func show(v any) string {
	s := fmt.Sprintf("%T %q", v, fmt.Sprint(v))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// tableDump is every row of every table but sync_marks, for checking that
// a sync changed nothing else in a session file.
func tableDump(t testing.TB, path string) string {
	t.Helper()
	db, err := record.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, r := range readAll(t, db, "SELECT name, sql FROM sqlite_master WHERE name <> 'sync_marks' AND name NOT LIKE 'sqlite_autoindex_sync_marks%' ORDER BY name") {
		fmt.Fprintf(&b, "%v\n", r)
		if strings.HasPrefix(fmt.Sprint(r[1]), "CREATE TABLE") {
			for _, row := range readAll(t, db, "SELECT * FROM "+quoteIdent(r[0].(string))+" ORDER BY rowid") {
				fmt.Fprintf(&b, "%q\n", fmt.Sprint(row...))
			}
		}
	}
	var mode string
	db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	b.WriteString("journal_mode " + mode)
	return b.String()
}

func syncOpts(t testing.TB) Options {
	return Options{Schema: testkit.Schema(t)}
}

func mustSync(t testing.TB, tg Target, opts Options, paths ...string) *Report {
	t.Helper()
	rep, err := Sync(context.Background(), tg, paths, opts)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	for _, s := range rep.Sessions {
		if s.Err != nil {
			t.Fatalf("sync of %s: %v", s.Path, s.Err)
		}
		if s.MarkErr != nil {
			t.Fatalf("sync of %s: %v", s.Path, s.MarkErr)
		}
	}
	return rep
}

func filesIn(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
