package relay

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// killRuns is how many times TestTeeKilledRelayLosesNothing kills a
// pass-through process.
const killRuns = 20

// The pass-through process killed (SIGKILL) at any moment of a stream of
// lines of every size: stdout is still the input, byte for byte, and every
// line is logged. Each run kills at one of three kinds of moment: at a
// random time; once stdout has delivered a random number of bytes; or while
// the process is blocked writing to a stdout that its reader has stopped
// taking, so that the write it is killed in has passed on part of a read.
//
// In some runs tee is stopped (SIGSTOP) meanwhile, so that the process holds
// all it may for the logger and then passes the input on without it (a
// stall limit of 30 ms): it is killed while it skips, and the lines it
// skipped are counted as dropped, exactly.
func TestTeeKilledRelayLosesNothing(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for run := range killRuns {
		moment := []string{"at a random time", "after a random number of bytes", "in a write to stdout"}[run%3]
		stall := run%4 == 3
		t.Run(fmt.Sprintf("%d %s stall=%v", run, moment, stall), func(t *testing.T) {
			killRun(t, rng, run%3, stall)
		})
	}
}

func killRun(t *testing.T, rng *rand.Rand, moment int, stall bool) {
	env := []string{"CONVLOG_HANDOVER=0s"}
	if stall {
		env = append(env, "CONVLOG_STALL_LIMIT=30ms")
	}
	rt := testkit.StartTee(t, env)
	relay := handOver(rt)
	size, skipFrom := 3<<20, 0
	if stall {
		// More than tee's end of the relay pipe and the process's ring hold.
		size, skipFrom = 8<<20, 6<<20
		if err := syscall.Kill(rt.Cmd.Process.Pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	input := mixedLines(rng, len(rt.Sent), size)

	// stdout, read as it comes; the reader can be paused. For a kill in a
	// write to stdout, it pauses itself as soon as it has read pauseAt
	// bytes: paused later, by another goroutine, it could have read all
	// the process had, which then waits for input, not in a write.
	var (
		mu      sync.Mutex
		paused  bool
		pauseAt = -1
		cond    = sync.NewCond(&mu)
		got     []byte
	)
	if moment == 2 {
		pauseAt = max(skipFrom, 1)
	}
	readDone := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			mu.Lock()
			for paused {
				cond.Wait()
			}
			mu.Unlock()
			n, err := rt.Stdout.Read(buf)
			mu.Lock()
			got = append(got, buf[:n]...)
			if pauseAt >= 0 && len(got) >= pauseAt {
				paused, pauseAt = true, -1
			}
			cond.Broadcast()
			mu.Unlock()
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				readDone <- err
				return
			}
		}
	}()
	// The input is written in pieces of every size, as an agent writes
	// them, but for its last 64 KB, which wait for the kill: the process
	// dies before the end of its input.
	killed := make(chan struct{})
	writeDone := make(chan error, 1)
	go func() {
		var err error
		write := func(b []byte) {
			for i, p := 0, 1; i < len(b) && err == nil; i, p = i+p, p*7%65521+1 {
				_, err = rt.Stdin.Write(b[i:min(len(b), i+p)])
			}
		}
		held := len(input) - 64<<10
		write(input[:held])
		<-killed
		write(input[held:])
		rt.Stdin.Close()
		writeDone <- err
	}()

	exited := waitForExit(t, relay)
	if skipFrom > 0 {
		// The process is skipping once stdout has got this far.
		mu.Lock()
		for len(got) < skipFrom {
			cond.Wait()
		}
		mu.Unlock()
	}
	switch moment {
	case 0:
		time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
	case 1:
		want := skipFrom + rng.IntN(len(input)-64<<10-skipFrom)
		mu.Lock()
		for len(got) < want {
			cond.Wait()
		}
		mu.Unlock()
	case 2:
		mu.Lock()
		for !paused {
			cond.Wait()
		}
		mu.Unlock()
		deadline := time.Now().Add(20 * time.Second)
		for !inSyscall(relay, syscall.SYS_WRITE, 1) {
			if time.Now().After(deadline) {
				t.Fatal("the pass-through process never blocked writing to stdout")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := syscall.Kill(relay, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(killed)
	if !exited() {
		t.Fatalf("the pass-through process %d did not die", relay)
	}
	if stall {
		syscall.Kill(rt.Cmd.Process.Pid, syscall.SIGCONT)
	}
	mu.Lock()
	paused = false
	cond.Broadcast()
	mu.Unlock()
	if err := <-writeDone; err != nil {
		t.Fatalf("writing stdin: %v", err)
	}
	if err := <-readDone; err != nil {
		t.Fatalf("reading stdout: %v", err)
	}
	code := testkit.ExitCode(rt.Cmd.Wait())
	if !bytes.Equal(got, input) {
		at := 0
		for at < min(len(got), len(input)) && got[at] == input[at] {
			at++
		}
		t.Fatalf("stdout has %d bytes, input %d; they differ from byte %d on; stderr: %s", len(got), len(input), at, rt.Stderr)
	}
	stderr := rt.Stderr.String()
	if code != 0 || !strings.Contains(stderr, "convlog: warning: the pass-through process ended unexpectedly; convlog passed the rest of the input through itself, from the byte that process had reached: nothing was lost.") {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}

	// Every line is logged, in order, or counted as dropped.
	lines := rt.Sent
	for _, l := range testkit.SplitLines(input) {
		lines = append(lines, l)
	}
	db := testkit.OpenDB(t, rt.Path)
	var dropped int
	testkit.QueryRow(t, db, `SELECT lines_dropped FROM sessions`, &dropped)
	stored := storedInOrder(t, db)
	if !stall {
		if dropped != 0 || len(stored) != len(lines) {
			t.Fatalf("%d of %d lines stored, %d dropped; stderr: %s", len(stored), len(lines), dropped, stderr)
		}
		for i := range lines {
			if !bytes.Equal(stored[i], lines[i]) {
				t.Fatalf("line %d stored as %.80q, sent %.80q", i, stored[i], lines[i])
			}
		}
		return
	}
	if dropped == 0 || len(stored)+dropped != len(lines) {
		t.Fatalf("%d stored + %d dropped lines, want %d; stderr: %s", len(stored), dropped, len(lines), stderr)
	}
	{
		m := regexp.MustCompile(`(\d+) of (\d+) input lines were not logged`).FindStringSubmatch(stderr)
		if m == nil || m[1] != strconv.Itoa(dropped) || m[2] != strconv.Itoa(len(lines)) {
			t.Fatalf("%d of %d lines dropped; stderr: %s", dropped, len(lines), stderr)
		}
	}
	// What was stored is input lines, in their order.
	i := 0
	for _, s := range stored {
		for i < len(lines) && !bytes.Equal(lines[i], s) {
			i++
		}
		if i == len(lines) {
			t.Fatalf("stored %.80q, not an input line in order", s)
		}
		i++
	}
}

// mixedLines is about size bytes of stream-json lines: most of them short,
// some of 100 KB and a few of a megabyte or two, numbered from first on.
// The last one has no newline.
func mixedLines(rng *rand.Rand, first, size int) []byte {
	var b bytes.Buffer
	for i := first; b.Len() < size; i++ {
		n := rng.IntN(3000)
		switch r := rng.IntN(100); {
		case r < 2:
			n = 1<<20 + rng.IntN(1<<20)
		case r < 10:
			n = 100 << 10
		}
		fmt.Fprintf(&b, `{"type":"user","i":%d,"pad":"%s"}`+"\n", i, strings.Repeat(string(rune('a'+i%26)), n))
	}
	b.WriteString(`{"type":"result"}`)
	return b.Bytes()
}

// storedInOrder is the raw messages of a session, in sequence order.
func storedInOrder(t *testing.T, db *sql.DB) [][]byte {
	t.Helper()
	rows, err := db.Query(`SELECT raw_message FROM messages ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var raws [][]byte
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return raws
}

// inSyscall reports whether a thread of pid is in syscall nr on fd.
func inSyscall(pid int, nr, fd int) bool {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/syscall", pid, task.Name()))
		f := strings.Fields(string(b))
		if len(f) > 1 && f[0] == strconv.Itoa(nr) && f[1] == fmt.Sprintf("0x%x", fd) {
			return true
		}
	}
	return false
}
