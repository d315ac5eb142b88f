package cli

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// faultStream is a seeded stream-json input with tool calls, sub-agent
// lines, non-JSON lines and a few big results.
func faultStream(seed uint64, lines int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b bytes.Buffer
	b.WriteString(`{"type":"system","subtype":"init","session_id":"f","model":"claude-x","cwd":"/w"}` + "\n")
	for i := 0; i < lines; i++ {
		switch r.IntN(10) {
		case 0:
			fmt.Fprintf(&b, "plain text line %d\n", i)
		case 1, 2, 3:
			fmt.Fprintf(&b, `{"type":"assistant","message":{"id":"m%d","content":[{"type":"tool_use","id":"t%d","name":"Bash","input":{"command":"step %d"}}]}}`+"\n", i, i, i)
		case 4, 5, 6:
			size := 100 + r.IntN(4000)
			if r.IntN(50) == 0 {
				size = 300_000
			}
			fmt.Fprintf(&b, `{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t%d","content":"%s"}]},"parent_tool_use_id":null}`+"\n", i-3, strings.Repeat("o", size))
		default:
			fmt.Fprintf(&b, `{"type":"assistant","message":{"id":"m%d","content":[{"type":"text","text":"thinking about %d"}]},"parent_tool_use_id":"t%d"}`+"\n", i, i, i-1)
		}
	}
	return b.Bytes()
}

// TestKillAtRandomPoints kills convlog tee with SIGKILL at seeded moments
// of a stream long enough to cross every phase of a session file (the first
// commit, the move to large pages, checkpoints in the stream's pauses) and
// checks what it leaves: the pass-through is a prefix of the input, the
// file is sound and readable by every command, and its messages are the
// first lines of the input without a gap. The kills must reach those
// phases: the test fails if too few runs are killed after them.
func TestKillAtRandomPoints(t *testing.T) {
	const (
		workers = 3
		lines   = 1500 // about 3.7 MB
		pieces  = 40
	)
	// Half as many with the race detector, whose runs take five times as
	// long; the run without it covers them all.
	runs := 36
	if testkit.Race {
		runs = 18
	}
	dir := t.TempDir()
	outcomes := make([]killOutcome, runs)
	var wg sync.WaitGroup
	next := make(chan int, runs)
	for run := range runs {
		next <- run
	}
	close(next)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for run := range next {
				outcomes[run] = killOnce(t, dir, run, lines, pieces)
			}
		}()
	}
	wg.Wait()
	var killedLate, grown, midway int
	for _, o := range outcomes {
		if o.stored > 0 {
			killedLate++
		}
		if o.grown {
			grown++
		}
		if o.stored > o.total/4 && o.stored < o.total {
			midway++
		}
	}
	// Seeded points over a stream of about a second: most kills come after
	// the first commit, many after the move to large pages.
	var dist []int
	for _, o := range outcomes {
		dist = append(dist, o.stored)
	}
	t.Logf("lines stored by the killed runs: %v", dist)
	if killedLate < runs/2 || grown < runs/6 || midway < runs/6 {
		t.Errorf("the kills missed the session's phases: %d of %d after the first commit, %d after the move to large pages, %d midway",
			killedLate, runs, grown, midway)
	}
}

// killOutcome is what a killed tee left: how many of the input's lines
// its file holds, and whether it had moved to large pages.
type killOutcome struct {
	stored, total int
	grown         bool
}

// killOnce streams faultStream(run) into tee in pieces, with pauses (some
// long enough for a checkpoint), kills tee at a seeded moment, and checks
// what it left.
func killOnce(t *testing.T, dir string, run, lines, pieces int) (o killOutcome) {
	r := rand.New(rand.NewPCG(uint64(run), 7))
	input := faultStream(uint64(run), lines)
	all := testkit.SplitLines(input)
	o.total = len(all)
	id := fmt.Sprintf("kill-%03d", run)
	cmd := exec.Command(testkit.Bin, "tee", "--quiet", "--dir", dir, "--session-id", id)
	cmd.Env = testkit.CleanEnv()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return o
	}
	path := filepath.Join(dir, id+".db")
	// What the file and its WAL look like: a commit changes the size or,
	// once a checkpoint has restarted the WAL, which is then overwritten
	// from its start, at least the time it was written.
	fileState := func() [4]int64 {
		var s [4]int64
		for i, sfx := range []string{"", "-wal"} {
			if st, err := os.Stat(path + sfx); err == nil {
				s[2*i], s[2*i+1] = st.Size(), st.ModTime().UnixNano()
			}
		}
		return s
	}
	// The producer keeps tee's logging in step with the stream: after each
	// piece, it waits (for 5 s at most) until the session file has been written,
	// so that the logging is at most a piece behind what came out, on a
	// slow machine (or with -race) too. Then a kill after a seeded share
	// of the output is a moment in the logging's progress, not on a clock.
	go func() {
		per := len(all)/pieces + 1
		for i := 0; i < len(all); i += per {
			before := fileState()
			piece := bytes.Join(all[i:min(i+per, len(all))], []byte("\n"))
			if _, err := stdin.Write(append(piece, '\n')); err != nil {
				return // killed
			}
			for deadline := time.Now().Add(5 * time.Second); fileState() == before && time.Now().Before(deadline); {
				time.Sleep(2 * time.Millisecond)
			}
			pause := 12 * time.Millisecond
			if i/per%10 == 9 {
				pause = 150 * time.Millisecond // a pause: the checkpoint's moment
			}
			time.Sleep(pause)
		}
		stdin.Close()
	}()
	killAt := r.IntN(len(input))
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := stdout.Read(buf)
		got = append(got, buf[:n]...)
		if len(got) >= killAt && killAt >= 0 {
			cmd.Process.Kill()
			killAt = -1
		}
		if err != nil {
			break
		}
	}
	cmd.Wait()

	if !bytes.HasPrefix(input, got) {
		t.Errorf("run %d: pass-through is not a prefix of the input", run)
		return o
	}
	if _, err := os.Stat(path); err != nil {
		return o // killed before the file was created: nothing to check
	}
	// Every command reads what was left, however it was left: a rollback
	// journal of a page-size change, a WAL not yet copied.
	res := runConvlog(t, dir, nil, nil, "query", "--dir", dir, id, "--json")
	if res.code != 0 {
		t.Errorf("run %d (killed after %d bytes out): query of a killed session: exit %d: %s", run, len(got), res.code, res.stderr)
		return o
	}
	db, err := record.OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Errorf("run %d: %v", run, err)
		return o
	}
	defer db.Close()
	var check string
	var pageSize int
	if err := db.QueryRow(`SELECT (SELECT integrity_check FROM pragma_integrity_check()), (SELECT page_size FROM pragma_page_size())`).Scan(&check, &pageSize); err != nil || check != "ok" {
		t.Errorf("run %d: integrity_check: %q %v", run, check, err)
		return o
	}
	o.grown = pageSize == 65536
	rows, err := db.Query(`SELECT sequence, raw_message FROM messages ORDER BY sequence`)
	if err != nil {
		t.Errorf("run %d: %v", run, err)
		return o
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var raw []byte
		rows.Scan(&seq, &raw)
		if seq != o.stored || seq >= len(all) || !bytes.Equal(raw, all[seq]) {
			t.Errorf("run %d: message %d is not input line %d", run, seq, o.stored)
			return o
		}
		o.stored++
	}
	var ended sql.NullInt64
	var total int
	if err := db.QueryRow(`SELECT ended_at, total_messages FROM sessions`).Scan(&ended, &total); err != nil ||
		ended.Valid && o.stored < len(all) || total > o.stored {
		t.Errorf("run %d: ended_at %v, total_messages %d of %d stored (%v)", run, ended, total, o.stored, err)
	}
	if run%8 != 0 {
		return o // syncing every killed file with the binary is slow under -race
	}
	// A killed session syncs like any other: every stored line arrives.
	archive := filepath.Join(t.TempDir(), "target.db")
	if res := runConvlog(t, dir, nil, []string{"TURSO_DATABASE_URL=file:" + archive, "TURSO_AUTH_TOKEN=x"},
		"sync", "--dir", dir, id); res.code != 0 {
		t.Errorf("run %d: sync of a killed session: exit %d: %s", run, res.code, res.stderr)
		return o
	}
	target, err := record.OpenReadOnly(t.Context(), archive)
	if err != nil {
		t.Error(err)
		return o
	}
	defer target.Close()
	var synced int
	target.QueryRow(`SELECT count(*) FROM messages`).Scan(&synced)
	if synced != o.stored {
		t.Errorf("run %d: %d of %d messages synced", run, synced, o.stored)
	}
	return o
}

// TestPipeTrouble: stdin closed or /dev/null, stdout closed, a reader that
// leaves midway or reads slowly. The input is always logged in full and the
// exit status is 0.
func TestPipeTrouble(t *testing.T) {
	input := faultStream(9, 400)
	count := func(t *testing.T, dir string) int {
		files, _ := filepath.Glob(filepath.Join(dir, "*.db"))
		if len(files) != 1 {
			t.Fatalf("session files: %v", files)
		}
		var n int
		testkit.QueryRow(t, testkit.OpenDB(t, files[0]), `SELECT count(*) FROM messages`, &n)
		return n
	}
	sh := func(t *testing.T, script string, stdin []byte) (string, int) {
		dir := t.TempDir()
		cmd := exec.Command("sh", "-c", script, testkit.Bin, dir)
		cmd.Env = testkit.CleanEnv()
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, stderr.String())
		}
		if strings.Contains(stderr.String(), "convlog: warning") {
			t.Fatalf("%s: %s", script, stderr.String())
		}
		return dir, count(t, dir)
	}
	lines := len(testkit.SplitLines(input))
	t.Run("stdin closed", func(t *testing.T) {
		if _, n := sh(t, `"$0" tee --quiet --dir "$1" <&-`, nil); n != 0 {
			t.Fatalf("%d messages", n)
		}
	})
	t.Run("stdin /dev/null", func(t *testing.T) {
		if _, n := sh(t, `"$0" tee --quiet --dir "$1" </dev/null`, nil); n != 0 {
			t.Fatalf("%d messages", n)
		}
	})
	t.Run("stdout closed", func(t *testing.T) {
		if _, n := sh(t, `"$0" tee --quiet --dir "$1" >&-`, input); n != lines {
			t.Fatalf("%d of %d messages", n, lines)
		}
	})
	t.Run("reader leaves midway", func(t *testing.T) {
		half := len(input) / 2
		dir, n := sh(t, fmt.Sprintf(`"$0" tee --quiet --dir "$1" | head -c %d > "$1/out"`, half), input)
		if n != lines {
			t.Fatalf("%d of %d messages", n, lines)
		}
		out, _ := os.ReadFile(filepath.Join(dir, "out"))
		if !bytes.Equal(out, input[:half]) {
			t.Fatalf("the reader got %d bytes that are not the input's first %d", len(out), half)
		}
	})
	t.Run("slow reader", func(t *testing.T) {
		// The reader takes a line at a time with a pause: convlog waits for
		// it (as tee does) and loses nothing.
		small := faultStream(3, 120)
		small = small[:bytes.LastIndexByte(small[:min(len(small), 64<<10)], '\n')+1]
		dir, n := sh(t, `"$0" tee --quiet --dir "$1" | while IFS= read -r l; do printf '%s\n' "$l"; sleep 0.002; done > "$1/out"`, small)
		out, _ := os.ReadFile(filepath.Join(dir, "out"))
		if want := len(testkit.SplitLines(small)); n != want || !bytes.Equal(out, small) {
			t.Fatalf("%d of %d messages; output equal %v", n, want, bytes.Equal(out, small))
		}
	})
}

// TestConcurrency: many convlog tee at once in one folder, read by list,
// query and sql while they write; then two sync --all at once to one
// server. Nothing fails, nothing is lost or doubled.
func TestConcurrency(t *testing.T) {
	const writers = 8
	dir := t.TempDir()
	inputs := make([][]byte, writers)
	type run struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   bytes.Buffer
	}
	runs := make([]*run, writers)
	for i := range writers {
		inputs[i] = agentStream(150 + 10*i)
		r := &run{cmd: exec.Command(testkit.Bin, "tee", "--quiet", "--dir", dir, "--session-id", fmt.Sprintf("w%d", i))}
		r.cmd.Env = testkit.CleanEnv()
		r.stdin, _ = r.cmd.StdinPipe()
		r.cmd.Stdout = &r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		runs[i] = r
	}
	// Half of every stream, then the readers, then the rest.
	for i, r := range runs {
		r.stdin.Write(inputs[i][:bytes.LastIndexByte(inputs[i][:len(inputs[i])/2], '\n')+1])
	}
	for i := range writers {
		testkit.WaitForMessages(t, filepath.Join(dir, fmt.Sprintf("w%d.db", i)), 1)
	}
	for _, args := range [][]string{
		{"list", "--dir", dir},
		{"query", "--dir", dir, "last", "--json", "--tools"},
		{"query", "--dir", dir, "w3", "--messages"},
		{"sql", "--dir", dir, "SELECT count(*) FROM messages"},
		{"stats", "--dir", dir},
	} {
		if res := runConvlog(t, dir, nil, nil, args...); res.code != 0 {
			t.Errorf("%v while 8 sessions are written: exit %d: %s", args, res.code, res.stderr)
		}
	}
	for i, r := range runs {
		r.stdin.Write(inputs[i][bytes.LastIndexByte(inputs[i][:len(inputs[i])/2], '\n')+1:])
		r.stdin.Close()
	}
	for i, r := range runs {
		if err := r.cmd.Wait(); err != nil || !bytes.Equal(r.out.Bytes(), inputs[i]) {
			t.Fatalf("writer %d: %v, output equal %v", i, err, bytes.Equal(r.out.Bytes(), inputs[i]))
		}
		db := testkit.OpenDB(t, filepath.Join(dir, fmt.Sprintf("w%d.db", i)))
		if got, want := testkit.StoredLines(t, db), testkit.SplitLines(inputs[i]); len(got) != len(want) {
			t.Fatalf("writer %d: %d of %d lines stored", i, len(got), len(want))
		}
	}

	// Two sync --all at once to one server: the same rows from two processes.
	srv := testkit.Start(t)
	env := creds(srv.URL)
	done := make(chan result, 2)
	for range 2 {
		go func() { done <- runConvlog(t, dir, nil, env, "sync", "--all", "--dir", dir) }()
	}
	for range 2 {
		if r := <-done; r.code != 0 {
			t.Fatalf("concurrent sync --all: exit %d: %s", r.code, r.stderr)
		}
	}
	var wantMsgs, wantTools int64
	for i := range writers {
		n := int64(150 + 10*i)
		wantMsgs += 2*n + 2
		wantTools += n
	}
	if got := countOn(t, srv, `SELECT count(*) FROM messages`); got != wantMsgs {
		t.Fatalf("%d messages on the server, want %d", got, wantMsgs)
	}
	if got := countOn(t, srv, `SELECT count(*) FROM tool_calls WHERE status = 'success'`); got != wantTools {
		t.Fatalf("%d finished tool calls on the server, want %d", got, wantTools)
	}
	if got := countOn(t, srv, `SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL`); got != writers {
		t.Fatalf("%d ended sessions on the server", got)
	}
}

// TestPermissionsUnderOpenUmask: session folders 0700 and every file convlog
// or SQLite makes in them 0600, even with umask 000.
func TestPermissionsUnderOpenUmask(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `umask 000; exec "$0" tee --quiet --dir .turso/sessions --session-id u`, testkit.Bin)
	cmd.Dir = dir
	cmd.Env = testkit.CleanEnv()
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	io.WriteString(stdin, `{"type":"assistant","message":{"content":[]}}`+"\n")
	sessions := filepath.Join(dir, ".turso", "sessions")
	testkit.WaitForMessages(t, filepath.Join(sessions, "u.db"), 1)
	for path, want := range map[string]os.FileMode{
		filepath.Join(dir, ".turso"): 0o700, sessions: 0o700,
		filepath.Join(sessions, "u.db"): 0o600, filepath.Join(sessions, "u.db-wal"): 0o600, filepath.Join(sessions, "u.db-shm"): 0o600,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
		} else if st.Mode().Perm() != want {
			t.Errorf("%s: %v, want %v", path, st.Mode().Perm(), want)
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestFolderDeletedWhileRunning: the session folder disappears mid-stream.
// The pass-through stays exact and the loss is one clear warning.
func TestFolderDeletedWhileRunning(t *testing.T) {
	for _, strict := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "sessions")
		args := []string{"tee", "--quiet", "--dir", dir, "--session-id", "gone"}
		if strict {
			args = append(args, "--strict")
		}
		cmd := exec.Command(testkit.Bin, args...)
		cmd.Env = testkit.CleanEnv()
		stdin, _ := cmd.StdinPipe()
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		input := faultStream(5, 200)
		half := bytes.IndexByte(input[len(input)/2:], '\n') + len(input)/2 + 1
		stdin.Write(input[:half])
		testkit.WaitForMessages(t, filepath.Join(dir, "gone.db"), 1)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		stdin.Write(input[half:])
		stdin.Close()
		code := testkit.ExitCode(cmd.Wait())
		want := 0
		if strict {
			want = 1
		}
		if code != want || !bytes.Equal(out.Bytes(), input) {
			t.Fatalf("strict=%v: exit %d, pass-through equal %v", strict, code, bytes.Equal(out.Bytes(), input))
		}
		if n := strings.Count(stderr.String(), "convlog: warning:"); n != 1 ||
			!strings.Contains(stderr.String(), "was removed while convlog was running; this session is lost") {
			t.Fatalf("strict=%v: stderr %s", strict, stderr.String())
		}
	}
}

// A file planted beside a session file where SQLite keeps its WAL (a
// symbolic link) is named for what it is: tee refuses to start the session
// beside it, saying why, and leaves no file that cannot be read; list says
// why a session file next to one cannot be read.
func TestPlantedWALLink(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "s")
	os.MkdirAll(dir, 0o700)
	target := filepath.Join(work, "elsewhere")
	if err := os.Symlink(target, filepath.Join(dir, "planted.db-wal")); err != nil {
		t.Fatal(err)
	}
	in := []byte(`{"type":"system","subtype":"init"}` + "\n")
	res := runConvlog(t, work, in, nil, "tee", "-q", "--no-sync", "--dir", "s", "--session-id", "planted")
	if res.code != 0 || !bytes.Equal(res.stdout, in) || !strings.Contains(string(res.stderr), "planted.db-wal beside it is a symbolic link") {
		t.Errorf("tee beside a planted link: exit %d: %s", res.code, res.stderr)
	}
	if _, err := os.Lstat(filepath.Join(dir, "planted.db")); err == nil {
		t.Error("tee left a session file beside the link")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Error("something was written through the link")
	}

	// A session file in WAL mode (its logger killed), its WAL then
	// replaced by a link.
	cmd := exec.Command(testkit.Bin, "tee", "-q", "--dir", dir, "--session-id", "killed")
	cmd.Env = testkit.CleanEnv()
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, `{"type":"system","subtype":"init"}`+"\n")
	path := filepath.Join(dir, "killed.db")
	testkit.WaitForMessages(t, path, 1)
	cmd.Process.Kill()
	cmd.Wait()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	if err := os.Symlink(target, path+"-wal"); err != nil {
		t.Fatal(err)
	}
	res = runConvlog(t, work, nil, nil, "list", "--dir", "s", "--wide")
	if !strings.Contains(string(res.stdout), "killed.db-wal beside it is a symbolic link") {
		t.Errorf("list does not say why killed cannot be read:\n%s%s", res.stdout, res.stderr)
	}
}
