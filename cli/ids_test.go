package cli

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// sampleAgentID is the agent's own session id in testdata/sample.jsonl.
const sampleAgentID = "5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11"

// teeSample logs testdata/sample.jsonl through `convlog tee` in work's
// default folder and returns the new session's id.
func teeSample(t *testing.T, work string, env []string, args ...string) string {
	t.Helper()
	sample, err := os.ReadFile(filepath.Join("testdata", "sample.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	res := runConvlog(t, work, sample, env, append([]string{"tee", "--no-summary"}, args...)...)
	m := regexp.MustCompile(`Session ID: (\S+)`).FindSubmatch(res.stderr)
	if res.code != 0 || m == nil {
		t.Fatalf("tee: exit %d\n%s", res.code, res.stderr)
	}
	return string(m[1])
}

// listIDs is the first column of `convlog list` (its header left out).
func listIDs(t *testing.T, out []byte) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("not a list:\n%s", out)
	}
	var ids []string
	for _, l := range lines[1:] {
		ids = append(ids, strings.Fields(l)[0])
	}
	return ids
}

// queriedID is the id in the summary that `convlog query` printed.
func queriedID(out []byte) string {
	m := regexp.MustCompile(`(?m)^ID: (\S+)$`).FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// TestShortIDs: sessions started within the same second get ids that
// differ in their first 8 characters, which list prints and query takes
// (UUIDv7 ids shared them, so list printed more and 8 were ambiguous).
// Session files named by v7 ids, written by earlier versions in the same
// minute, get as many characters as tell them apart.
func TestShortIDs(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	dir := filepath.Join(work, ".turso", "sessions")
	want := map[string]bool{}
	for range 8 {
		want[teeSample(t, work, nil)] = true
	}
	v7 := []string{"01a24d9e-8c1b-7d2e-9f00-0a1b2c3d4e5f", "01a24d9e-8c1b-7f00-8000-111111111111", "01a24d9e-9a00-7000-8000-222222222222"}
	for i, id := range v7 {
		writeGoldenSession(t, dir, record.Meta{ID: id, StartedAt: goldenStart + int64(i)*1000}, fixtureLines(t, "noresult.jsonl"), goldenStart+int64(i)*1000+500)
		want[id] = true
	}

	res := runConvlog(t, work, nil, nil, "list")
	if res.code != 0 {
		t.Fatalf("list: exit %d %s", res.code, res.stderr)
	}
	shown := listIDs(t, res.stdout)
	if len(shown) != len(want) {
		t.Fatalf("%d sessions listed, want %d:\n%s", len(shown), len(want), res.stdout)
	}
	v7Short := map[string]bool{"01a24d9e-9": true, "01a24d9e-8c1b-7f": true, "01a24d9e-8c1b-7d": true}
	for _, s := range shown {
		if strings.HasPrefix(s, "01a24d9e") {
			if !v7Short[s] {
				t.Errorf("v7 session listed as %q", s)
			}
		} else if len(s) != record.MinShortID {
			t.Errorf("a new session is listed as %q, not by its first %d characters", s, record.MinShortID)
		}
		// What list prints names the session.
		q := runConvlog(t, work, nil, nil, "query", s)
		id := queriedID(q.stdout)
		if q.code != 0 || !strings.HasPrefix(id, s) || !want[id] {
			t.Errorf("query %s: exit %d, session %q\n%s", s, q.code, id, q.stderr)
		}
	}
	// A prefix the v7 sessions share is ambiguous, and says so.
	q := runConvlog(t, work, nil, nil, "query", "01a24d9e")
	if q.code != 1 || !strings.Contains(string(q.stderr), `session prefix "01a24d9e" is ambiguous; it begins 3 sessions`) {
		t.Errorf("shared v7 prefix: exit %d %s", q.code, q.stderr)
	}
}

// TestAgentSessionIDs: the agent's own session id, and a prefix of it,
// name a session wherever a session is named. A live tee and an import of
// the same run are two sessions of one agent session: query shows the
// newest and says which others there are; sync sends them all.
func TestAgentSessionIDs(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	if res := runConvlog(t, work, nil, nil, "import", mustAbs(t, filepath.Join("testdata", "sample.jsonl"))); res.code != 0 {
		t.Fatalf("import: %s", res.stderr)
	}
	imported := strings.TrimSuffix(filepath.Base(sessionFiles(t, filepath.Join(work, ".turso", "sessions"))[0]), ".db")
	teeSample(t, work, nil, "--session-id", "other-run") // an earlier run of the same conversation
	teed := teeSample(t, work, nil)                      // the newest

	for _, ref := range []string{sampleAgentID, sampleAgentID[:8], sampleAgentID[:13]} {
		res := runConvlog(t, work, nil, nil, "query", ref)
		if res.code != 0 || queriedID(res.stdout) != teed {
			t.Errorf("query %s: exit %d, session %q, want %s\n%s", ref, res.code, queriedID(res.stdout), teed, res.stderr)
		}
		note := "convlog: agent session " + sampleAgentID + " was logged as 3 sessions; showing the newest, " + teed
		if !strings.Contains(string(res.stderr), note) || !strings.Contains(string(res.stderr), imported) {
			t.Errorf("query %s: stderr %q, want the note %q naming %s", ref, res.stderr, note, imported)
		}
	}
	// The JSON on stdout is the session alone; the note is on stderr.
	res := runConvlog(t, work, nil, nil, "query", sampleAgentID[:8], "--json")
	var doc struct {
		Session struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	if err := json.Unmarshal(res.stdout, &doc); err != nil || doc.Session.ID != teed {
		t.Errorf("query --json: %v %s", err, res.stdout)
	}

	target := filepath.Join(work, "team.db")
	res = runConvlog(t, work, nil, []string{"TURSO_DATABASE_URL=file:" + target}, "sync", sampleAgentID[:8], "--json")
	var rep struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	if res.code != 0 || json.Unmarshal(res.stdout, &rep) != nil || len(rep.Sessions) != 3 {
		t.Fatalf("sync of an agent session: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	got := map[string]bool{}
	for _, s := range rep.Sessions {
		got[s.ID] = true
	}
	if !got[teed] || !got[imported] || !got["other-run"] {
		t.Errorf("synced %v, want %s, %s and other-run", got, teed, imported)
	}
}

// TestSyncNamesSessionsAsQueryDoes: sync takes ids, prefixes, last and
// agent session ids, as query does, and nothing that reaches a file
// outside the session folder: ../convlog named the archive.
func TestSyncNamesSessionsAsQueryDoes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := filepath.Join(f.work, "team.db")
	env := []string{"TURSO_DATABASE_URL=file:" + target}
	// The archive is there to be reached.
	if res := runConvlog(t, f.work, nil, nil, "sql", "SELECT 1"); res.code != 0 {
		t.Fatalf("sql: %s", res.stderr)
	}
	for _, ref := range []string{"../convlog", "../convlog.db", filepath.Join(f.work, ".turso", "convlog.db"), "sessions/../../x"} {
		res := runConvlog(t, f.work, nil, env, "sync", ref)
		if res.code != 2 || !strings.Contains(string(res.stderr), "not a session id") {
			t.Errorf("sync %s: exit %d %s", ref, res.code, res.stderr)
		}
		if _, err := os.Stat(target); err == nil {
			t.Fatalf("sync %s wrote the target", ref)
		}
	}

	for ref, want := range map[string]string{
		f.ids["S1"][:8]: "S1",
		"last":          "S6",
		"fx-s2":         "S2", // the agent's session id
		f.ids["S4"]:     "S4",
	} {
		res := runConvlog(t, f.work, nil, env, "sync", ref)
		if res.code != 0 || !strings.Contains(f.labels.Replace(string(res.stdout)), "of session "+want+" ") {
			t.Errorf("sync %s: exit %d\n%s%s", ref, res.code, f.labels.Replace(string(res.stdout)), res.stderr)
		}
	}
	res := runConvlog(t, f.work, nil, env, "sync", "fx-s")
	if res.code != 1 || !strings.Contains(string(res.stderr), `session prefix "fx-s" is ambiguous`) {
		t.Errorf("sync of an ambiguous prefix: exit %d %s", res.code, res.stderr)
	}
}

// TestPruneWithoutCloud: with no cloud database, a session that the
// archive holds whole is safe to prune; pruned sessions stay in list
// (marked) and query shows them from the archive as it did from their
// files. sync, which sends session files, says it cannot send them.
func TestPruneWithoutCloud(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := map[string][]byte{}
	for _, l := range []string{"S1", "S3", "S4"} {
		res := runConvlog(t, f.work, nil, nil, "query", f.ids[l], "--json", "--messages", "--tools")
		if res.code != 0 {
			t.Fatalf("query %s: %s", l, res.stderr)
		}
		before[l] = res.stdout
	}
	md := runConvlog(t, f.work, nil, nil, "query", f.ids["S1"], "--markdown").stdout

	res := runConvlog(t, f.work, nil, nil, "prune", "--older-than", "30d", "--dry-run")
	if res.code != 0 || !strings.Contains(string(res.stdout), "Would remove 5 sessions older than 30d") {
		t.Fatalf("dry run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runConvlog(t, f.work, nil, nil, "prune", "--older-than", "30d")
	if res.code != 0 || !strings.Contains(string(res.stdout), "Removed 5 sessions older than 30d") {
		t.Fatalf("prune: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if left := sessionFiles(t, f.dir); len(left) != 1 || !strings.HasSuffix(left[0], f.ids["S5"]+".db") {
		t.Fatalf("files left: %v", left)
	}

	res = runConvlog(t, f.work, nil, nil, "list")
	lines := strings.Split(f.labels.Replace(string(res.stdout)), "\n")
	if res.code != 0 || len(lines) != 8 {
		t.Fatalf("list: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, l := range lines[1:7] {
		if pruned := strings.HasSuffix(l, ", pruned"); pruned == strings.Contains(l, "incomplete") {
			t.Errorf("line %q: the five old sessions are pruned, the running S5 is not", l)
		}
	}
	var list []struct {
		ID     string  `json:"id"`
		File   *string `json:"file"`
		Pruned bool    `json:"pruned"`
	}
	res = runConvlog(t, f.work, nil, nil, "list", "--json")
	if err := json.Unmarshal(res.stdout, &list); err != nil || len(list) != 6 {
		t.Fatalf("list --json: %v\n%s", err, res.stdout)
	}
	for _, e := range list {
		if e.Pruned != (e.ID != f.ids["S5"]) || e.Pruned != (e.File == nil) {
			t.Errorf("list --json entry %s: pruned %v, file %v", f.labels.Replace(e.ID), e.Pruned, e.File)
		}
	}

	for l, want := range before {
		for _, ref := range []string{f.ids[l], f.ids[l][:8], "fx-" + strings.ToLower(l)} {
			res := runConvlog(t, f.work, nil, nil, "query", ref, "--json", "--messages", "--tools")
			if res.code != 0 || string(res.stdout) != string(want) {
				t.Errorf("query %s (%s) after prune: exit %d %s\n%s\nwant\n%s", ref, l, res.code, res.stderr, res.stdout, want)
			}
			note := "convlog: session " + f.ids[l] + " was pruned; shown from the archive " + filepath.Join(".turso", "convlog.db") + "\n"
			if string(res.stderr) != note {
				t.Errorf("query %s (%s) after prune: stderr %q, want %q", ref, l, res.stderr, note)
			}
		}
	}
	if got := runConvlog(t, f.work, nil, nil, "query", f.ids["S1"][:8], "--markdown").stdout; string(got) != string(md) {
		t.Errorf("query --markdown after prune:\n%s\nwant\n%s", got, md)
	}

	res = runConvlog(t, f.work, nil, []string{"TURSO_DATABASE_URL=file:" + filepath.Join(f.work, "team.db")}, "sync", f.ids["S1"][:8])
	if res.code != 1 || !strings.Contains(string(res.stderr), "session "+f.ids["S1"]+" was pruned: its file is gone") {
		t.Errorf("sync of a pruned session: exit %d %s", res.code, res.stderr)
	}
}

// TestFolderScoping: two session folders share the archive beside them;
// each one's commands see its own sessions, pruned ones included, and
// none of the other's.
func TestFolderScoping(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	a, b := filepath.Join(".turso", "a"), filepath.Join(".turso", "b")
	fixture := func(n string) string { return mustAbs(t, filepath.Join("testdata", "analytics", n+".jsonl")) }
	if res := runConvlog(t, work, nil, nil, "import", "--dir", a, fixture("s1-opus-success"), fixture("s2-sonnet-max-turns")); res.code != 0 {
		t.Fatalf("import: %s", res.stderr)
	}
	if res := runConvlog(t, work, nil, nil, "import", "--dir", b, fixture("s3-transcript-two-models"), fixture("s4-fable-no-result"), fixture("s6-opus-short")); res.code != 0 {
		t.Fatalf("import: %s", res.stderr)
	}
	count := func(dir string) string {
		t.Helper()
		res := runConvlog(t, work, nil, nil, "sql", "--dir", dir,
			"SELECT (SELECT group_concat(agent_session_id) FROM (SELECT agent_session_id FROM sessions ORDER BY 1)), (SELECT count(*) FROM messages), (SELECT count(DISTINCT session_id) FROM tool_calls)")
		if res.code != 0 {
			t.Fatalf("sql --dir %s: %s", dir, res.stderr)
		}
		return strings.Split(string(res.stdout), "\n")[1]
	}
	stats := func(dir string) int {
		t.Helper()
		res := runConvlog(t, work, nil, nil, "stats", "--dir", dir, "--json")
		var st struct {
			Sessions int `json:"sessions"`
		}
		if res.code != 0 || json.Unmarshal(res.stdout, &st) != nil {
			t.Fatalf("stats --dir %s: exit %d %s", dir, res.code, res.stderr)
		}
		return st.Sessions
	}
	listed := func(dir string) int {
		t.Helper()
		res := runConvlog(t, work, nil, nil, "list", "--dir", dir, "--json")
		var l []any
		if res.code != 0 || json.Unmarshal(res.stdout, &l) != nil {
			t.Fatalf("list --dir %s: exit %d %s", dir, res.code, res.stderr)
		}
		return len(l)
	}
	check := func(when string) {
		t.Helper()
		if got := count(a); got != "fx-s1,fx-s2\t28\t2" {
			t.Errorf("%s: sql --dir a: %q", when, got)
		}
		if got := count(b); got != "fx-s3,fx-s4,fx-s6\t19\t2" {
			t.Errorf("%s: sql --dir b: %q", when, got)
		}
		if sa, sb := stats(a), stats(b); sa != 2 || sb != 3 {
			t.Errorf("%s: stats: %d sessions in a, %d in b", when, sa, sb)
		}
		if la, lb := listed(a), listed(b); la != 2 || lb != 3 {
			t.Errorf("%s: list: %d sessions in a, %d in b", when, la, lb)
		}
		if res := runConvlog(t, work, nil, nil, "query", "--dir", a, "fx-s3"); res.code != 1 || !strings.Contains(string(res.stderr), `no session "fx-s3" in .turso/a`) {
			t.Errorf("%s: query --dir a of a session of b: exit %d %s", when, res.code, res.stderr)
		}
		if res := runConvlog(t, work, nil, nil, "query", "--dir", b, "fx-s3"); res.code != 0 {
			t.Errorf("%s: query --dir b fx-s3: exit %d %s", when, res.code, res.stderr)
		}
	}
	check("before prune")
	if res := runConvlog(t, work, nil, nil, "prune", "--dir", b, "--older-than", "1d"); res.code != 0 {
		t.Fatalf("prune: exit %d %s", res.code, res.stderr)
	}
	if left := sessionFiles(t, filepath.Join(work, b)); len(left) != 0 {
		t.Fatalf("prune left %v", left)
	}
	check("after prune")

	// An archive of an earlier version places no session: the sessions
	// whose files are there go to their folders, and those whose files
	// are gone to the folder that meets the archive first.
	arch := filepath.Join(work, ".turso", "convlog.db")
	db, err := sql.Open("sqlite", record.DSN(arch, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DROP TABLE archive_folders"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got := stats(b); got != 3 {
		t.Errorf("b after the archive lost its places: %d sessions", got)
	}
	check("after the places were made again")
}

// TestListFitsTerminal: list fits 100 columns with the short ids and local
// times, and --wide shows whole ids and UTC times.
func TestListFitsTerminal(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	var ids []string
	for range 3 {
		ids = append(ids, teeSample(t, work, nil))
	}
	tz := []string{"TZ=Asia/Kolkata"}
	res := runConvlog(t, work, nil, tz, "list")
	if res.code != 0 {
		t.Fatalf("list: %s", res.stderr)
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(res.stdout), "\n"), "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	var list []struct {
		ID        string `json:"id"`
		StartedAt int64  `json:"started_at"`
	}
	if err := json.Unmarshal(runConvlog(t, work, nil, nil, "list", "--json").stdout, &list); err != nil || len(list) != len(ids) {
		t.Fatalf("list --json: %v", err)
	}
	zone, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		local := time.UnixMilli(e.StartedAt).In(zone).Format("2006-01-02 15:04")
		if !strings.Contains(string(res.stdout), "\n"+e.ID[:8]+"  "+local+"  claude-sonnet-4-5-20250…") {
			t.Errorf("%s not listed by its short id, local time %s and model cut short:\n%s", e.ID, local, res.stdout)
		}
	}
	res = runConvlog(t, work, nil, tz, "list", "--wide")
	for _, e := range list {
		if !strings.Contains(string(res.stdout), "\n"+e.ID+"  "+report.ISOTime(e.StartedAt)+"  claude-code  claude-sonnet-4-5-20250929  ") {
			t.Errorf("list --wide lacks %s with its UTC time and whole model:\n%s", e.ID, res.stdout)
		}
	}
}

// TestMissingDir: every command that reads a session folder says the same
// of one that is not there, with exit status 1, whether --dir or
// CONVLOG_DIR names it.
func TestMissingDir(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	missing := filepath.Join("nowhere", "sessions")
	want := "convlog: no session folder " + missing + ": it does not exist (convlog tee makes it; --dir or CONVLOG_DIR names another)\n"
	target := []string{"TURSO_DATABASE_URL=file:" + filepath.Join(work, "team.db")}
	for _, args := range [][]string{
		{"list"}, {"list", "--json"}, {"query", "last"}, {"query", "abc"}, {"sync", "abc"}, {"sync", "--all"},
		{"sql", "SELECT 1"}, {"stats"}, {"stats", "--json"}, {"prune", "--older-than", "30d"}, {"prune", "--older-than", "30d", "--dry-run"},
		{"search", "flaky"}, {"search", "flaky", "--json"}, {"html", "last"}, {"serve"},
	} {
		for _, how := range []string{"flag", "env"} {
			a, env := append(args, "--dir", missing), target
			if how == "env" {
				a, env = args, append([]string{"CONVLOG_DIR=" + missing}, target...)
			}
			res := runConvlog(t, work, nil, env, a...)
			if res.code != 1 || string(res.stderr) != want || len(res.stdout) != 0 {
				t.Errorf("%v (%s): exit %d, stdout %q, stderr %q", args, how, res.code, res.stdout, res.stderr)
			}
		}
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("made %v", entries)
	}
}

// TestListTakesUnchangedSessionsFromArchive: list (and so every lookup
// of a prefix or of last) takes the session row of a file the archive
// holds whole from the archive, without opening the file, and reads a
// file that changed since.
func TestListTakesUnchangedSessionsFromArchive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if res := runConvlog(t, f.work, nil, nil, "sql", "SELECT 1"); res.code != 0 {
		t.Fatalf("sql: %s", res.stderr)
	}
	set := func(path, id, model string) {
		t.Helper()
		db, err := sql.Open("sqlite", record.DSN(path, false))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("UPDATE sessions SET model = ? WHERE id = ?", model, id); err != nil {
			t.Fatal(err)
		}
	}
	// Marks telling which copy list read: the archive's rows of every
	// session, and S2's own file, which so changes.
	for _, id := range f.ids {
		set(filepath.Join(f.work, ".turso", "convlog.db"), id, "from-archive")
	}
	set(filepath.Join(f.dir, f.ids["S2"]+".db"), f.ids["S2"], "from-file")
	var list []struct {
		ID    string `json:"id"`
		Model string `json:"model"`
	}
	if err := json.Unmarshal(runConvlog(t, f.work, nil, nil, "list", "--json").stdout, &list); err != nil || len(list) != 6 {
		t.Fatalf("list --json: %v", err)
	}
	for _, e := range list {
		want := "from-archive"
		if e.ID == f.ids["S2"] {
			want = "from-file"
		}
		if e.Model != want {
			t.Errorf("%s: model %q, want %q", f.labels.Replace(e.ID), e.Model, want)
		}
	}
}

// TestTeeSyncHintRuns: the command tee gives for pushing its session later,
// when the sync at its end failed, runs as given, from a folder other than
// the default too (it used to name the file, which sync no longer takes).
func TestTeeSyncHintRuns(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	blocker := filepath.Join(work, "not-a-folder")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	broken := []string{"TURSO_DATABASE_URL=file:" + filepath.Join(blocker, "team.db")}
	for _, dir := range []string{"", "my runs"} {
		args := []string{}
		if dir != "" {
			args = append(args, "--dir", dir)
		}
		sample, _ := os.ReadFile(filepath.Join("testdata", "sample.jsonl"))
		tee := runConvlog(t, work, sample, broken, append([]string{"tee", "--no-summary", "--session-id", "hint-" + strconv.Itoa(len(dir))}, args...)...)
		m := regexp.MustCompile(`push it later with: (convlog sync .*)`).FindSubmatch(tee.stderr)
		if m == nil {
			t.Fatalf("no hint:\n%s", tee.stderr)
		}
		hint := string(m[1])
		sh := exec.Command("sh", "-c", strings.Replace(hint, "convlog ", testkit.Bin+" ", 1))
		sh.Dir = work
		sh.Env = append(testkit.CleanEnv(), "TURSO_DATABASE_URL=file:"+filepath.Join(work, "team.db"))
		if out, err := sh.CombinedOutput(); err != nil || !strings.Contains(string(out), "of session hint-") {
			t.Errorf("%s: %v\n%s", hint, err, out)
		}
	}
}

// TestArchiveInFolderIsNoSession: an archive kept among the session files
// (--archive) is not a session to any command.
func TestArchiveInFolderIsNoSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := []string{"CONVLOG_ARCHIVE=" + filepath.Join(f.dir, "convlog.db"), "TURSO_DATABASE_URL=file:" + filepath.Join(f.work, "team.db")}
	if res := runConvlog(t, f.work, nil, env, "sql", "SELECT 1"); res.code != 0 {
		t.Fatalf("sql: %s", res.stderr)
	}
	if res := runConvlog(t, f.work, nil, env, "query", "convlog"); res.code != 1 || !strings.Contains(string(res.stderr), `no session "convlog"`) {
		t.Errorf("query convlog: exit %d %s", res.code, res.stderr)
	}
	res := runConvlog(t, f.work, nil, env, "list", "--json")
	var list []any
	if res.code != 0 || json.Unmarshal(res.stdout, &list) != nil || len(list) != 6 {
		t.Errorf("list: exit %d %s %s", res.code, res.stdout, res.stderr)
	}
	res = runConvlog(t, f.work, nil, env, "sync", "--all", "--json")
	var rep struct {
		Sessions []any `json:"sessions"`
	}
	if res.code != 0 || json.Unmarshal(res.stdout, &rep) != nil || len(rep.Sessions) != 6 {
		t.Errorf("sync --all: exit %d %s %s", res.code, res.stdout, res.stderr)
	}
}
