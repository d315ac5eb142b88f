package live

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// A pipe that nobody reads: the narration stops short of filling it, so
// that the end of the session, the count of dropped lines and convlog's
// own last words still fit, and the end never waits on it.
func TestPipeNobodyReads(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	room, size := pipeRoom(w)
	if room == nil || size <= 0 || room() != size {
		t.Fatalf("an empty pipe of %d bytes: room not known, or not all of it", size)
	}
	wr := newWriter(w, 64)
	line := []byte(strings.Repeat("x", 99) + "\n")
	// One line at a time, each taken by the writer before the next, until
	// it holds one back for want of room; then many more, which find the
	// queue full.
	deadline := time.Now().Add(10 * time.Second)
	for !wr.waiting.Load() {
		wr.put(line)
		for len(wr.q) > 0 && !wr.waiting.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("the writer is stuck with %d bytes of room in the pipe", room())
			}
			time.Sleep(time.Millisecond)
		}
	}
	for range 5000 {
		wr.put(line)
	}
	start := time.Now()
	wr.finish([][]byte{[]byte("■ the end\n"), []byte("  session file s.db\n")})
	if d := time.Since(start); d >= closeWait {
		t.Errorf("the end waited %v for a pipe nobody reads", d)
	}
	left := room()
	if left < 2<<10 {
		t.Errorf("only %d bytes left in the pipe for convlog's own lines", left)
	}
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != size-left {
		t.Errorf("read %d bytes, the pipe said %d", len(out), size-left)
	}
	written := bytes.Count(out, line)
	if written == 0 || written >= 5000 {
		t.Fatalf("%d lines written", written)
	}
	tail := string(out[written*len(line):])
	if !strings.HasPrefix(tail, "■ the end\n  session file s.db\n  ") || !strings.HasSuffix(tail, " progress lines dropped: stderr did not keep up\n") {
		t.Fatalf("the end of the pipe: %q", tail)
	}
}
