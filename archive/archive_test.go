package archive

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// folder is a session folder of six finished sessions of ten messages each,
// and the path of its archive, not yet made.
type folder struct {
	dir, archive string
	files        []string
}

func newFolder(t *testing.T) *folder {
	t.Helper()
	work := t.TempDir()
	f := &folder{dir: filepath.Join(work, "sessions"), archive: filepath.Join(work, Name)}
	for i := range 6 {
		f.files = append(f.files, testkit.BigSession(t, f.dir, fmt.Sprintf("s%d", i), 10, 200))
	}
	return f
}

func (f *folder) open(t *testing.T) *Archive {
	return Open(f.dir, "", testkit.Schema(t))
}

// count brings the archive up to date and counts its messages; problems
// are the files it left out.
func (f *folder) count(t *testing.T) (n int64, problems []error) {
	t.Helper()
	db, err := f.open(t).Query(t.Context(), func(err error) { problems = append(problems, err) })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT count(*) FROM messages").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n, problems
}

// corruptKeepingStat overwrites a file with other bytes of the same length
// and gives it back its modification time: a reader that opened it would
// fail, one that trusts size and time does not notice.
func corruptKeepingStat(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), int(st.Size()/15)+1)[:st.Size()], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// A repeat update does not read the session files again: after the first,
// every file is replaced by garbage of the same size and time, and the
// answers stay the same. Only a file whose time then changes is read (and
// found broken).
func TestUpdateSkipsUnchangedFiles(t *testing.T) {
	t.Parallel()
	f := newFolder(t)
	before := map[string]Key{}
	for _, p := range f.files {
		k, err := statKey(p)
		if err != nil {
			t.Fatal(err)
		}
		before[p] = k
	}
	if n, problems := f.count(t); n != 60 || len(problems) > 0 {
		t.Fatalf("first update: %d messages, problems %v", n, problems)
	}
	// The archive only reads the session files.
	for _, p := range f.files {
		if k, err := statKey(p); err != nil || k != before[p] {
			t.Errorf("%s changed by the first update: %+v, was %+v", p, k, before[p])
		}
	}
	if st, err := os.Stat(f.archive); err != nil {
		t.Fatal(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("archive mode %v, want 0600", st.Mode())
	}
	// A new archive has large pages, and is in WAL mode like one that
	// was updated, though it was built with its journal in memory.
	db, err := openRead(t.Context(), f.archive)
	if err != nil {
		t.Fatal(err)
	}
	var pageSize int64
	var mode string
	if err := db.QueryRow("SELECT (SELECT page_size FROM pragma_page_size()), (SELECT journal_mode FROM pragma_journal_mode())").Scan(&pageSize, &mode); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if pageSize != 65536 || mode != "wal" {
		t.Errorf("archive pages %d in mode %s; want 65536, wal", pageSize, mode)
	}
	assertNoBuilds(t, f.archive)
	for _, p := range f.files {
		corruptKeepingStat(t, p)
	}
	if n, problems := f.count(t); n != 60 || len(problems) > 0 {
		t.Fatalf("repeat update read the files: %d messages, problems %v", n, problems)
	}
	touched := f.files[0]
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(touched, later, later); err != nil {
		t.Fatal(err)
	}
	n, problems := f.count(t)
	if n != 60 {
		t.Errorf("third update: %d messages", n)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), touched) {
		t.Errorf("the third update should read only the touched file: %v", problems)
	}
}

// assertNoBuilds fails the test if a new archive's temporary file is left
// beside the archive.
func assertNoBuilds(t *testing.T, archive string) {
	t.Helper()
	left, err := filepath.Glob(archive + buildInfix + "*")
	if err != nil || len(left) > 0 {
		t.Errorf("left behind: %v %v", left, err)
	}
}

// What a build killed before its end left is removed by the next build,
// and a build still under way is left alone.
func TestBuildLeftovers(t *testing.T) {
	t.Parallel()
	f := newFolder(t)
	// A process that has ended: its id is free (reused only after the
	// kernel has gone round every other).
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("%s%s%d", f.archive, buildInfix, done.Process.Pid)
	// The parent of the tests (go test) is alive; this process's own id
	// would be taken for a namesake of its build.
	live := fmt.Sprintf("%s%s%d", f.archive, buildInfix, os.Getppid())
	for _, p := range []string{dead, dead + "-wal", live, live + "-wal"} {
		if err := os.WriteFile(p, []byte("half an archive"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n, problems := f.count(t); n != 60 || len(problems) > 0 {
		t.Fatalf("%d messages, problems %v", n, problems)
	}
	for _, p := range []string{dead, dead + "-wal"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s, left by a dead build, is still there: %v", filepath.Base(p), err)
		}
	}
	for _, p := range []string{live, live + "-wal"} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "half an archive" {
			t.Errorf("%s, a live build's, was touched: %q %v", filepath.Base(p), b, err)
		}
	}
}

// A file left under this process's own build name (by a dead process that
// had the same id) is not taken for part of the new archive.
func TestBuildIgnoresItsNamesake(t *testing.T) {
	t.Parallel()
	f := newFolder(t)
	if err := os.WriteFile(fmt.Sprintf("%s%s%d", f.archive, buildInfix, os.Getpid()), []byte("half an archive"), 0o600); err != nil {
		t.Fatal(err)
	}
	up, err := f.open(t).Update(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if up.Read != 6 || len(up.Problems) > 0 {
		t.Errorf("read %d files, problems %v; want 6, none", up.Read, up.Problems)
	}
	assertNoBuilds(t, f.archive)
}

// The first build to finish stays in place; a second one is dropped, and
// never replaces a file that a reader may have open.
func TestSettleBuildKeepsTheFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	abs := filepath.Join(dir, Name)
	first, second := abs+buildInfix+"1", abs+buildInfix+"2"
	for _, p := range []string{first, second} {
		db, err := openRW(p, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("CREATE TABLE who (name TEXT); INSERT INTO who VALUES (?)", filepath.Base(p)); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	for _, p := range []string{first, second} {
		if err := settleBuild(p, abs); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
	// WAL as the file says it (header bytes 18 and 19 are 2), before any
	// connection sets it.
	if h, err := os.ReadFile(abs); err != nil || len(h) < 20 || h[18] != 2 || h[19] != 2 {
		t.Fatalf("the archive's header does not say WAL: %v", err)
	}
	db, err := openRW(abs, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name, mode string
	if err := db.QueryRow("SELECT name, (SELECT journal_mode FROM pragma_journal_mode()) FROM who").Scan(&name, &mode); err != nil {
		t.Fatal(err)
	}
	if name != filepath.Base(first) || mode != "wal" {
		t.Errorf("the archive is %s in mode %s; want the first build, in WAL mode", name, mode)
	}
}

// Holds says which files the archive has whole, as they are now.
func TestHolds(t *testing.T) {
	t.Parallel()
	f := newFolder(t)
	a := f.open(t)
	files, err := SessionFiles(f.dir, a.Path)
	if err != nil || len(files) != 6 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	if held, err := a.Holds(t.Context(), files); err != nil || len(held) != 0 {
		t.Fatalf("before any update: %v %v", held, err)
	}
	if _, err := a.Update(t.Context()); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(files[0].Path, later, later); err != nil {
		t.Fatal(err)
	}
	files, _ = SessionFiles(f.dir, a.Path)
	held, err := a.Holds(t.Context(), files)
	if err != nil {
		t.Fatal(err)
	}
	for i, fl := range files {
		if want := i != 0; held[fl.Path] != want {
			t.Errorf("%s held: %v, want %v", fl.Path, held[fl.Path], want)
		}
	}
}

// An empty folder with no archive answers every query with nothing, and
// makes no file.
func TestQueryEmpty(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	a := Open(filepath.Join(work, "sessions"), "", testkit.Schema(t))
	db, err := a.Query(context.Background(), func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM tool_calls").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count %d, %v", n, err)
	}
	if _, err := db.Exec("INSERT INTO sessions (id) VALUES ('x')"); err == nil {
		t.Error("the empty database took a write")
	}
	if _, err := os.Stat(a.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an archive was made: %v", err)
	}
}

// What an archive error tells the user to do, by the kind of error.
func TestHint(t *testing.T) {
	abs := filepath.Join(string(filepath.Separator), "data", Name)
	cases := []struct {
		err  error
		want string
	}{
		{errors.New("update the archive: database or disk is full (13)"), "free some disk space, or keep the archive elsewhere with --archive"},
		{errors.New("disk I/O error (10)"), "free some disk space"},
		{fmt.Errorf("open: %w", fs.ErrPermission), "check that " + filepath.Dir(abs) + " is writable"},
		{errors.New("attempt to write a readonly database (8)"), "is writable"},
		{errors.New("database is locked (5)"), "another convlog is writing the archive"},
		{errors.New("no such table: messages (1)"), ""},
	}
	for _, c := range cases {
		got := hint(c.err, abs)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%v: hint %q, want %q", c.err, got, c.want)
		}
	}
	if got := hint(nil, abs); got != "" {
		t.Errorf("a hint with no error: %q", got)
	}
}

// A finished session whose WAL outlived its writer (another connection
// held the file open) and then grew, the main file unchanged: the archive
// reads it again.
func TestUpdateReadsAGrowingWAL(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sessions")
	s := testkit.NewSession(t, dir, "walled").Line(testkit.InitLine)
	for i := 1; i <= 5; i++ {
		s.Line(testkit.AssistantText(i, "first"))
	}
	s.Commit()
	// Held open, this connection keeps the writer's close from folding
	// the WAL into the file and removing it.
	held, err := sql.Open("sqlite", "file:"+s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	held.SetMaxOpenConns(1)
	var n int64
	testkit.QueryRow(t, held, "SELECT count(*) FROM messages", &n)
	s.Line(testkit.ResultLine).Finish()
	a := Open(dir, "", testkit.Schema(t))
	model := func() string {
		db, err := a.Query(t.Context(), func(err error) { t.Error(err) })
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var m string
		testkit.QueryRow(t, db, "SELECT model FROM sessions", &m)
		return m
	}
	if m := model(); m != "claude-test" {
		t.Fatalf("model %q, want claude-test", m)
	}
	main, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec("UPDATE sessions SET model = 'changed'"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(s.Path); err != nil || st.Size() != main.Size() || !st.ModTime().Equal(main.ModTime()) {
		t.Fatalf("the main file changed (%v): the test needs the change in the WAL only", err)
	}
	if _, err := os.Stat(s.Path + "-wal"); err != nil {
		t.Fatal(err)
	}
	if m := model(); m != "changed" {
		t.Errorf("model %q after the WAL grew, want changed", m)
	}
}

// An archive made by an older convlog is brought up to date by the next
// query, though no session file changed: its schema's version, the stats
// extras and the tool figures.
func TestQueryUpgradesAnOlderArchive(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, sql, check string }{
		{"schema", fmt.Sprintf("ALTER TABLE sessions DROP COLUMN agent; PRAGMA user_version = %d", record.SchemaVersion-1),
			"SELECT user_version = " + strconv.Itoa(record.SchemaVersion) + " AND (SELECT count(*) FROM pragma_table_info('sessions') WHERE name = 'agent') FROM pragma_user_version()"},
		{"stats extras", "DROP INDEX " + record.StatsIndex, "SELECT count(*) FROM sqlite_master WHERE name = '" + record.StatsIndex + "'"},
		{"tool figures", "DROP TABLE " + record.ToolsTable, "SELECT count(*) FROM sqlite_master WHERE name = '" + record.ToolsTable + "'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFolder(t)
			if n, problems := f.count(t); n != 60 || len(problems) > 0 {
				t.Fatalf("first update: %d messages, problems %v", n, problems)
			}
			db := writable(t, f.archive)
			if _, err := db.Exec(c.sql); err != nil {
				t.Fatal(err)
			}
			var ok bool
			if err := db.QueryRow(c.check).Scan(&ok); err != nil || ok {
				t.Fatalf("%s: %v, %v", c.check, ok, err)
			}
			if n, problems := f.count(t); n != 60 || len(problems) > 0 {
				t.Fatalf("second update: %d messages, problems %v", n, problems)
			}
			if err := db.QueryRow(c.check).Scan(&ok); err != nil || !ok {
				t.Errorf("not brought up to date: %s: %v, %v", c.check, ok, err)
			}
		})
	}
}
