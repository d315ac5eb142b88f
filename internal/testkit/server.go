package testkit

// The libSQL server for tests is the Turso CLI's
// `--sync-server`, which speaks the Hrana v2 HTTP protocol that
// libsql-client-go uses, on a free loopback port, stopped when the test ends.
//
// The server is installed by scripts/install-test-deps.sh into
// <repo>/.tools; CONVLOG_TURSO_BIN names another binary. A missing server
// fails the test rather than skipping it, since CI installs it.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tursodatabase/libsql-client-go/libsql"
)

// readyTimeout bounds how long a starting server may take to answer.
const readyTimeout = 15 * time.Second

// Server is one running libSQL server serving one database file.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	Path string // the database file it serves

	t    testing.TB
	bin  string
	addr string
	log  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a server on a new database file in a temporary folder and
// stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartFile(t, filepath.Join(t.TempDir(), "target.db"))
}

// StartFile starts a server on the given database file (created if missing).
func StartFile(t testing.TB, path string) *Server {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, Path: path, log: path + ".server.log"}
	t.Cleanup(func() { s.Stop() })
	// A port picked by the kernel may be taken by someone else before the
	// server binds it; try a few.
	var lastErr error
	for range 5 {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		s.addr = addr
		s.URL = "http://" + addr
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("libSQL test server did not start: %v\n%s", lastErr, s.Log())
	return nil
}

// binary finds the server binary: $CONVLOG_TURSO_BIN, else the Turso CLI
// installed in <repo>/.tools by scripts/install-test-deps.sh.
func binary() (string, error) {
	if b := os.Getenv("CONVLOG_TURSO_BIN"); b != "" {
		if _, err := os.Stat(b); err != nil {
			return "", fmt.Errorf("CONVLOG_TURSO_BIN=%s: %w", b, err)
		}
		return b, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	tools := filepath.Join(root, ".tools", "node_modules")
	// The npm package's .bin/turso is a node wrapper around a native
	// binary; run the binary itself so that stopping it needs no wrapper.
	native, _ := filepath.Glob(filepath.Join(tools, "@tursodatabase", "cli-*", "tursodb"))
	for _, n := range native {
		if fi, err := os.Stat(n); err == nil && fi.Mode()&0o111 != 0 {
			return n, nil
		}
	}
	wrapper := filepath.Join(tools, ".bin", "turso")
	if _, err := os.Stat(wrapper); err == nil {
		return wrapper, nil
	}
	return "", fmt.Errorf("the libSQL test server is not installed (looked for %s): run scripts/install-test-deps.sh, or set CONVLOG_TURSO_BIN to a Turso CLI binary", wrapper)
}

// repoRoot is the folder of the convlog go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/convlog/convlog\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testkit: cannot find the convlog repository above the working directory")
		}
		dir = parent
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (s *Server) start() error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, s.Path, "--sync-server", s.addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that a wrapper and its child stop together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	if err := s.waitReady(done); err != nil {
		s.kill(syscall.SIGKILL)
		return err
	}
	return nil
}

// waitReady polls the server with a real query until it answers, the
// process exits, or readyTimeout passes.
func (s *Server) waitReady(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := s.ping(ctx); err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("server exited at start")
		case <-ctx.Done():
			return fmt.Errorf("server at %s not ready after %s", s.addr, readyTimeout)
		case <-tick.C:
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	body := strings.NewReader(`{"requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}}]}`)
	req, err := http.NewRequestWithContext(ctx, "POST", s.URL+"/v2/pipeline", body)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// kill signals the server's process group and waits for it to exit.
func (s *Server) kill(sig syscall.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Stop stops the server gracefully; safe to call more than once.
func (s *Server) Stop() { s.kill(syscall.SIGTERM) }

// Crash kills the server at once (SIGKILL), as a power cut or an OOM kill
// would.
func (s *Server) Crash() { s.kill(syscall.SIGKILL) }

// Restart starts the server again on the same address and file.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("restart libSQL test server: %v\n%s", err, s.Log())
	}
}

// Running says whether the server process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Log is what the server printed, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// Port is the server's TCP port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// DB is a client of the server, for checking what a test wrote by querying
// the server itself. It is closed when the test ends.
func (s *Server) DB() *sql.DB {
	s.t.Helper()
	c, err := libsql.NewConnector(s.URL, libsql.WithAuthToken("test-token"))
	if err != nil {
		s.t.Fatal(err)
	}
	db := sql.OpenDB(c)
	s.t.Cleanup(func() { db.Close() })
	return db
}
