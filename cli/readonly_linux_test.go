package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// otherUser runs convlog as an unprivileged user, so that file permissions
// apply to it: root ignores them. As root it is nobody, with a copy of the
// binary where nobody can reach it; otherwise it is the caller itself.
type otherUser struct {
	bin  string
	base string // a folder the user can reach, for session folders
	cred *syscall.Credential
	uid  int
	gid  int
}

func newOtherUser(t *testing.T) *otherUser {
	t.Helper()
	if os.Geteuid() != 0 {
		return &otherUser{bin: testkit.Bin, base: t.TempDir(), uid: os.Getuid(), gid: os.Getgid()}
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("running as root, and no user nobody to run convlog as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// t.TempDir's folders are private to root.
	base, err := os.MkdirTemp("", "convlog-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "convlog")
	exe, err := os.ReadFile(testkit.Bin)
	if err != nil {
		t.Fatal(err)
	}
	// Chmod too: the mode WriteFile gives is cut by the umask (077, say).
	if err := os.WriteFile(bin, exe, 0o755); err != nil || os.Chmod(bin, 0o755) != nil {
		t.Fatalf("copying convlog for another user: %v", err)
	}
	return &otherUser{bin: bin, base: base, uid: uid, gid: gid,
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

// dir makes a folder of the user's own.
func (u *otherUser) dir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(u.base, name)
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, u.uid, u.gid); err != nil {
		t.Fatal(err)
	}
	return d
}

func (u *otherUser) command(args ...string) *exec.Cmd {
	cmd := exec.Command(u.bin, args...)
	cmd.Env = testkit.CleanEnv()
	cmd.Dir = u.base
	if u.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	}
	return cmd
}

func (u *otherUser) run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := u.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := testkit.ExitCode(cmd.Run())
	return result{out.Bytes(), errb.Bytes(), code}
}

// TestTeeFolderTurnsReadOnly: the session folder becomes read-only (chmod
// 500) while convlog tee writes into it, at three moments: before the file
// switches to large pages, after it, and just before the end, when a small
// session is compacted. The file must stay sound and keep every line logged
// before the change; what could not be logged after it is a gap-free tail,
// counted exactly and reported once.
func TestTeeFolderTurnsReadOnly(t *testing.T) {
	u := newOtherUser(t)
	const lines = 600
	var in bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&in, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, strings.Repeat("r", 1000))
	}
	input := in.Bytes()
	all := testkit.SplitLines(input)
	for _, c := range []struct {
		name   string
		before int // lines logged before the chmod
	}{
		{"before large pages", 100},
		{"after large pages", 400},
		{"before the end", lines},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := u.dir(t, strings.ReplaceAll(c.name, " ", "-"))
			defer os.Chmod(dir, 0o700)
			cmd := u.command("tee", "--dir", dir, "--session-id", "ro")
			stdin, _ := cmd.StdinPipe()
			var out bytes.Buffer
			var stderr testkit.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			cut := 0
			for range c.before {
				cut += bytes.IndexByte(input[cut:], '\n') + 1
			}
			go func() {
				stdin.Write(input[:cut])
			}()
			path := filepath.Join(dir, "ro.db")
			// Polled as root only once the writer has its WAL: a root
			// reader that comes first makes the companion files as root
			// for a moment, and the writer cannot open them.
			waitFor(t, &stderr, "Database created at: ")
			testkit.WaitForMessages(t, path, c.before)
			if err := os.Chmod(dir, 0o500); err != nil {
				t.Fatal(err)
			}
			go func() {
				stdin.Write(input[cut:])
				stdin.Close()
			}()
			code := testkit.ExitCode(cmd.Wait())
			if code != 0 || !bytes.Equal(out.Bytes(), input) {
				t.Fatalf("exit %d, pass-through equal %v, stderr %s", code, bytes.Equal(out.Bytes(), input), stderr.String())
			}
			checkPrefixSession(t, path, all, c.before, stderr.String())

			// Every command reads it, from the read-only folder.
			if res := u.run(t, "list", "--dir", dir, "--json"); res.code != 0 || !bytes.Contains(res.stdout, []byte(`"error": null`)) {
				t.Fatalf("list: exit %d: %s%s", res.code, res.stdout, res.stderr)
			}
			if res := u.run(t, "query", "--dir", dir, "ro", "--json"); res.code != 0 {
				t.Fatalf("query: exit %d: %s", res.code, res.stderr)
			}
		})
	}
}

// waitFor polls until b holds s.
func waitFor(t *testing.T, b *testkit.Buffer, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in: %s", s, b.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// checkPrefixSession checks a session file that may have lost lines to a
// storage failure: it is sound, its messages are the first lines of the
// input without a gap, at least atLeast of them; the rest are counted in the
// session (when it could still take the count) and on stderr, with one
// warning about the failure.
func checkPrefixSession(t *testing.T, path string, lines [][]byte, atLeast int, stderr string) {
	t.Helper()
	db := testkit.OpenDB(t, path)
	var check string
	testkit.QueryRow(t, db, `PRAGMA integrity_check`, &check)
	if check != "ok" {
		t.Fatalf("integrity_check: %s", check)
	}
	stored := testkit.StoredLines(t, db) // sequences 0…n-1: no gap
	for i, l := range stored {
		if !bytes.Equal(l, lines[i]) {
			t.Fatalf("message %d is not input line %d", i, i)
		}
	}
	if len(stored) < atLeast {
		t.Fatalf("%d lines stored, but %d were logged before the failure", len(stored), atLeast)
	}
	var total, dropped int
	testkit.QueryRow(t, db, `SELECT total_messages, lines_dropped FROM sessions`, &total, &dropped)
	lost := len(lines) - len(stored)
	if total != len(stored) || (dropped != 0 && dropped != lost) {
		t.Fatalf("%d stored, total_messages %d, lines_dropped %d, %d lost", len(stored), total, dropped, lost)
	}
	m := regexp.MustCompile(`convlog: warning: (\d+) of (\d+) input lines were not logged`).FindStringSubmatch(stderr)
	if lost == 0 {
		if m != nil {
			t.Fatalf("nothing was lost, yet: %s", stderr)
		}
		return
	}
	if m == nil || m[1] != strconv.Itoa(lost) || m[2] != strconv.Itoa(len(lines)) ||
		strings.Count(stderr, "cannot write to session file") != 1 {
		t.Fatalf("%d of %d lines lost; stderr:\n%s", lost, len(lines), stderr)
	}
}
