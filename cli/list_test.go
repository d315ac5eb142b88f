package cli

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// listDir is the golden sessions plus files that are not sessions.
func listDir(t *testing.T) string {
	t.Helper()
	dir := goldenDir(t)
	if err := os.WriteFile(filepath.Join(dir, "notes.db"), []byte("meeting notes, not a database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, goldenFull+".db"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 4096; i < 8192; i++ {
		good[i] = 0xab
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.db"), good, 0o600); err != nil {
		t.Fatal(err)
	}
	// Neither is a session file, so neither is listed.
	os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, "archive.db"), 0o700)
	return dir
}

func TestListGolden(t *testing.T) {
	dir := listDir(t)
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"list/list.golden", nil},
		{"list/wide.golden", []string{"--wide"}},
		{"list/list.json.golden", []string{"--json"}},
		{"list/limit.golden", []string{"--limit", "2"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			// Local times in India's zone: half an hour off UTC's.
			stdout, stderr, code := queryRun(t, map[string]string{"TZ": "Asia/Kolkata"}, append([]string{"list", "--dir", dir}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// Unreadable files are reported on stderr whatever is shown.
			for _, want := range []string{
				"convlog: warning: " + filepath.Join(dir, "broken.db") + ": corrupt database (database disk image is malformed)\n",
				"convlog: warning: " + filepath.Join(dir, "notes.db") + ": not a convlog database (file is not a database)\n",
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.HasSuffix(c.golden, ".json.golden") && !json.Valid([]byte(stdout)) {
				t.Fatalf("not JSON:\n%s", stdout)
			}
			queryGolden(t, c.golden, []byte(strings.ReplaceAll(stdout, dir, "$DIR")))
		})
	}
}

func TestListJSONEntries(t *testing.T) {
	dir := listDir(t)
	stdout, _, _ := queryRun(t, nil, "list", "--dir", dir, "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range list {
		ids = append(ids, e["id"].(string))
	}
	want := []string{goldenIncomplete, goldenFull, goldenNoResult, goldenOld, "broken", "notes"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	if list[0]["incomplete"] != true || list[1]["incomplete"] != false || list[1]["error"] != nil {
		t.Errorf("entries: %v %v", list[0], list[1])
	}
	if list[5]["error"] != "not a convlog database (file is not a database)" || list[5]["incomplete"] != nil ||
		list[5]["file"] != filepath.Join(dir, "notes.db") {
		t.Errorf("unreadable entry: %v", list[5])
	}
}

func TestListEmpty(t *testing.T) {
	empty := t.TempDir()
	stdout, stderr, code := queryRun(t, nil, "list", "--dir", empty)
	if code != 0 || stdout != "" || stderr != "convlog: no sessions in "+empty+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, code = queryRun(t, nil, "list", "--dir", empty, "--json")
	if code != 0 || stdout != "[]\n" {
		t.Errorf("JSON: exit %d, %q", code, stdout)
	}
}

func TestListUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"list", "--limit", "-1"},
		{"list", "--limit", "many"},
		{"list", "extra"},
	} {
		stdout, stderr, code := queryRun(t, nil, args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "convlog: ") || !strings.Contains(stderr, "Usage: convlog list") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestListLockedFile(t *testing.T) {
	t.Parallel() // mostly waiting for the lock
	dir := goldenDir(t)
	// Another process holds the full session's file locked for writing; a
	// finished session is in rollback-journal mode, where that keeps
	// readers out.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, goldenFull+".db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(t.Context(), "ROLLBACK")

	res := runConvlog(t, t.TempDir(), nil, nil, "list", "--dir", dir)
	out := string(res.stdout)
	if res.code != 0 || !strings.Contains(string(res.stderr), goldenFull+".db: locked by another process") {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	// The locked file is listed under its name, which the incomplete
	// session's id shares all but its last character with.
	for _, id := range []string{goldenIncomplete, goldenNoResult[:8], goldenOld[:8]} {
		if !strings.Contains(out, "\n"+id+"  ") {
			t.Errorf("%s not listed:\n%s", id, out)
		}
	}
	if !strings.Contains(out, goldenFull+"  -") || !strings.Contains(out, "unreadable") {
		t.Errorf("locked file not listed as such:\n%s", out)
	}
	res = runConvlog(t, t.TempDir(), nil, nil, "list", "--dir", dir, "--wide")
	if out := string(res.stdout); !strings.Contains(out, "unreadable: locked by another process") {
		t.Errorf("locked file not listed as such by list --wide:\n%s", out)
	}

	res = runConvlog(t, t.TempDir(), nil, nil, "query", goldenFull, "--dir", dir)
	if res.code != 1 || !strings.Contains(string(res.stderr), "convlog: "+filepath.Join(dir, goldenFull+".db")+": locked by another process") {
		t.Errorf("query of a locked file: exit %d, %s", res.code, res.stderr)
	}
}

// TestListSeesEveryFileKind: every *.db file of the folder is a line of
// list --wide, in the order that the files themselves give (newest start
// first, files that are no session last by name), and only those that are
// no session file are unreadable. The expectation is read from the
// folder with plain SQL, not through convlog's own listing.
func TestListSeesEveryFileKind(t *testing.T) {
	dir := listDir(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type file struct {
		id      string
		started int64
		ok      bool
	}
	var files []file
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".db") {
			continue
		}
		f := file{id: strings.TrimSuffix(e.Name(), ".db")}
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, e.Name())+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var started sql.NullInt64
		var check string
		if db.QueryRow("PRAGMA quick_check").Scan(&check) == nil && check == "ok" &&
			db.QueryRow("SELECT started_at FROM sessions").Scan(&started) == nil {
			f.ok, f.started = true, started.Int64
		}
		db.Close()
		files = append(files, f)
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		if a.ok != b.ok {
			return a.ok
		}
		if a.ok && a.started != b.started {
			return a.started > b.started
		}
		return a.id < b.id
	})
	if len(files) < 6 {
		t.Fatalf("the folder holds %d session files; the fixture makes more", len(files))
	}
	stdout, _, _ := queryRun(t, nil, "list", "--dir", dir, "--wide")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(files)+1 {
		t.Fatalf("%d lines for %d files:\n%s", len(lines)-1, len(files), stdout)
	}
	for i, f := range files {
		l := lines[i+1]
		if !strings.HasPrefix(l, f.id+" ") || strings.Contains(l, "unreadable") == f.ok {
			t.Errorf("line %d is %q; want %s, %s", i+1, l, f.id, map[bool]string{true: "readable", false: "unreadable"}[f.ok])
		}
	}
	// The narrow list has the same lines, in the same order.
	stdout, _, _ = queryRun(t, nil, "list", "--dir", dir)
	if n := strings.Count(stdout, "\n"); n != len(files)+1 {
		t.Errorf("the narrow list has %d lines:\n%s", n, stdout)
	}
}
