package cli

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/record"
)

// TestPrune removes old sessions of the fixture set (all of them ended in
// December 2025; the killed S5 counts from its file's last change, which is
// now) in the order a user with a cloud database would: the synced ones,
// then the rest on request. The archive keeps every session.
func TestPrune(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := func(label string) string { return filepath.Join(".turso", "sessions", f.ids[label]+".db") }
	exists := func(label string) bool {
		_, err := os.Stat(filepath.Join(f.work, path(label)))
		return err == nil
	}
	// S1 and S2 synced to the configured target; S6 synced, then changed.
	target := []string{"TURSO_DATABASE_URL=file:" + filepath.Join(f.work, "team.db")}
	if r := runConvlog(t, f.work, nil, target, "sync", f.ids["S1"], f.ids["S2"], f.ids["S6"]); r.code != 0 {
		t.Fatalf("sync: %s", r.stderr)
	}
	growSession(t, filepath.Join(f.work, path("S6")))
	if r := runConvlog(t, f.work, nil, nil, "sql", "SELECT 1"); r.code != 0 { // the archive reads the files that sync and growSession changed
		t.Fatalf("sql: %s", r.stderr)
	}
	sizes := map[string]int64{}
	for _, l := range []string{"S1", "S2", "S3", "S4", "S6"} {
		sizes[l] = fileBytes(filepath.Join(f.work, path(l)))
	}

	res := runConvlog(t, f.work, nil, target, "prune", "--older-than", "30d", "--dry-run")
	wantDry := fmt.Sprintf("Would remove .turso/sessions/S2.db (session S2, 2025-12-20 12:00, %s)\n", byteSize(sizes["S2"])) +
		fmt.Sprintf("Would remove .turso/sessions/S1.db (session S1, 2025-12-20 10:01, %s)\n", byteSize(sizes["S1"])) +
		fmt.Sprintf("Would remove 2 sessions older than 30d and free %s; the archive %s keeps their history.\n",
			byteSize(sizes["S1"]+sizes["S2"]), filepath.Join(f.work, ".turso", "convlog.db"))
	// A dry run only reports: exit 0, what it would keep included.
	if got := f.labels.Replace(string(res.stdout)); res.code != 0 || got != wantDry {
		t.Errorf("dry run: exit %d\n%s\nwant\n%s", res.code, got, wantDry)
	}
	if stderr := f.labels.Replace(string(res.stderr)); !strings.Contains(stderr, "convlog: would keep 3 sessions older than 30d that are not synced to "+filepath.Join(f.work, "team.db")) {
		t.Errorf("dry run, stderr:\n%s", stderr)
	}
	if !exists("S1") || !exists("S2") {
		t.Fatal("the dry run removed files")
	}

	res = runConvlog(t, f.work, nil, target, "prune", "--older-than", "30d")
	if got := f.labels.Replace(string(res.stdout)); res.code != 1 || got != strings.ReplaceAll(strings.ReplaceAll(wantDry, "Would remove 2 sessions older than 30d and free", "Removed 2 sessions older than 30d, freed"), "Would remove", "Removed") {
		t.Errorf("prune: exit %d\n%s", res.code, got)
	}
	for label, want := range map[string]bool{"S1": false, "S2": false, "S3": true, "S4": true, "S5": true, "S6": true} {
		if exists(label) != want {
			t.Errorf("%s exists: %v, want %v", label, !want, want)
		}
	}
	for _, suffix := range sessionCompanions {
		if _, err := os.Stat(filepath.Join(f.work, path("S1")+suffix)); err == nil {
			t.Errorf("%s%s is left", path("S1"), suffix)
		}
	}

	// The rest on request; the running (here: killed) S5 is young.
	res = runConvlog(t, f.work, nil, target, "prune", "--older-than", "30d", "--include-unsynced")
	removed := regexp.MustCompile(`(?m)^Removed \S+ \(session (S\d),`).FindAllStringSubmatch(f.labels.Replace(string(res.stdout)), -1)
	if res.code != 0 || len(removed) != 3 || !strings.Contains(string(res.stdout), "Removed 3 sessions older than 30d, freed "+byteSize(sizes["S3"]+sizes["S4"]+sizes["S6"])) {
		t.Errorf("--include-unsynced: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !exists("S5") {
		t.Error("the incomplete S5 was removed")
	}
	res = runConvlog(t, f.work, nil, nil, "prune", "--older-than", "30d")
	if res.code != 0 || string(res.stdout) != "No sessions older than 30d in .turso/sessions.\n" {
		t.Errorf("nothing left: exit %d %q %s", res.code, res.stdout, res.stderr)
	}

	// History outlives the files.
	res = runConvlog(t, f.work, nil, nil, "sql", "SELECT count(*), (SELECT count(*) FROM messages) FROM sessions")
	if string(res.stdout) != "count(*)\t(SELECT count(*) FROM messages)\n6\t53\n" { // 52 + the line growSession added
		t.Errorf("archive after prune: %q %s", res.stdout, res.stderr)
	}
	// An hour old: S5's file changed just now.
	res = runConvlog(t, f.work, nil, nil, "prune", "--older-than", "1h", "--include-unsynced")
	if res.code != 0 || !exists("S5") {
		t.Errorf("1h: exit %d %s", res.code, res.stdout)
	}
}

// growSession adds a message to a finished session file, as a later tee
// or import would change it.
func growSession(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", record.DSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id string
	if err := db.QueryRow("SELECT id FROM sessions").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO messages (id, session_id, sequence, timestamp, type, raw_message) VALUES (?, ?, 99, ?, 'system', '{"type":"system"}')`,
		id+"-msg-99", id, time.Date(2025, 12, 22, 10, 0, 21, 0, time.UTC).UnixMilli()); err != nil {
		t.Fatal(err)
	}
}

func TestPruneUsage(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	for _, args := range [][]string{{"prune"}, {"prune", "--older-than", "soon"}, {"prune", "--older-than", "-5d"}} {
		res := runConvlog(t, work, nil, nil, args...)
		if res.code != 2 {
			t.Errorf("%v: exit %d %s", args, res.code, res.stderr)
		}
	}
	for s, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		if got, err := parseAge(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(work, ".turso", "sessions"), 0o700); err != nil {
		t.Fatal(err)
	}
	res := runConvlog(t, work, nil, nil, "prune", "--older-than", "30d")
	if res.code != 0 || string(res.stdout) != "No sessions older than 30d in .turso/sessions.\n" {
		t.Errorf("empty: exit %d %q %s", res.code, res.stdout, res.stderr)
	}
}
