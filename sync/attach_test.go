package sync

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// TestAttachedCopyIsTheRowByRowCopy syncs the same session files, through
// the same changes, into two archive files: one row by row, one by the
// attached copy. The archives must hold the same rows, the session files
// the same marks for each, and the reports must agree.
func TestAttachedCopyIsTheRowByRowCopy(t *testing.T) {
	// Not parallel: it switches attachCopies and attachMinRows, which every
	// sync reads.
	minRows := attachMinRows
	t.Cleanup(func() { attachCopies, attachMinRows = true, minRows })
	attachMinRows = 1
	// Characters that a file: URL would read otherwise.
	dir := filepath.Join(t.TempDir(), "odd ?#% name")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	h := hostileSession(t, dir, "h")
	b := testkit.BigSession(t, dir, "b", 700, 600)
	live := testkit.NewSession(t, dir, "live")
	live.Line(testkit.InitLine).Line(testkit.ToolUse("toolu_slow", "sleep 60")).Line(testkit.ToolUse("toolu_never", "hang")).Commit()
	// A copy of it taken while both calls were pending.
	stale := filepath.Join(t.TempDir(), "live.db")
	copyDB(t, live.Path, stale)

	rowsPath, attachedPath := filepath.Join(t.TempDir(), "rows.db"), filepath.Join(t.TempDir(), "attached.db")
	rowsTarget, attachedTarget := Target{URL: "file:" + rowsPath}, Target{URL: "file:" + attachedPath}
	before := map[string]string{}
	for _, p := range []string{h, b, stale} {
		before[p] = tableDump(t, p)
	}

	step := func(name string, opts Options, paths ...string) *Report {
		t.Helper()
		attachCopies = false
		rows := mustSync(t, rowsTarget, opts, paths...)
		attachCopies = true
		attached := mustSync(t, attachedTarget, opts, paths...)
		if rows.Rows != attached.Rows || rows.Bytes != attached.Bytes {
			t.Errorf("%s: row by row sent %d rows (%d bytes), the attached copy %d (%d bytes)", name, rows.Rows, rows.Bytes, attached.Rows, attached.Bytes)
		}
		withRows := 0
		for i, r := range rows.Sessions {
			a := attached.Sessions[i]
			if r.Todo != a.Todo || r.Rows != a.Rows || r.Done != a.Done || r.UpToDate != a.UpToDate {
				t.Errorf("%s, %s: row by row %+v, attached %+v", name, r.Path, r, a)
			}
			if r.Todo > 0 {
				withRows++
			}
		}
		// One chunk a session with rows: the attached copy was used, not
		// the row-by-row path it falls back to.
		if rows.Chunks <= withRows && rows.Rows > 100 {
			t.Fatalf("%s: row by row took %d chunks for %d rows", name, rows.Chunks, rows.Rows)
		}
		if attached.Chunks != withRows {
			t.Errorf("%s: the attached copy took %d chunks for %d sessions with rows", name, attached.Chunks, withRows)
		}
		if got, want := archiveDump(t, attachedPath), archiveDump(t, rowsPath); got != want {
			t.Errorf("%s: the archives differ\nattached:\n%.2000s\nrow by row:\n%.2000s", name, got, want)
		}
		for _, p := range paths {
			if got, want := markOf(t, p, attachedPath), markOf(t, p, rowsPath); got != want || want == "" {
				t.Errorf("%s, %s: the attached copy's mark %s, the row-by-row mark %s", name, p, got, want)
			}
		}
		return attached
	}

	// Small chunks, which the row-by-row path takes many of and the
	// attached copy ignores: it takes each file in one piece.
	opts := syncOpts(t)
	opts.ChunkRows = 50
	first := step("first run", opts, h, b, live.Path)
	if first.Rows == 0 {
		t.Fatal("nothing sent")
	}
	adb, err := record.OpenReadOnly(context.Background(), attachedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	assertSame(t, adb, h)
	assertSame(t, adb, b)

	// One call completes: it goes again, with the new lines; the call still
	// pending does not.
	live.Line(testkit.ToolResult("toolu_slow", "done", false)).Line(testkit.AssistantText(9, "finished")).Line(testkit.ResultLine)
	livePath := live.Finish()
	second := step("second run", opts, h, b, livePath)
	if second.Rows != 1+3+1+1+1 {
		t.Errorf("second run sent %d rows, want the session, three messages, the completed call, the usage row and the tool figures", second.Rows)
	}
	assertSame(t, adb, livePath)
	if third := step("third run", opts, h, b, livePath); third.Rows != 0 {
		t.Errorf("third run sent %d rows", third.Rows)
	}

	// The stale copy, sent again whole, does not undo the newer rows.
	full := opts
	full.Full = true
	step("stale copy", full, stale)
	assertSame(t, adb, livePath)

	// Small files go row by row, together in one chunk.
	attachMinRows = minRows
	small := filepath.Join(t.TempDir(), "small.db")
	smallPaths := []string{testkit.BigSession(t, t.TempDir(), "s1", 20, 100), testkit.BigSession(t, t.TempDir(), "s2", 20, 100)}
	if rep := mustSync(t, Target{URL: "file:" + small}, syncOpts(t), smallPaths...); rep.Chunks != 1 || rep.Rows < 40 {
		t.Errorf("two small files: %d rows in %d chunks, want one chunk", rep.Rows, rep.Chunks)
	}

	// Only marks were written to the session files.
	for p, dump := range before {
		if tableDump(t, p) != dump {
			t.Errorf("%s changed beyond its sync marks", p)
		}
	}
	// Attaching never made a file of its own.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); n != "h.db" && n != "b.db" && n != "live.db" {
			t.Errorf("unexpected file %q beside the session files", n)
		}
	}
}

// archiveDump is every row of convlog's tables in an archive, in rowid
// order. Not tableDump: that takes every table, and each archive's
// convlog_target holds an id of its own, so two archives never match.
func archiveDump(t testing.TB, path string) string {
	t.Helper()
	db, err := record.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, table := range testkit.Schema(t).Order() {
		for _, row := range readAll(t, db, "SELECT rowid, * FROM "+quoteIdent(table)+" ORDER BY rowid") {
			fmt.Fprintf(&b, "%s %q\n", table, fmt.Sprint(row...))
		}
	}
	return b.String()
}

// markOf is the mark in a session file for the archive at archivePath.
func markOf(t testing.TB, path, archivePath string) string {
	t.Helper()
	adb, err := record.OpenReadOnly(context.Background(), archivePath)
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	var id string
	if err := adb.QueryRow("SELECT value FROM " + metaTable + " WHERE key = 'id'").Scan(&id); err != nil {
		t.Fatal(err)
	}
	db, err := record.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var state string
	if err := db.QueryRow("SELECT state FROM "+marksTable+" WHERE target = ?", id).Scan(&state); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return state
}
