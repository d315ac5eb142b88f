package sync

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	stdsync "sync"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// hostileSession has the lines that are hardest to carry byte for byte.
func hostileSession(t testing.TB, dir, id string) string {
	s := testkit.NewSession(t, dir, id)
	s.Line(testkit.InitLine)
	s.Line(testkit.AssistantText(1, `quotes ' " \ and ''; DROP TABLE sessions; -- emoji 😀 and \u0000 escaped`))
	s.Line("not json with a NUL \x00 byte and 'quotes'")
	s.Line("\xff\xfe invalid UTF-8 \xc3\x28 line")
	s.Line(testkit.AssistantText(2, "carriage return follows") + "\r")
	s.Line(testkit.ToolUse("toolu_ok", "printf '%s\\n' \"x\""))
	s.Line(testkit.ToolResult("toolu_ok", "out with 'quotes' and 😀", false))
	s.Line(testkit.ToolUse("toolu_bad", "false"))
	s.Line(testkit.ToolResult("toolu_bad", "exit status 1", true))
	s.Line(testkit.AssistantText(3, strings.Repeat("1 MB of text ", 1<<20/13)))
	s.Line(testkit.ResultLine)
	return s.Finish()
}

func TestFreshTarget(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	db := srv.DB()
	dir := t.TempDir()
	path := hostileSession(t, dir, "fresh")
	before := tableDump(t, path)

	rep := mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), path)

	assertSame(t, db, path)
	tg := &target{t, db}
	if n := tg.count("SELECT count(*) FROM messages"); n != 11 {
		t.Errorf("messages on target: %d, want 11", n)
	}
	if n := tg.count("SELECT count(*) FROM tool_calls WHERE status = 'error' AND error = 'exit status 1'"); n != 1 {
		t.Errorf("failed tool call on target: %d", n)
	}
	if v := tg.count("PRAGMA user_version"); v != record.SchemaVersion {
		t.Errorf("user_version %d, want %d", v, record.SchemaVersion)
	}
	// The seed's queries run unchanged against the target.
	tg.count("SELECT count(*) FROM (SELECT tool_name, COUNT(*) AS call_count, ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER(), 2) AS percentage FROM tool_calls GROUP BY tool_name)")
	s := rep.Sessions[0]
	if !rep.Migrated || !s.Done || s.ID != "fresh" || s.Rows != s.Todo || s.Rows != 1+11+2+1+1 { // and its usage and tool figures
		t.Errorf("report: migrated %v, session %+v", rep.Migrated, s)
	}
	if rep.Requests > 5 || s.Chunks != 1 {
		t.Errorf("%d requests, %d chunks for a small session", rep.Requests, s.Chunks)
	}
	if after := tableDump(t, path); after != before {
		t.Errorf("sync changed the session file beyond its marks:\nbefore %s\nafter  %s", before, after)
	}
}

func TestSecondSyncSendsNothing(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	proxy := srv.Proxy(t)
	db := srv.DB()
	dir := t.TempDir()
	a := testkit.BigSession(t, dir, "a", 300, 500)
	b := hostileSession(t, dir, "b")
	tg := Target{URL: proxy.URL, Token: testToken}
	first := mustSync(t, tg, syncOpts(t), a, b)
	if first.Rows != first.Sessions[0].Todo+first.Sessions[1].Todo {
		t.Fatalf("first run: %d rows of %d+%d", first.Rows, first.Sessions[0].Todo, first.Sessions[1].Todo)
	}

	sent := proxy.Requests()
	second := mustSync(t, tg, syncOpts(t), a, b)
	if second.Rows != 0 || second.Chunks != 0 {
		t.Errorf("second run sent %d rows in %d chunks", second.Rows, second.Chunks)
	}
	for _, s := range second.Sessions {
		if !s.UpToDate || !s.Done {
			t.Errorf("second run: %+v", s)
		}
	}
	// Only the schema check and the target's id: no rows.
	if n := proxy.Requests() - sent; n != 2 || second.Requests != 2 {
		t.Errorf("second run made %d requests (report: %d), want 2", n, second.Requests)
	}

	// Sending everything again (Full) doubles nothing.
	full := syncOpts(t)
	full.Full = true
	third := mustSync(t, tg, full, a, b)
	if third.Rows != first.Rows {
		t.Errorf("full run sent %d rows, want %d", third.Rows, first.Rows)
	}
	assertSame(t, db, a)
	assertSame(t, db, b)
	if n := (&target{t, db}).count("SELECT count(*) FROM messages"); n != 300+11 {
		t.Errorf("%d messages on the target, want %d", n, 300+11)
	}
}

func TestPendingToolCallCompletedLater(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	db := srv.DB()
	tg := &target{t, db}
	dir := t.TempDir()
	s := testkit.NewSession(t, dir, "live")
	s.Line(testkit.InitLine).Line(testkit.ToolUse("toolu_slow", "sleep 60")).Line(testkit.ToolUse("toolu_never", "hang")).Commit()

	// The session file is still open for writing (WAL, as during `tee`).
	rep := mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), s.Path)
	if rep.Rows != 1+3+2+1 { // and the tool figures
		t.Errorf("first sync: %d rows", rep.Rows)
	}
	if n := tg.count("SELECT count(*) FROM tool_calls WHERE status = 'pending'"); n != 2 {
		t.Fatalf("%d pending tool calls on the target, want 2", n)
	}
	if n := tg.count("SELECT count(*) FROM sessions WHERE ended_at IS NULL"); n != 1 {
		t.Fatalf("session should be running on the target")
	}

	s.Line(testkit.ToolResult("toolu_slow", "done", false)).Line(testkit.AssistantText(9, "finished")).Line(testkit.ResultLine)
	path := s.Finish()
	rep = mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), path)
	// The session row, three new messages, the completed call, the usage
	// of the result line and the tool figures; not the call that is still
	// pending, nor the messages sent before.
	if rep.Rows != 1+3+1+1+1 {
		t.Errorf("second sync: %d rows, want 7", rep.Rows)
	}
	assertSame(t, db, path)
	if n := tg.count("SELECT count(*) FROM tool_calls WHERE tool_use_id = 'toolu_slow' AND status = 'success' AND tool_output = 'done' AND duration_ms IS NOT NULL"); n != 1 {
		t.Errorf("completed tool call not updated on the target")
	}
	if n := tg.count("SELECT count(*) FROM messages"); n != 6 {
		t.Errorf("%d messages on the target, want 6", n)
	}
	rep = mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), path)
	if rep.Rows != 0 {
		t.Errorf("third sync sent %d rows", rep.Rows)
	}
}

func TestStaleCopyDoesNotUndoNewerRows(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	db := srv.DB()
	dir, old := t.TempDir(), t.TempDir()
	s := testkit.NewSession(t, dir, "race")
	s.Line(testkit.InitLine).Line(testkit.ToolUse("toolu_1", "ls")).Commit()
	// A copy taken while the call was pending, synced after the newer one:
	// as when `convlog sync` and the end of `convlog tee` cross.
	stale := old + "/race.db"
	copyDB(t, s.Path, stale)
	s.Line(testkit.ToolResult("toolu_1", "a b", false)).Line(testkit.ResultLine)
	path := s.Finish()
	mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), path)
	full := syncOpts(t)
	full.Full = true
	mustSync(t, Target{URL: srv.URL, Token: testToken}, full, stale)
	tg := &target{t, db}
	if n := tg.count("SELECT count(*) FROM tool_calls WHERE status = 'success'"); n != 1 {
		t.Errorf("a stale pending copy undid the completed tool call")
	}
	if n := tg.count("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL AND result_type = 'result'"); n != 1 {
		t.Errorf("a stale running copy undid the ended session")
	}
}

func copyDB(t testing.TB, from, to string) {
	t.Helper()
	src, err := record.OpenReadOnly(context.Background(), from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Exec("VACUUM INTO ?", to); err != nil {
		t.Fatal(err)
	}
}

func TestServerStopsInTheMiddle(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	dir := t.TempDir()
	path := testkit.BigSession(t, dir, "big", 1500, 1000)
	opts := syncOpts(t)
	opts.ChunkBytes = 128 << 10
	opts.Retries = -1
	opts.OnChunk = func(p Progress) {
		if p.Chunks == 3 {
			srv.Crash() // between two requests: the next one finds no server
		}
	}
	tg := Target{URL: srv.URL, Token: testToken}
	rep, err := Sync(context.Background(), tg, []string{path}, opts)
	var se *Error
	if !errors.As(err, &se) || se.Kind != KindUnreachable {
		t.Fatalf("sync with the server gone: %v", err)
	}
	if rep.Chunks != 3 || rep.Sessions[0].Done || rep.Sessions[0].Rows != rep.Rows {
		t.Fatalf("report after the failure: %+v %+v", rep, rep.Sessions[0])
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatal("token in error")
	}

	srv.Restart()
	db := srv.DB()
	tg2 := &target{t, db}
	// Whole chunks only: exactly the rows of the three committed chunks.
	onTarget := tg2.count("SELECT count(*) FROM messages") + tg2.count("SELECT count(*) FROM tool_calls") + tg2.count("SELECT count(*) FROM sessions")
	if onTarget != rep.Rows {
		t.Fatalf("target holds %d rows after the crash, %d were committed", onTarget, rep.Rows)
	}

	opts.OnChunk = nil
	rest := mustSync(t, tg, opts, path)
	if rest.Rows != rep.Sessions[0].Todo-rep.Rows {
		t.Errorf("resumed run sent %d rows, want the %d that were missing", rest.Rows, rep.Sessions[0].Todo-rep.Rows)
	}
	assertSame(t, db, path)
}

func TestBrokenRequests(t *testing.T) {
	t.Parallel()
	for _, fault := range []testkit.Fault{testkit.DropRequest, testkit.CutRequest, testkit.DropResponse} {
		t.Run(fmt.Sprint(fault), func(t *testing.T) {
			t.Parallel()
			srv := testkit.Start(t)
			proxy := srv.Proxy(t)
			dir := t.TempDir()
			path := testkit.BigSession(t, dir, "cut", 500, 600)
			opts := syncOpts(t)
			opts.ChunkBytes = 64 << 10
			tg := Target{URL: proxy.URL, Token: testToken}

			// Without retries the run stops at the broken request...
			opts.Retries = -1
			opts.OnChunk = func(p Progress) {
				if p.Chunks == 2 {
					proxy.Break(1, fault)
				}
			}
			rep, err := Sync(context.Background(), tg, []string{path}, opts)
			if err == nil || rep.Chunks != 2 {
				t.Fatalf("run with a broken request: %v, %d chunks", err, rep.Chunks)
			}
			// ... and the next run completes it.
			opts.OnChunk = nil
			mustSync(t, tg, opts, path)
			assertSame(t, srv.DB(), path)

			// With retries, the same fault passes unnoticed.
			full := opts
			full.Full, full.Retries = true, 0
			full.OnChunk = func(p Progress) {
				if p.Chunks == 1 {
					proxy.Break(1, fault)
				}
			}
			rep = mustSync(t, tg, full, path)
			if rep.Requests != 2+rep.Chunks+1 {
				t.Errorf("%d requests for %d chunks: the broken one was not tried again", rep.Requests, rep.Chunks)
			}
			assertSame(t, srv.DB(), path)
		})
	}
}

// TestMalformedReply: the server did the work but the answer is not JSON.
// The run stops with an error; the next one completes the target, nothing
// doubled.
func TestMalformedReply(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	proxy := srv.Proxy(t)
	path := testkit.BigSession(t, t.TempDir(), "garbled", 300, 600)
	opts := syncOpts(t)
	opts.ChunkBytes = 64 << 10
	opts.Retries = -1
	tg := Target{URL: proxy.URL, Token: testToken}
	opts.OnChunk = func(p Progress) {
		if p.Chunks == 1 {
			proxy.Break(1, testkit.GarbleResponse)
		}
	}
	if _, err := Sync(context.Background(), tg, []string{path}, opts); err == nil {
		t.Fatal("a malformed reply went unnoticed")
	}
	opts.OnChunk = nil
	mustSync(t, tg, opts, path)
	assertSame(t, srv.DB(), path)
}

func TestConcurrentSyncs(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t) // fresh: the writers also race to create the schema
	dir := t.TempDir()
	var paths []string
	for i := range 6 {
		paths = append(paths, testkit.BigSession(t, dir, fmt.Sprintf("w%d", i), 400, 800))
	}
	opts := syncOpts(t)
	opts.ChunkBytes = 64 << 10
	var wg stdsync.WaitGroup
	errs := make([]error, len(paths))
	for i, p := range paths {
		wg.Go(func() {
			rep, err := Sync(context.Background(), Target{URL: srv.URL, Token: testToken}, []string{p}, opts)
			if err == nil && !rep.Sessions[0].Done {
				err = rep.Sessions[0].Err
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	db := srv.DB()
	for _, p := range paths {
		assertSame(t, db, p)
	}
	if n := (&target{t, db}).count("SELECT count(*) FROM messages"); n != 6*400 {
		t.Errorf("%d messages on the target, want %d", n, 6*400)
	}
}

func TestOlderTargetIsMigrated(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	db := srv.DB()
	// The seed's own tables, without convlog's added columns.
	_, err := db.Exec(`BEGIN;
		CREATE TABLE sessions (id TEXT PRIMARY KEY, started_at INTEGER, ended_at INTEGER, duration_ms INTEGER, model TEXT, mode TEXT,
			prompt_length INTEGER, cwd TEXT, github_run_id TEXT, github_repository TEXT, github_ref TEXT, result_type TEXT,
			result_subtype TEXT, total_messages INTEGER DEFAULT 0, total_tool_calls INTEGER DEFAULT 0);
		CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), sequence INTEGER NOT NULL,
			timestamp INTEGER, type TEXT, subtype TEXT, raw_message TEXT);
		CREATE TABLE tool_calls (id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), message_id TEXT REFERENCES messages(id),
			sequence INTEGER, timestamp INTEGER, tool_name TEXT, tool_input TEXT, tool_output TEXT, status TEXT, duration_ms INTEGER, error TEXT);
		INSERT INTO sessions (id, model) VALUES ('from-the-seed', 'claude-opus-4');
		COMMIT`)
	if err != nil {
		t.Fatal(err)
	}
	path := hostileSession(t, t.TempDir(), "newer")
	rep := mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), path)
	if !rep.Migrated {
		t.Error("report does not say the target was migrated")
	}
	assertSame(t, db, path)
	tg := &target{t, db}
	if n := tg.count("SELECT count(*) FROM sessions WHERE id = 'from-the-seed' AND total_cost_usd IS NULL AND lines_dropped = 0"); n != 1 {
		t.Error("the target's own rows were not kept, or the new columns lack their defaults")
	}
	if n := tg.count("SELECT count(*) FROM pragma_index_list('tool_calls') WHERE name = 'idx_tool_calls_status'"); n != 1 {
		t.Error("the seed's indexes were not created")
	}
}

func TestIncompatibleTargetWritesNothing(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ ddl, want string }{
		"type": {
			`CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, sequence INTEGER NOT NULL, raw_message BLOB)`,
			`table messages column raw_message has type "BLOB" where convlog needs "TEXT"`,
		},
		"not null column missing": {
			`CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL)`,
			`table messages lacks column sequence`,
		},
		"no primary key": {
			`CREATE TABLE tool_calls (id TEXT, session_id TEXT NOT NULL, message_id TEXT, sequence INTEGER, timestamp INTEGER, tool_name TEXT, tool_input TEXT, tool_output TEXT, status TEXT, duration_ms INTEGER, error TEXT)`,
			`table tool_calls column id is not its primary key`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := testkit.Start(t)
			db := srv.DB()
			if _, err := db.Exec(c.ddl); err != nil {
				t.Fatal(err)
			}
			path := hostileSession(t, t.TempDir(), "x")
			_, err := Sync(context.Background(), Target{URL: srv.URL, Token: testToken}, []string{path}, syncOpts(t))
			var se *Error
			if !errors.As(err, &se) || se.Kind != KindSchema || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a schema error with %q", err, c.want)
			}
			// Nothing written: the target has the one table it had.
			if n := (&target{t, db}).count("SELECT count(*) FROM sqlite_master WHERE type = 'table'"); n != 1 {
				t.Errorf("target has %d tables after a refused sync", n)
			}
		})
	}
}

func TestRecreatedTargetGetsEverything(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	path := testkit.BigSession(t, t.TempDir(), "again", 50, 200)
	tg := Target{URL: srv.URL, Token: testToken}
	first := mustSync(t, tg, syncOpts(t), path)
	// Destroyed and created again at the same URL (the seed's cure for a
	// schema mismatch): the marks of the old database must not hold back
	// the new one.
	srv.Stop()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(srv.Path + suffix)
	}
	srv.Restart()
	again := mustSync(t, tg, syncOpts(t), path)
	if again.Rows != first.Rows {
		t.Errorf("recreated target got %d rows, want %d", again.Rows, first.Rows)
	}
	assertSame(t, srv.DB(), path)
}

func TestServerLeftInsideATransaction(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	db := srv.DB()
	// An interactive transaction on this server runs its BEGIN, then
	// fails: the server's one connection stays inside the transaction.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("SELECT 1"); err == nil {
		t.Fatal("an interactive transaction worked; the server keeps streams now")
	}
	tx.Rollback()
	path := hostileSession(t, t.TempDir(), "after-begin")
	rep := mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), path)
	assertSame(t, db, path)
	// The columns, the schema (refused: "cannot start a transaction within
	// a transaction", its own ROLLBACK step ending the stray transaction),
	// the schema again, the target's id, the rows.
	if rep.Requests != 5 {
		t.Errorf("%d requests, want 5 (one retry)", rep.Requests)
	}
}

func TestFileTarget(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	dir := t.TempDir()
	a := hostileSession(t, dir, "a")
	b := testkit.BigSession(t, dir, "b", 700, 600)
	archive := t.TempDir() + "/archive/convlog.db"
	file := Target{URL: "file:" + archive}
	first := mustSync(t, file, syncOpts(t), a, b)
	if first.Sessions[0].Rows == 0 || first.Sessions[1].Rows == 0 {
		t.Fatalf("nothing sent to the archive: %+v", first)
	}
	adb, err := record.OpenReadOnly(context.Background(), archive)
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	assertSame(t, adb, a)
	assertSame(t, adb, b)
	// A new archive file has large pages, and is in WAL mode.
	var pageSize int64
	var mode string
	if err := adb.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil || pageSize != 65536 {
		t.Errorf("archive page size %d (%v), want 65536", pageSize, err)
	}
	if err := adb.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("archive journal mode %q (%v), want wal", mode, err)
	}
	if st, err := os.Stat(archive); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("archive mode %v, %v", st.Mode(), err)
	}
	// Marks are per target: the server still gets everything, and neither
	// gets anything a second time.
	remote := Target{URL: srv.URL, Token: testToken}
	toServer := mustSync(t, remote, syncOpts(t), a, b)
	if toServer.Rows != first.Rows {
		t.Errorf("server got %d rows, archive %d", toServer.Rows, first.Rows)
	}
	for _, tg := range []Target{file, remote} {
		if again := mustSync(t, tg, syncOpts(t), a, b); again.Rows != 0 {
			t.Errorf("%s: second run sent %d rows", tg.Display(), again.Rows)
		}
	}
	local, err := record.OpenReadOnly(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	var marks int
	local.QueryRow("SELECT count(*) FROM sync_marks").Scan(&marks)
	if marks != 2 {
		t.Errorf("%d sync marks in the session file, want one per target", marks)
	}
}

func TestLocalFileProblems(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	dir := t.TempDir()
	good := hostileSession(t, dir, "good")
	notDB := dir + "/junk.db"
	os.WriteFile(notDB, []byte("this is not a database"), 0o600)
	missing := dir + "/missing.db"
	rep, err := Sync(context.Background(), Target{URL: srv.URL, Token: testToken}, []string{notDB, missing, good}, syncOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sessions[0].Err == nil || rep.Sessions[1].Err == nil || rep.Sessions[2].Err != nil || !rep.Sessions[2].Done {
		t.Fatalf("reports: %+v %+v %+v", rep.Sessions[0], rep.Sessions[1], rep.Sessions[2])
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("sync created the missing session file")
	}
	assertSame(t, srv.DB(), good)
}

func TestMarkCannotBeWritten(t *testing.T) {
	// Not parallel: it shortens marksBusyTimeout, which every sync reads,
	// and parallel tests only start once the others are done.
	srv := testkit.Start(t)
	path := testkit.BigSession(t, t.TempDir(), "locked", 40, 100)
	// Another process holds the file's write lock for the whole sync.
	unlock := lockFile(t, path)
	saved := marksBusyTimeout
	t.Cleanup(func() { marksBusyTimeout = saved })
	marksBusyTimeout = 50e6 // 50 ms
	rep, err := Sync(context.Background(), Target{URL: srv.URL, Token: testToken}, []string{path}, syncOpts(t))
	if err != nil || !rep.Sessions[0].Done || rep.Sessions[0].MarkErr == nil {
		t.Fatalf("sync with a locked session file: %v %+v", err, rep.Sessions[0])
	}
	unlock()
	// Without a mark, the next run sends the rows again, harmlessly.
	again := mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), path)
	if again.Rows != rep.Rows {
		t.Errorf("second run sent %d rows, want %d", again.Rows, rep.Rows)
	}
	assertSame(t, srv.DB(), path)
}

func TestReportJSONHoldsNoToken(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	path := hostileSession(t, t.TempDir(), "json")
	rep := mustSync(t, Target{URL: srv.URL, Token: testToken}, syncOpts(t), path)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), testToken) || !strings.Contains(string(b), `"target":"`+srv.URL+`"`) {
		t.Errorf("report JSON: %s", b)
	}
}

// lockFile holds a write transaction on a SQLite file until the returned
// function is called.
func lockFile(t testing.TB, path string) func() {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(1000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		db.Exec("ROLLBACK")
		db.Close()
	}
}

// A convlog whose schema has a column more than the one that synced before
// adds it to the target and sends the rows again with it.
func TestNewerConvlogSendsNewColumns(t *testing.T) {
	t.Parallel()
	full := testkit.Schema(t)
	var lines []string
	for _, l := range strings.Split(full.SQL, "\n") {
		if !strings.Contains(l, "set on sub-agent messages") {
			lines = append(lines, l)
		}
	}
	older, err := record.ParseSchema(strings.Join(lines, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv := testkit.Start(t)
	s := testkit.NewSession(t, t.TempDir(), "subagent")
	s.Line(testkit.InitLine).Line(`{"type":"assistant","parent_tool_use_id":"toolu_task","message":{"id":"m1","role":"assistant","content":[{"type":"text","text":"from a sub-agent"}]}}`).Line(testkit.ResultLine)
	path := s.Finish()
	tg := Target{URL: srv.URL, Token: testToken}
	first := mustSync(t, tg, Options{Schema: older}, path)
	db := srv.DB()
	if n := (&target{t, db}).count("SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'parent_tool_use_id'"); n != 0 {
		t.Fatal("the older schema has the column")
	}
	second := mustSync(t, tg, Options{Schema: full}, path)
	if !second.Migrated || second.Rows != 3 {
		t.Errorf("newer convlog: migrated %v, %d rows sent (first run %d)", second.Migrated, second.Rows, first.Rows)
	}
	assertSame(t, db, path)
}

// The token reaches the server as a bearer token, on every request: a
// server that accepts only the right one takes the session, and refuses a
// wrong one with an error that names the token but does not show it.
func TestSyncSendsTheToken(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	proxy := srv.Proxy(t)
	proxy.RequireToken(testToken)
	path := testkit.BigSession(t, t.TempDir(), "tok", 20, 100)

	_, err := Sync(context.Background(), Target{URL: proxy.URL, Token: "wrong-" + testToken}, []string{path}, syncOpts(t))
	var serr *Error
	if !errors.As(err, &serr) || serr.Kind != KindRejected || strings.Contains(err.Error(), testToken) {
		t.Fatalf("a wrong token: %v", err)
	}
	rep := mustSync(t, Target{URL: proxy.URL, Token: testToken}, syncOpts(t), path)
	if rep.Rows == 0 {
		t.Fatal("nothing synced with the right token")
	}
	assertSame(t, srv.DB(), path)
	for _, a := range proxy.Authorizations() {
		if a != "Bearer "+testToken && a != "Bearer wrong-"+testToken {
			t.Errorf("a request carried Authorization %q", a)
		}
	}
}
