//go:build linux

package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// helperMiB is what each helper process holds, touched.
const helperMiB = 24

// TestMain lets this test binary serve as a helper process: with
// GEN_PEAK_HELPER=N it holds helperMiB, starts N-1 more of itself, says
// "ready" on stderr once they have too, and ends when stdin does.
func TestMain(m *testing.M) {
	if n, err := strconv.Atoi(os.Getenv("GEN_PEAK_HELPER")); err == nil {
		peakHelper(n)
		return
	}
	os.Exit(m.Run())
}

func peakHelper(n int) {
	held := make([]byte, helperMiB<<20)
	for i := range held {
		held[i] = byte(i)
	}
	if n > 1 {
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), "GEN_PEAK_HELPER="+strconv.Itoa(n-1))
		child.Stdin = os.Stdin
		stderr, _ := child.StderrPipe()
		child.Start()
		line, _ := bufio.NewReader(stderr).ReadString('\n')
		os.Stderr.WriteString(line)
		io.Copy(io.Discard, os.Stdin)
		child.Wait()
	} else {
		os.Stderr.WriteString("ready\n")
		io.Copy(io.Discard, os.Stdin)
	}
	os.Stdout.Write(held[:1])
}

// startHelpers starts a chain of n helpers and waits until all hold their
// memory; closing the returned stdin ends them.
func startHelpers(t *testing.T, n int, args ...string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GEN_PEAK_HELPER="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	if line, _ := bufio.NewReader(stderr).ReadString('\n'); line != "ready\n" {
		t.Fatalf("helpers said %q", line)
	}
	return cmd, stdin
}

// A tree of three processes: every one is found, and their private memory
// is added up.
func TestPeakReadsTheTree(t *testing.T) {
	cmd, _ := startHelpers(t, 3, os.Args[0])
	hwm := map[int]int64{}
	var m treeMem
	m.read(cmd.Process.Pid, hwm)
	if len(hwm) != 3 {
		t.Fatalf("found %d processes, want 3", len(hwm))
	}
	for pid, kib := range hwm {
		if kib < helperMiB<<10 {
			t.Fatalf("process %d peaked at %d KiB, below the %d MiB it holds", pid, kib, helperMiB)
		}
	}
	if m.private < 3*helperMiB<<10 || m.maxFile <= 0 {
		t.Fatalf("private %d KiB, file %d KiB: want at least %d MiB private", m.private, m.maxFile, 3*helperMiB)
	}
}

// gen peak itself: it passes the exit status on and writes the two
// figures, together <= upper, and together never below the largest
// process's own peak (the kernel's figure, whatever the readings missed).
func TestPeakCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rss")
	code, err := runPeak([]string{"-o", out, "sh", "-c", "exit 3"})
	if err != nil || code != 3 {
		t.Fatalf("exit %d (%v), want 3", code, err)
	}
	// Two helpers that end as soon as they hold their memory: there may
	// be no reading at all while they do.
	code, err = runPeak([]string{"-o", out, "sh", "-c", "GEN_PEAK_HELPER=2 exec " + os.Args[0] + " </dev/null 2>/dev/null >/dev/null"})
	if err != nil || code != 0 {
		t.Fatalf("exit %d (%v)", code, err)
	}
	b, _ := os.ReadFile(out)
	f := strings.Fields(string(b))
	if len(f) != 2 {
		t.Fatalf("wrote %q, want two figures", b)
	}
	together, _ := strconv.ParseInt(f[0], 10, 64)
	upper, _ := strconv.ParseInt(f[1], 10, 64)
	if together < helperMiB<<10 || together > upper {
		t.Fatalf("together %d KiB, upper %d KiB: want %d MiB <= together <= upper", together, upper, helperMiB)
	}
}
