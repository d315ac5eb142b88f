package cli

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// TestTeeHugeLineFirst: a session that begins with a tool result of 100 MB,
// or of 200 MB, before the file has switched to large pages. It is stored
// whole, and the peak RSS of convlog tee stays within 3 times the line and
// 64 MiB. Rewriting the file with large pages after such a line held a copy
// of it in memory: 445 MiB for 100 MB. With the race detector, whose shadow
// memory doubles the RSS and which took a minute over it, a 24 MB line is
// stored instead.
func TestTeeHugeLineFirst(t *testing.T) {
	sizes := []int{100_000_000, 200_000_000}
	if testkit.Race {
		sizes = []int{24_000_000}
	}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dMB", size/1_000_000), func(t *testing.T) { hugeLineFirst(t, size) })
	}
}

func hugeLineFirst(t *testing.T, size int) {
	// The input is a file, written a piece at a time, so that this process
	// stays small: a child's peak RSS, as the kernel counts it, starts from
	// the high-water mark of the process that started it (Go starts a child
	// in its parent's memory), which held the whole input, and more, before.
	dir := t.TempDir()
	input, err := os.Create(filepath.Join(dir, "input.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer input.Close()
	sum := sha256.New()
	w := io.MultiWriter(input, sum)
	head := `{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"`
	tail := `"}]}}`
	io.WriteString(w, `{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","id":"t1","name":"Read","input":{}}]}}`+"\n"+head)
	piece := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	for left := size; left > 0; left -= len(piece) {
		w.Write(piece[:min(left, len(piece))])
	}
	io.WriteString(w, tail+"\nafter\n")
	if _, err := input.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	line := len(head) + size + len(tail)
	debug.FreeOSMemory()
	// Linux: "5" sets this process's high-water mark to its RSS now.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("resetting this process's peak RSS: %v", err)
	}

	cmd := exec.Command(testkit.Bin, "tee", "--quiet", "--dir", dir, "--session-id", "huge")
	// One process, so that its peak RSS is all of it.
	cmd.Env = append(testkit.CleanEnv(), "CONVLOG_HANDOVER=never")
	cmd.Stdin = input
	out := sha256.New()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if !bytes.Equal(out.Sum(nil), sum.Sum(nil)) || stderr.Len() != 0 {
		t.Fatalf("pass-through differs from the input; stderr: %s", stderr.String())
	}
	db := testkit.OpenDB(t, filepath.Join(dir, "huge.db"))
	var n, stored, output int
	testkit.QueryRow(t, db, `SELECT count(*), max(length(raw_message)), (SELECT length(tool_output) FROM tool_calls) FROM messages`, &n, &stored, &output)
	if n != 3 || stored != line || output != size {
		t.Fatalf("%d messages, longest %d of %d, tool output %d of %d", n, stored, line, output, size)
	}
	peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
	limit := int64(3*line + 64<<20)
	t.Logf("peak RSS %d MiB for a line of %d MiB (limit %d MiB)", peak>>20, line>>20, limit>>20)
	if !testkit.Race && peak > limit {
		t.Fatalf("peak RSS %s, over 3x the line + 64 MiB (%s)", mib(peak), mib(limit))
	}
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
