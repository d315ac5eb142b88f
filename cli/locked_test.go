package cli

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// lockedRun streams lines of 1 KB into convlog tee, one every interval,
// while another process holds the session file locked (BEGIN EXCLUSIVE)
// for hold, from the moment the first 100 lines are logged. It returns each
// line's latency through tee, its stderr and the session file.
func lockedRun(t *testing.T, env []string, lines int, interval, hold time.Duration) ([]time.Duration, string, string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(testkit.Bin, "tee", "--quiet", "--dir", dir, "--session-id", "lock")
	// One process: the pass-through is convlog tee's own.
	cmd.Env = append(testkit.CleanEnv(), append([]string{"CONVLOG_HANDOVER=never"}, env...)...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	path := filepath.Join(dir, "lock.db")

	sent := make([]time.Time, lines)
	got := make([]time.Duration, lines)
	read := make(chan error, 1)
	go func() {
		br := bufio.NewReaderSize(stdout, 64<<10)
		for i := range lines {
			l, err := br.ReadString('\n')
			if err != nil {
				read <- fmt.Errorf("line %d: %v", i, err)
				return
			}
			now := time.Now()
			n, _ := strconv.Atoi(l[strings.Index(l, `"i":`)+4 : strings.Index(l, `,"pad"`)])
			if n != i {
				read <- fmt.Errorf("line %d came out as line %d", i, n)
				return
			}
			got[i] = now.Sub(sent[i])
		}
		read <- nil
	}()

	pad := strings.Repeat("l", 1000)
	var unlock func()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range lines {
		if i == 100 {
			testkit.WaitForMessages(t, path, 100)
			unlock = lockFor(t, path, hold)
		}
		<-tick.C
		sent[i] = time.Now()
		if _, err := fmt.Fprintf(stdin, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, pad); err != nil {
			t.Fatal(err)
		}
	}
	stdin.Close()
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	unlock()
	if code := testkit.ExitCode(cmd.Wait()); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	return got, stderr.String(), path
}

// lockFor holds the file locked with BEGIN EXCLUSIVE, as another process
// would, for d; the returned function waits until the lock is gone.
func lockFor(t *testing.T, path string, d time.Duration) func() {
	t.Helper()
	db, err := sql.Open("sqlite", record.DSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	time.AfterFunc(d, func() {
		conn.ExecContext(t.Context(), "ROLLBACK")
		conn.Close()
		db.Close()
		close(done)
	})
	return func() { <-done }
}

func maxOf(d []time.Duration) (time.Duration, int) {
	var m time.Duration
	at := 0
	for i, x := range d {
		if x > m {
			m, at = x, i
		}
	}
	return m, at
}

// TestTeeLockHeldPastTheStallLimit: another process holds the session file
// locked for three times the stall limit while a line a millisecond passes.
// The stall limit bounds how long any line waits in the pass-through,
// whatever the database does; the lines that could not be logged are
// counted.
func TestTeeLockHeldPastTheStallLimit(t *testing.T) {
	// Mostly waiting for the lock: it runs beside other tests, and its
	// bound has a second to spare for a loaded machine.
	t.Parallel()
	const limit = 5 * time.Second
	// Lines for the lock and a second after it.
	lat, stderr, path := lockedRun(t, []string{"CONVLOG_STALL_LIMIT=" + limit.String()}, 16000, time.Millisecond, 3*limit)
	// The bound, and room for a loaded machine and the race detector.
	worst, at := maxOf(lat)
	if worst > limit+time.Second {
		t.Fatalf("line %d waited %v in the pass-through; the stall limit is %v", at, worst, limit)
	}
	t.Logf("the longest wait: %v (line %d)", worst, at)
	db := testkit.OpenDB(t, path)
	var check string
	var total, dropped, stored int
	testkit.QueryRow(t, db, `PRAGMA integrity_check`, &check)
	testkit.QueryRow(t, db, `SELECT total_messages, lines_dropped, (SELECT count(*) FROM messages) FROM sessions`, &total, &dropped, &stored)
	if check != "ok" || total != stored || total+dropped != len(lat) || dropped == 0 ||
		!strings.Contains(stderr, fmt.Sprintf("%d of %d input lines were not logged", dropped, len(lat))) {
		t.Fatalf("integrity %q, total %d, dropped %d, stored %d; stderr: %s", check, total, dropped, stored, stderr)
	}
}

// TestTeeLockShorterThanTheStallLimit: a lock that ends within the stall
// limit costs nothing: the lines wait for it in memory, and every one is
// logged.
func TestTeeLockShorterThanTheStallLimit(t *testing.T) {
	const lock = 5 * time.Second
	lat, stderr, path := lockedRun(t, nil, 1500, 5*time.Millisecond, lock)
	db := testkit.OpenDB(t, path)
	stored := testkit.StoredLines(t, db)
	var dropped int
	testkit.QueryRow(t, db, `SELECT lines_dropped FROM sessions`, &dropped)
	if len(stored) != len(lat) || dropped != 0 || stderr != "" {
		t.Fatalf("%d of %d lines stored, %d dropped; stderr: %s", len(stored), len(lat), dropped, stderr)
	}
	// A pass-through held up by the lock waits for all of it; one that
	// is not waits for nothing but the machine (which, loaded and under
	// -race, was seen to be up to 1.9 s).
	if worst, at := maxOf(lat); worst > lock/2 {
		t.Fatalf("line %d waited %v in the pass-through for a lock the logger could wait out", at, worst)
	} else {
		t.Logf("the longest wait: %v (line %d)", worst, at)
	}
}
