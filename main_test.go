package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// convlogBin is the real binary, built once for all end-to-end tests of this
// package. Tests run it in real pipes; use runConvlog or exec it directly.
var convlogBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "convlog-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	convlogBin = filepath.Join(dir, "convlog")
	args := []string{"build", "-o", convlogBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building convlog for the tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr []byte
	code           int
}

// runConvlog runs the binary in dir with stdin and extra environment
// variables (KEY=VALUE), and waits for it.
func runConvlog(t testing.TB, dir string, stdin []byte, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(convlogBin, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
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
	return result{out.Bytes(), errb.Bytes(), code}
}

// cleanEnv is the test process's environment without the variables that
// change convlog's behaviour, so that a developer's own settings do not leak
// into the tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "TURSO_DATABASE_URL", "TURSO_AUTH_TOKEN", "CONVLOG_DIR", "CONVLOG_SUMMARY", "CONVLOG_NO_SUMMARY",
			"GITHUB_STEP_SUMMARY", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "GITHUB_REF", "NO_COLOR",
			"GOGC", "GOMEMLIMIT":
			continue
		}
		env = append(env, kv)
	}
	// A binary built with -race sleeps a second at exit by default.
	return append(env, "GORACE=atexit_sleep_ms=0")
}
