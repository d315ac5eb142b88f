package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// teeOnSmallDisk runs convlog tee with its session folder on a tmpfs of
// size bytes, mounted for the run in a mount namespace of its own (so that
// no mount outlives the test, and, in a user namespace, that it needs no
// root), and copies the session file out when tee is done. write feeds
// tee's stdin.
func teeOnSmallDisk(t *testing.T, size int, input []byte, write func(io.Writer)) (path string, stderr string) {
	t.Helper()
	work := t.TempDir()
	out := filepath.Join(work, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	script := `set -e
mkdir "$2/disk"
mount -t tmpfs -o size=$4 tmpfs "$2/disk"
set +e
"$1" tee --quiet --dir "$2/disk/s" --session-id full
code=$?
cp "$2/disk/s/"full.db* "$3/"
exit $code`
	// Root needs no user namespace (and may be where they are not allowed).
	ns := []string{"--mount", "--map-root-user"}
	if os.Geteuid() == 0 {
		ns = ns[:1]
	}
	cmd := exec.Command("unshare", append(ns, "sh", "-c", script, "sh", testkit.Bin, work, out, fmt.Sprint(size))...)
	cmd.Env = append(testkit.CleanEnv(), "CONVLOG_HANDOVER=never")
	stdin, _ := cmd.StdinPipe()
	var stdout, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		write(stdin)
		stdin.Close()
	}()
	if code := testkit.ExitCode(cmd.Wait()); code != 0 || !bytes.Equal(stdout.Bytes(), input) {
		t.Fatalf("exit %d, pass-through equal %v; stderr: %s", code, bytes.Equal(stdout.Bytes(), input), errb.String())
	}
	return filepath.Join(out, "full.db"), errb.String()
}

// TestTeeDiskFull: the session folder is on a 2 MB disk, and the stream is
// larger. What is stored is the stream's first lines without a gap, as many
// as fit, whether they come in one burst or one at a time; the lines that
// could not be stored are counted exactly, and reported once.
func TestTeeDiskFull(t *testing.T) {
	const disk = 2 << 20
	var in bytes.Buffer
	for i := range 5700 { // 5.7 MB
		fmt.Fprintf(&in, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, strings.Repeat("d", 980))
	}
	input := in.Bytes()
	lines := testkit.SplitLines(input)
	for _, c := range []struct {
		name  string
		write func(io.Writer)
	}{
		{"one burst", func(w io.Writer) { w.Write(input) }},
		{"a line a millisecond", func(w io.Writer) {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			off := 0
			for _, l := range lines[:2500] {
				<-tick.C
				w.Write(input[off : off+len(l)+1])
				off += len(l) + 1
			}
			w.Write(input[off:])
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, stderr := teeOnSmallDisk(t, disk, input, c.write)
			checkPrefixSession(t, path, lines, 1, stderr)
			db := testkit.OpenDB(t, path)
			var stored int
			testkit.QueryRow(t, db, `SELECT coalesce(sum(length(raw_message)), 0) FROM messages`, &stored)
			// The lines take about half the disk: each is stored with its
			// index entries and the session's usage rows, and the WAL holds
			// a copy of what it has not yet handed to the file: 0.99-1.16
			// MB were stored here, 0.7 under -race and load. Less than a fifth
			// would be batches too large for what is left: when the sinks
			// between the logger and the writer hid the room left, a burst
			// stored 0.07-1.05 MB, depending on when time cut its batches,
			// and sometimes nothing (with 16 MiB batches, always nothing).
			if stored < disk/5 {
				t.Fatalf("%d bytes of lines stored on a disk of %d", stored, disk)
			}
			t.Logf("%d bytes of lines stored on a disk of %d", stored, disk)
		})
	}
}
