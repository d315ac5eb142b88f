package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/convlog/convlog/internal/testkit"
)

// openPTY opens a pseudo-terminal pair: output written to the returned
// terminal is what a user at a real terminal would see, read from pty.
func openPTY(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlock pty: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("pty number: %v", e)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open tty: %v", err)
	}
	t.Cleanup(func() { pty.Close(); tty.Close() })
	return pty, tty
}

// onTerminal runs the CLI in this process with its stdout on a terminal and
// returns what the terminal showed.
func onTerminal(t *testing.T, getenv map[string]string, args ...string) string {
	t.Helper()
	pty, tty := openPTY(t)
	shown := make(chan []byte)
	go func() {
		var b bytes.Buffer
		_, err := io.Copy(&b, pty)
		// Linux reports the closed terminal side as EIO: the end of output.
		if err != nil && !errors.Is(err, syscall.EIO) {
			b.WriteString("read error: " + err.Error())
		}
		shown <- b.Bytes()
	}()
	var stderr bytes.Buffer
	env := &Env{Ctx: t.Context(), Schema: testkit.Schema(t), Stdin: strings.NewReader(""), Stdout: tty, Stderr: &stderr,
		Getenv: func(k string) string { return getenv[k] }}
	if code := Run(args, env); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	tty.Close()
	return string(<-shown)
}

func TestColourOnlyOnTerminals(t *testing.T) {
	dir := goldenDir(t)
	const header = "\x1b[1m=== Session Summary ===\x1b[0m"
	if out := onTerminal(t, nil, "query", goldenIncomplete, "--dir", dir); !strings.Contains(out, header) ||
		!strings.Contains(out, "\x1b[33m(incomplete: still running") {
		t.Errorf("no colour on a terminal:\n%q", out)
	}
	if out := onTerminal(t, nil, "list", "--dir", dir); !strings.Contains(out, "\x1b[33mincomplete") {
		t.Errorf("list: no colour on a terminal:\n%q", out)
	}
	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{map[string]string{"NO_COLOR": "1"}, []string{"query", goldenFull, "--messages", "--tools"}},
		{map[string]string{"NO_COLOR": "1"}, []string{"list"}},
		{map[string]string{"TERM": "dumb"}, []string{"query", goldenIncomplete}},
		{nil, []string{"query", goldenFull, "--json", "--messages", "--tools"}},
		{nil, []string{"list", "--json"}},
	} {
		out := onTerminal(t, c.env, append(c.args, "--dir", dir)...)
		// The escapes that are part of the stored data are printed as text
		// (\x1b), never as the byte itself.
		if strings.Contains(out, "\x1b") {
			t.Errorf("%v %v: colour:\n%q", c.env, c.args, out)
		}
		if len(out) < 100 {
			t.Errorf("%v %v: little output: %q", c.env, c.args, out)
		}
	}
}
