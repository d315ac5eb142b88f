package cli

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// serveProcess is a running convlog serve, and what it said at the start.
type serveProcess struct {
	cmd        *exec.Cmd
	url, token string
	stderr     *bytes.Buffer // read only once done is closed
	done       chan struct{} // stderr reached its end
}

var (
	servingLine = regexp.MustCompile(`^Serving the sessions of \S+ at (http://\S+/) \(read-only; Ctrl-C to stop\)\n`)
	tokenLine   = regexp.MustCompile(`(?m)^Every request needs the token; open http://\S+/\?token=(\S+) \(shown only now\)\n`)
)

// startServing runs convlog serve in dir and reads its first lines.
func startServing(t *testing.T, dir string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(testkit.Bin, append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = testkit.CleanEnv()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	sp := &serveProcess{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	r := bufio.NewReader(pipe)
	line, err := r.ReadString('\n')
	sp.stderr.WriteString(line)
	if strings.HasPrefix(line, "Reading the sessions of ") {
		line, err = r.ReadString('\n')
		sp.stderr.WriteString(line)
	}
	m := servingLine.FindStringSubmatch(line)
	if err != nil || m == nil {
		cmd.Process.Kill()
		rest, _ := io.ReadAll(r)
		t.Fatalf("convlog serve said %q%s (%v)", sp.stderr, rest, err)
	}
	sp.url = m[1]
	if !strings.HasPrefix(strings.TrimPrefix(sp.url, "http://"), "127.0.0.1:") {
		line, _ = r.ReadString('\n')
		sp.stderr.WriteString(line)
		if m := tokenLine.FindStringSubmatch(line); m != nil {
			sp.token = m[1]
		}
	}
	go func() {
		io.Copy(sp.stderr, r)
		close(sp.done)
	}()
	return sp
}

// stop ends it with SIGINT, as Ctrl-C does, and returns its exit status
// once it has said all it had to say.
func (sp *serveProcess) stop(t *testing.T) int {
	t.Helper()
	sp.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-sp.done:
	case <-time.After(10 * time.Second):
		t.Fatal("convlog serve did not stop on SIGINT")
	}
	return testkit.ExitCode(sp.cmd.Wait())
}

func get(t *testing.T, url, host string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	teeQueryFixture(t, dir, "first")
	sp := startServing(t, dir, "--addr", "127.0.0.1:0")
	for path, code := range map[string]int{"": 200, "stats": 200, "s/first": 200, "s/nope": 404, "s/..%2Fx": 404, "nothing": 404} {
		resp := get(t, sp.url+path, "")
		if resp.StatusCode != code || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("/%s: %d, want %d; policy %q", path, resp.StatusCode, code, resp.Header.Get("Content-Security-Policy"))
		}
	}
	if resp := get(t, sp.url, "attacker.example"); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("another host: %d", resp.StatusCode)
	}
	if code := sp.stop(t); code != 0 {
		t.Errorf("exit %d after SIGINT; stderr %s", code, sp.stderr)
	}
	// It read only: the folder holds the sessions and the archive.
	entries, _ := os.ReadDir(filepath.Join(dir, ".turso", "sessions"))
	if len(entries) != 1 || entries[0].Name() != "first.db" {
		t.Errorf("the session folder holds %v", entries)
	}
}

// Off loopback, a token is made, printed once, and asked of every request.
func TestServeToken(t *testing.T) {
	dir := t.TempDir()
	teeQueryFixture(t, dir, "first")
	sp := startServing(t, dir, "--addr", "0.0.0.0:0")
	if len(sp.token) < 20 {
		t.Fatalf("token %q; stderr %s", sp.token, sp.stderr)
	}
	port := sp.url[strings.LastIndex(sp.url, ":")+1 : len(sp.url)-1]
	base := "http://127.0.0.1:" + port + "/"
	if resp := get(t, base, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %d", resp.StatusCode)
	}
	if resp := get(t, base+"?token="+sp.token, ""); resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Errorf("with the token: %d %v", resp.StatusCode, resp.Cookies())
	}
	sp.stop(t)
	if strings.Count(sp.stderr.String(), sp.token) != 1 {
		t.Errorf("the token is printed %d times", strings.Count(sp.stderr.String(), sp.token))
	}

	// A token of one's own.
	sp = startServing(t, dir, "--addr", "0.0.0.0:0", "--token", "mine-and-long-enough")
	if sp.token != "mine-and-long-enough" {
		t.Errorf("token %q", sp.token)
	}
}

// Each failure to start is one line and exit 1.
func TestServeErrors(t *testing.T) {
	dir := t.TempDir()
	teeQueryFixture(t, dir, "first")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	os.WriteFile(filepath.Join(dir, "junk.db"), []byte("this is not a database, not at all, not even close to one"), 0o600)
	os.Mkdir(filepath.Join(dir, "adir"), 0o700)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--addr", busy.Addr().String()}, 1, "convlog: cannot listen on " + busy.Addr().String() + ": the port is in use; choose another with --addr\n"},
		{[]string{"--dir", "missing"}, 1, "convlog: no session folder missing: it does not exist (convlog tee makes it; --dir or CONVLOG_DIR names another)\n"},
		{[]string{"--archive", "junk.db"}, 1, "convlog: "},
		{[]string{"--archive", "adir"}, 1, "convlog: "},
		{[]string{"--url", "file:" + filepath.Join(dir, "nothing.db")}, 1, "convlog: "},
		{[]string{"--url", "http://127.0.0.1:1"}, 1, "convlog: "},
		{[]string{"--addr", "nonsense"}, 2, "convlog: --addr \"nonsense\""},
	} {
		res := runConvlog(t, dir, nil, []string{"TURSO_AUTH_TOKEN=t"}, append([]string{"serve"}, c.args...)...)
		lines := strings.Count(string(res.stderr), "\n")
		if res.code != c.code || !strings.HasPrefix(string(res.stderr), c.want) || lines != 1 {
			t.Errorf("serve %q: exit %d, stderr %q; want %d, one line starting %q", c.args, res.code, res.stderr, c.code, c.want)
		}
	}
}
