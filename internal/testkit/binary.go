package testkit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Bin is the real convlog binary, built by Main for the end-to-end tests of
// a package. Tests run it in real pipes, with Run or directly.
var Bin string

// Main is a package's TestMain for tests that run the binary: it builds
// convlog once (with -race when the tests have it), runs the tests, and
// removes the binary.
func Main(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "convlog-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	Bin = filepath.Join(dir, "convlog")
	args := []string{"build", "-o", Bin}
	if Race {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building convlog for the tests:", err)
		return 1
	}
	return m.Run()
}

// Result is what one run of the binary did.
type Result struct {
	Stdout, Stderr []byte
	Code           int
}

// Run runs the binary in dir with stdin and extra environment variables
// (KEY=VALUE), and waits for it.
func Run(t testing.TB, dir string, stdin []byte, env []string, args ...string) Result {
	t.Helper()
	cmd := exec.Command(Bin, args...)
	cmd.Dir = dir
	cmd.Env = append(CleanEnv(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run convlog %v: %v", args, err)
	}
	return Result{out.Bytes(), errb.Bytes(), code}
}

// CleanEnv is the test process's environment without the variables that
// change convlog's behaviour, so that a developer's own settings do not leak
// into the tests.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "TURSO_DATABASE_URL", "TURSO_AUTH_TOKEN", "CONVLOG_DIR", "CONVLOG_SUMMARY", "CONVLOG_NO_SUMMARY",
			"CONVLOG_ARCHIVE", "GITHUB_STEP_SUMMARY", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "GITHUB_REF", "NO_COLOR",
			"GOGC", "GOMEMLIMIT":
			continue
		}
		env = append(env, kv)
	}
	// A binary built with -race sleeps a second at exit by default.
	return append(env, "GORACE=atexit_sleep_ms=0")
}

// ExitCode is how a command ended: its exit status, minus the signal that
// killed it, or -1000 when it could not be run.
func ExitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return -1000
	}
	return 0
}
