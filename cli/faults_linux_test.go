package cli

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// TestStdinIsATerminal: someone types into convlog tee. Lines come out as
// typed, each is logged, and Ctrl-D ends the session normally.
func TestStdinIsATerminal(t *testing.T) {
	pty, tty := openPTY(t)
	dir := t.TempDir()
	cmd := exec.Command(testkit.Bin, "tee", "--quiet", "--dir", dir, "--session-id", "typed")
	cmd.Env = testkit.CleanEnv()
	cmd.Stdin = tty
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever the terminal echoes is read and dropped, so it never fills.
	go io.Copy(io.Discard, pty)
	typed := "{\"type\":\"user\",\"message\":{\"content\":\"hello\"}}\nnot json\n"
	pty.Write([]byte(typed))
	testkit.WaitForMessages(t, filepath.Join(dir, "typed.db"), 2)
	pty.Write([]byte{4}) // Ctrl-D at the start of a line: end of input
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if out.String() != typed {
		t.Fatalf("stdout %q, want %q", out.String(), typed)
	}
	db := testkit.OpenDB(t, filepath.Join(dir, "typed.db"))
	var n, ended int
	testkit.QueryRow(t, db, `SELECT total_messages, ended_at IS NOT NULL FROM sessions`, &n, &ended)
	if n != 2 || ended != 1 {
		t.Fatalf("%d messages, ended %d", n, ended)
	}
}
