package web

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// The end-to-end tests of this package run the real binary, built on first
// use (the unit tests and the fuzzing need none), and one Chromium for all
// of them (browser_test.go).
func TestMain(m *testing.M) {
	code := m.Run()
	closeBrowser()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// convlog builds the binary once, with -race when the tests have it, and
// points testkit.Bin at it.
func convlog(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "convlog-bin-"); binErr != nil {
			return
		}
		bin := filepath.Join(binDir, "convlog")
		args := []string{"build", "-o", bin}
		if testkit.Race {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("building convlog: %v\n%s", err, out)
			return
		}
		testkit.Bin = bin
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return testkit.Bin
}

// run runs the binary as testkit.Run does.
func run(t testing.TB, dir string, stdin []byte, env []string, args ...string) testkit.Result {
	t.Helper()
	convlog(t)
	return testkit.Run(t, dir, stdin, env, args...)
}

// fixtureLines are the lines of a file in testdata.
func fixtureLines(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// teeFixture logs a fixture through convlog tee into dir as session id,
// all at once, and checks that tee passed it through.
func teeFixture(t testing.TB, dir, id, name string, env ...string) {
	t.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, dir, in, env, "tee", "--quiet", "--dir", dir, "--session-id", id)
	if res.Code != 0 || !bytes.Equal(res.Stdout, in) {
		t.Fatalf("tee of %s: exit %d, stderr %s", name, res.Code, res.Stderr)
	}
}

// teePaced logs a fixture through convlog tee line by line, each line read
// back from tee's stdout before the next is written, with the pauses of
// the fixture's own timestamps shrunk a hundredfold: the session then has
// the shape in time of the one it was taken from.
func teePaced(t testing.TB, dir, id, name string) {
	t.Helper()
	cmd := exec.Command(convlog(t), "tee", "--quiet", "--dir", dir, "--session-id", id)
	cmd.Env = testkit.CleanEnv()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	var prev time.Time
	for i, line := range fixtureLines(t, name) {
		if ts := lineTime(line); !ts.IsZero() {
			if !prev.IsZero() && ts.After(prev) {
				time.Sleep(ts.Sub(prev) / 100) // the workload's shape, not a wait for anything
			}
			prev = ts
		}
		io.WriteString(stdin, line+"\n")
		got, err := r.ReadString('\n')
		if err != nil || got != line+"\n" {
			t.Fatalf("line %d came back as %q (%v)", i, got, err)
		}
	}
	stdin.Close()
	io.Copy(io.Discard, r)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tee: %v: %s", err, stderr.Bytes())
	}
}

// liveTee is a running convlog tee fed one line at a time, each read back
// from its stdout before Send returns: by then tee has logged it (it logs
// a line as it passes it on), and commits it within ~100 ms.
type liveTee struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File
	r      *bufio.Reader
	stderr *testkit.Buffer
	Path   string
}

func startLiveTee(t testing.TB, dir, id string) *liveTee {
	t.Helper()
	cmd := exec.Command(convlog(t), "tee", "--quiet", "--dir", dir, "--session-id", id)
	cmd.Env = testkit.CleanEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	lt := &liveTee{t: t, cmd: cmd, stdin: stdin, stdout: pr, r: bufio.NewReader(pr), stderr: &testkit.Buffer{},
		Path: filepath.Join(dir, id+".db")}
	cmd.Stdout, cmd.Stderr = pw, lt.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		pr.Close()
	})
	return lt
}

// Send writes one line and reads it back.
func (lt *liveTee) Send(line string) {
	lt.t.Helper()
	if _, err := io.WriteString(lt.stdin, line+"\n"); err != nil {
		lt.t.Fatal(err)
	}
	lt.stdout.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := lt.r.ReadString('\n')
	if err != nil || got != line+"\n" {
		lt.t.Fatalf("%q came back as %q (%v); stderr: %s", line, got, err, lt.stderr)
	}
}

// Finish ends tee's input and waits for it.
func (lt *liveTee) Finish() {
	lt.t.Helper()
	lt.stdin.Close()
	io.Copy(io.Discard, lt.r)
	if err := lt.cmd.Wait(); err != nil {
		lt.t.Fatalf("tee: %v; stderr: %s", err, lt.stderr)
	}
}

var timestampRe = regexp.MustCompile(`"timestamp":"([^"]+)"`)

func lineTime(line string) time.Time {
	m := timestampRe.FindStringSubmatch(line)
	if m == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, m[1])
	return t
}

// served is a running convlog serve.
type served struct {
	URL    string // http://127.0.0.1:port/
	Cmd    *exec.Cmd
	stderr *testkit.Buffer
}

var servingRe = regexp.MustCompile(`at (http://\S+/) \(read-only`)

// startServe runs convlog serve on a free port of the loopback address and
// waits until it says where it listens.
func startServe(t testing.TB, args ...string) *served {
	t.Helper()
	cmd := exec.Command(convlog(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = testkit.CleanEnv()
	s := &served{Cmd: cmd, stderr: &testkit.Buffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("convlog serve ended with %v; stderr:\n%s", err, s.stderr)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("convlog serve did not stop on SIGINT")
		}
	})
	// A first start over many sessions builds their archive first.
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if m := servingRe.FindStringSubmatch(s.stderr.String()); m != nil {
			s.URL = m[1]
			return s
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling its stderr, with a deadline
	}
	t.Fatalf("convlog serve did not start; stderr:\n%s", s.stderr)
	return nil
}

// get fetches a path of the server.
func (s *served) get(t testing.TB, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// pollDB waits until query on the session file at path gives at least
// want, or fails the test after 20 s.
func pollDB(t testing.TB, path, query string, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got int64
	for time.Now().Before(deadline) {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(2000)")
		if err == nil {
			err = db.QueryRow(query).Scan(&got)
			db.Close()
		}
		if err == nil && got >= want {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling the file, with a deadline
	}
	t.Fatalf("%s: %d, want %d", query, got, want)
}
