package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// teeOnSmallDisk runs convlog tee with its session folder on a tmpfs of
// size bytes, mounted for the run in a mount namespace of its own (so that
// no mount outlives the test, and, in a user namespace, that it needs no
// root), and copies the session file out when tee is done. write feeds
// tee's stdin while the disk is mounted.
func teeOnSmallDisk(t *testing.T, size int, input []byte, write func(w io.Writer, d *smallDisk)) (path string, stderr string) {
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
	d := &smallDisk{
		Path:    filepath.Join(work, "disk"),
		Reach:   fmt.Sprintf("/proc/%d/root%s", cmd.Process.Pid, filepath.Join(work, "disk")),
		Nsenter: []string{"--target", fmt.Sprint(cmd.Process.Pid), "--mount"},
	}
	if len(ns) > 1 {
		d.Nsenter = append(d.Nsenter, "--user", "--preserve-credentials")
	}
	go func() {
		defer stdin.Close()
		write(stdin, d)
	}()
	if code := testkit.ExitCode(cmd.Wait()); code != 0 || !bytes.Equal(stdout.Bytes(), input) {
		t.Fatalf("exit %d, pass-through equal %v; stderr: %s", code, bytes.Equal(stdout.Bytes(), input), errb.String())
	}
	return filepath.Join(out, "full.db"), errb.String()
}

// smallDisk is the tmpfs of teeOnSmallDisk, in a mount namespace of its
// own.
type smallDisk struct {
	Path    string   // where it is mounted, in the namespace
	Reach   string   // the same, through the namespace's root in /proc, for files
	Nsenter []string // nsenter's flags that run a command in the namespace
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
		write func(io.Writer, *smallDisk)
	}{
		{"one burst", func(w io.Writer, _ *smallDisk) { w.Write(input) }},
		{"a line a millisecond", func(w io.Writer, _ *smallDisk) {
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

// TestTeeDiskFillsLater: the disk has room for the large pages when the
// stream starts, and then another program fills it to its last 2 MiB. The
// writer must see the room go, commit after commit: on a nearly full disk
// it starts the WAL afresh often, so that the WAL's copies of rewritten
// pages leave room for lines. With the room measured once, when the file
// switched to large pages, 0.52 MB of the burst that followed were stored;
// measured at each commit, 1.05 MB.
func TestTeeDiskFillsLater(t *testing.T) {
	const disk, left = 80 << 20, 2 << 20
	var in bytes.Buffer
	for i := range 6700 { // 1 MB first, then a 5.7 MB burst
		fmt.Fprintf(&in, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, strings.Repeat("d", 980))
	}
	input := in.Bytes()
	lines := testkit.SplitLines(input)
	first := len(bytes.Join(lines[:1000], []byte("\n"))) + 1
	path, stderr := teeOnSmallDisk(t, disk, input, func(w io.Writer, d *smallDisk) {
		w.Write(input[:first])
		// The switch to large pages (at 256 KiB) is when the writer
		// measured the room: it is awaited in the file's header, read as
		// bytes (a reader of the database could keep the switch from
		// happening). Then the disk is filled once the first lines are all
		// stored, so that no batch sized for the room before is under way.
		// SQLite resolves /proc/PID/root to / and so cannot open the file
		// from here: the stored lines are counted by convlog query in the
		// mount namespace.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if h, err := os.ReadFile(filepath.Join(d.Reach, "s", "full.db")); err == nil && len(h) > 17 && h[16] == 0 && h[17] == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Error("the session file never switched to pages of 64 KiB")
				return
			}
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			out, _ := exec.Command("nsenter", append(d.Nsenter, testkit.Bin, "query", "full", "--json", "--dir", filepath.Join(d.Path, "s"))...).Output()
			var q struct {
				Session struct {
					Messages int `json:"total_messages"`
				}
			}
			if json.Unmarshal(out, &q) == nil && q.Session.Messages >= 1000 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("the first 1000 lines were never stored: %s", out)
				return
			}
		}
		var fs syscall.Statfs_t
		if err := syscall.Statfs(d.Reach, &fs); err != nil {
			t.Error(err)
			return
		}
		f, err := os.Create(filepath.Join(d.Reach, "filler"))
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(fs.Bavail)*fs.Bsize-left); err != nil {
			t.Error(err)
			return
		}
		w.Write(input[first:])
	})
	checkPrefixSession(t, path, lines, 1000, stderr)
	db := testkit.OpenDB(t, path)
	var pageSize, stored int
	testkit.QueryRow(t, db, `SELECT (SELECT page_size FROM pragma_page_size()), coalesce(sum(length(raw_message)), 0) FROM messages`, &pageSize, &stored)
	stored -= first
	t.Logf("%d bytes of the burst stored in the last %d of the disk", stored, left)
	if pageSize != 65536 {
		t.Errorf("pages of %d bytes, not 64 KiB", pageSize)
	}
	// Without the race detector the figures are steady: 1.05 MB, and
	// 0.52 MB with the room measured once. With it (and tee's binary built
	// with it) they spread with the machine's load, 0.54-0.92 MB against
	// 0.52-0.78: there the test asks only that the burst was stored at all,
	// and the run without it, which CI makes too, tells the two apart.
	floor := left * 3 / 10
	if testkit.Race {
		floor = left / 10
	}
	if stored < floor {
		t.Fatalf("%d bytes of the burst stored in the last %d of the disk, want at least %d", stored, left, floor)
	}
}
