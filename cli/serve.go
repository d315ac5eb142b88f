package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/convlog/convlog/archive"
	cloudsync "github.com/convlog/convlog/sync"
	"github.com/convlog/convlog/web"
)

// ServeCmd is `convlog serve`: a read-only local web app over the sessions
// (the list, each session's page, live while it runs, and the statistics),
// or over the synced database with --url.
type ServeCmd struct {
	Addr  string `default:"127.0.0.1:8080" placeholder:"HOST:PORT" help:"Address to listen on (default 127.0.0.1:8080; port 0 picks a free one). Only the loopback address needs no token; on any other address every request must carry one."`
	Token string `env:"CONVLOG_SERVE_TOKEN" placeholder:"TOKEN" help:"The token to ask of every request (default on an address other than loopback: a random one, printed once)."`
	Open  bool   `help:"Open the app in the browser."`

	AcrossFlags `embed:""`
}

// Run implements `convlog serve`.
func (c *ServeCmd) Run(env *Env) error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return &exitError{Code: 2, Err: fmt.Errorf("--addr %q: %v; write HOST:PORT, such as 127.0.0.1:8080", c.Addr, err)}
	}
	token := c.Token
	if token == "" && !web.IsLoopback(c.Addr) {
		b := make([]byte, 18)
		rand.Read(b)
		token = base64.RawURLEncoding.EncodeToString(b)
	}
	ctx, stop := signal.NotifyContext(env.Ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The port first: a port in use is found before a long first read of
	// the sessions.
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return listenError(c.Addr, err)
	}
	defer ln.Close()
	store, err := c.store(ctx, env)
	if err != nil {
		return err
	}
	defer store.Close()
	addr := ln.Addr().String()
	srv, err := web.NewServer(store, addr, token)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		// Every address: name the machine (any of its addresses will do).
		if host, err = os.Hostname(); err != nil {
			host = "localhost"
		}
	}
	url := "http://" + net.JoinHostPort(host, port) + "/"
	open := url
	if token != "" {
		open += "?token=" + token
	}
	fmt.Fprintf(env.Stderr, "Serving %s at %s (read-only; Ctrl-C to stop)\n", store.Describe(), url)
	if token != "" {
		fmt.Fprintf(env.Stderr, "Every request needs the token; open %s (shown only now)\n", open)
	}
	if c.Open {
		if err := openBrowser(open); err != nil {
			fmt.Fprintf(env.Stderr, "convlog: warning: could not open a browser: %v\n", err)
		}
	}
	return srv.Serve(ctx, ln)
}

// store opens what is served: the synced database, or the session folder.
func (c *ServeCmd) store(ctx context.Context, env *Env) (web.Store, error) {
	if c.URL != "" {
		t := cloudsync.Target{URL: c.URL, Token: env.Getenv("TURSO_AUTH_TOKEN")}
		db, err := cloudsync.OpenQuery(ctx, t)
		if err != nil {
			return nil, err
		}
		wrap := func(err error) error { return cloudsync.QueryError(err, t, c.Timeout) }
		// One query now, so that a database that cannot be read is an
		// error at the start rather than on the first page.
		qctx, cancel := context.WithTimeout(ctx, c.Timeout)
		defer cancel()
		var n int64
		if err := db.QueryRowContext(qctx, "SELECT count(*) FROM sessions").Scan(&n); err != nil {
			db.Close()
			return nil, wrap(err)
		}
		return web.NewDBStore(db, t.Display(), wrap), nil
	}
	if err := checkDir(c.Dir); err != nil {
		return nil, err
	}
	if a := archive.Open(c.Dir, c.Archive, env.Schema); !fileExists(a.Path) {
		// The first run over many sessions reads them all before it serves.
		fmt.Fprintf(env.Stderr, "Reading the sessions of %s into the archive %s (the first time only)...\n", c.Dir, a.Path)
	}
	return web.OpenLocal(ctx, c.Dir, c.Archive, env.Schema, func(err error) {
		fmt.Fprintf(env.Stderr, "convlog: warning: %v (left out)\n", err)
	})
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("cannot listen on %s: the port is in use; choose another with --addr", addr)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("cannot listen on %s: permission denied; choose a port above 1023 with --addr", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("cannot listen on %s: this machine has no such address; try 127.0.0.1", addr)
	}
	return fmt.Errorf("cannot listen on %s: %v", addr, err)
}

func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
