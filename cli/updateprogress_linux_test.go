package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// binaryOnTerminal runs the binary with its stderr on a pseudo-terminal
// and its stdout on a pipe, and returns what each received.
func binaryOnTerminal(t *testing.T, env []string, args ...string) (stdout, terminal string, code int) {
	t.Helper()
	ptmx, tty := openPTY(t)
	cmd := exec.Command(testkit.Bin, args...)
	cmd.Env = append(testkit.CleanEnv(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child's copy is the last: its exit ends the reading
	var term bytes.Buffer
	// Linux reports the closed terminal side as EIO: the end of output.
	if _, err := io.Copy(&term, ptmx); err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	code = testkit.ExitCode(cmd.Wait())
	return out.String(), term.String(), code
}

// The first update of an archive (every session file read, every row
// indexed) is followed on a terminal, and the line is gone when the answer
// comes; elsewhere, and for an update with nothing to do, nothing is drawn.
func TestUpdateProgressOnATerminal(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sessions")
	for i := range 6 {
		testkit.BigSession(t, dir, fmt.Sprintf("s%d", i), 30, 200)
	}
	now := []string{"CONVLOG_PROGRESS_DELAY=0"}
	cleared := regexp.MustCompile(`\r +\r$`)
	for _, args := range [][]string{
		{"search", "--dir", dir, "--archive", filepath.Join(t.TempDir(), "a.db"), "lorem"},
		{"sql", "--dir", dir, "--archive", filepath.Join(t.TempDir(), "a.db"), "SELECT count(*) FROM messages"},
	} {
		stdout, term, code := binaryOnTerminal(t, now, args...)
		if code != 0 || stdout == "" {
			t.Fatalf("%s: exit %d, stdout %q; terminal %q", args[0], code, stdout, term)
		}
		if strings.Contains(stdout, "\r") || strings.Contains(stdout, "convlog:") {
			t.Errorf("%s: progress on stdout: %q", args[0], stdout)
		}
		for _, want := range []string{"\rconvlog: reading session files into the archive: 6/6", "\rconvlog: indexing for search: "} {
			if !strings.Contains(term, want) {
				t.Errorf("%s: the terminal never showed %q: %q", args[0], want, term)
			}
		}
		if m := regexp.MustCompile(`indexing for search: (\d+)/(\d+) rows \(100%\)`).FindStringSubmatch(term); m == nil || m[1] != m[2] {
			t.Errorf("%s: the indexing never reached its end: %q", args[0], term)
		}
		if !cleared.MatchString(term) {
			t.Errorf("%s: the progress line was left on the terminal: %q", args[0], term)
		}
		// Up to date: nothing to follow.
		if _, term, code := binaryOnTerminal(t, now, args...); code != 0 || term != "" {
			t.Errorf("%s again: exit %d, terminal %q", args[0], code, term)
		}
	}
	// Not a terminal: nothing, however long the update.
	r := testkit.Run(t, "", nil, now, "search", "--dir", dir, "--archive", filepath.Join(t.TempDir(), "a.db"), "lorem")
	if r.Code != 0 || len(r.Stderr) > 0 {
		t.Errorf("stderr not a terminal: exit %d, stderr %q", r.Code, r.Stderr)
	}
	// A delay that is not a number of seconds is said, and the default
	// one kept.
	_, term, code := binaryOnTerminal(t, []string{"CONVLOG_PROGRESS_DELAY=soon"}, "search", "--dir", dir, "--archive", filepath.Join(t.TempDir(), "a.db"), "lorem")
	if code != 0 || !strings.Contains(term, `convlog: warning: CONVLOG_PROGRESS_DELAY="soon" is not a number of seconds`) {
		t.Errorf("exit %d, terminal %q", code, term)
	}
}
