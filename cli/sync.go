package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/convlog/convlog/archive"
	cloudsync "github.com/convlog/convlog/sync"
)

// SyncCmd is `convlog sync`: push sessions to the one libSQL database that
// TURSO_DATABASE_URL names.
type SyncCmd struct {
	Sessions []sessionRef  `arg:"" optional:"" sep:"none" name:"session" help:"Sessions to sync, each ${ref_help}; an agent session id logged as several sessions syncs them all."`
	All      bool          `help:"Sync every session file in --dir."`
	Dir      string        `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder of session files."`
	Archive  string        `env:"CONVLOG_ARCHIVE" placeholder:"FILE" help:"The archive, which keeps the sessions whose files were pruned (default: convlog.db in the parent folder of --dir)."`
	URL      string        `name:"url" placeholder:"URL" help:"Database to sync to in this run instead of $TURSO_DATABASE_URL: libsql://, https://, http://, or file:PATH for a local archive file."`
	Full     bool          `help:"Send every row again, also those that earlier runs recorded as sent."`
	Timeout  time.Duration `env:"CONVLOG_SYNC_TIMEOUT" default:"30s" help:"Give up on a request to the database after this long."`
	JSON     bool          `name:"json" help:"Print the report as JSON on stdout."`
	Quiet    bool          `short:"q" help:"Print nothing but errors."`
}

const defaultSessionDir = ".turso/sessions"

// credentialsMissing is the seed's message for a missing URL or token.
const credentialsMissing = "Turso cloud credentials not found. Set TURSO_DATABASE_URL and TURSO_AUTH_TOKEN to enable cloud sync."

// syncTarget is the target from the environment (the URL from urlFlag when
// given); ok is false when credentials are missing. A file: target needs
// no token.
func syncTarget(getenv func(string) string, urlFlag string) (t cloudsync.Target, ok bool) {
	t.URL = urlFlag
	if t.URL == "" {
		t.URL = getenv("TURSO_DATABASE_URL")
	}
	t.Token = getenv("TURSO_AUTH_TOKEN")
	return t, t.URL != "" && (t.Token != "" || t.IsFile())
}

// Validate is called by kong, so that a session named by a path (../x)
// is a usage error before any file is touched.
func (c *SyncCmd) Validate() error {
	for _, r := range c.Sessions {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Run implements `convlog sync`.
func (c *SyncCmd) Run(env *Env) error {
	target, ok := syncTarget(env.Getenv, c.URL)
	if !ok {
		return errors.New(credentialsMissing)
	}
	if c.All == (len(c.Sessions) > 0) {
		return &exitError{Code: 2, Err: errors.New("name the sessions to sync, or give --all")}
	}
	paths, err := c.paths(env)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		if !c.Quiet && !c.JSON {
			fmt.Fprintf(env.Stdout, "No sessions in %s.\n", c.Dir)
		}
		if c.JSON {
			return writeJSON(env.Stdout, &cloudsync.Report{Target: target.Display(), Sessions: []*cloudsync.SessionReport{}})
		}
		return nil
	}
	opts := cloudsync.Options{Schema: env.Schema, RequestTimeout: c.Timeout, Full: c.Full}
	failed := 0
	opts.OnSession = func(s *cloudsync.SessionReport) {
		if s.Err != nil {
			failed++
			fmt.Fprintf(env.Stderr, "convlog: session %s: %v\n", s.ID, s.Err)
		}
		if s.MarkErr != nil {
			fmt.Fprintf(env.Stderr, "convlog: warning: session %s: %v\n", s.ID, s.MarkErr)
		}
		if s.Err == nil && !c.Quiet && !c.JSON {
			fmt.Fprintln(env.Stdout, syncedLine(s))
		}
	}
	rep, err := cloudsync.Sync(env.Ctx, target, paths, opts)
	if c.JSON {
		if jerr := writeJSON(env.Stdout, rep); jerr != nil && err == nil {
			err = jerr
		}
	}
	if err != nil {
		return fmt.Errorf("sync stopped: %s %s Run `%s` again to send the rest; it sends only what is missing.",
			sentence(err.Error()), syncedSoFar(rep), c.retryCommand())
	}
	if !c.Quiet && !c.JSON && len(rep.Sessions) > 1 {
		fmt.Fprintf(env.Stdout, "Synced %d of %d sessions to %s: %d records in %d requests (%s).\n",
			len(rep.Sessions)-failed, len(rep.Sessions), rep.Target, rep.Rows, rep.Requests, rep.Elapsed.Round(time.Millisecond))
	}
	if failed > 0 {
		return &exitError{Code: 1}
	}
	return nil
}

// paths resolves the sessions to sync to their files, each once. A pruned
// session cannot be synced: sync sends session files.
func (c *SyncCmd) paths(env *Env) ([]string, error) {
	if err := checkDir(c.Dir); err != nil {
		return nil, err
	}
	if c.All {
		m, err := filepath.Glob(filepath.Join(c.Dir, "*.db"))
		if err != nil {
			return nil, err
		}
		m = slices.DeleteFunc(m, func(p string) bool { return isArchive(p, c.Dir, c.Archive) })
		sort.Strings(m)
		return m, nil
	}
	var paths, pruned []string
	seen := map[string]bool{}
	for _, ref := range c.Sessions {
		found, err := findSessions(env.Ctx, c.Dir, c.Archive, string(ref), env.Stderr)
		if err != nil {
			return nil, err
		}
		for _, e := range found {
			switch {
			case e.Pruned:
				pruned = append(pruned, e.ID)
			case !seen[e.Path]:
				seen[e.Path] = true
				paths = append(paths, e.Path)
			}
		}
	}
	if len(pruned) > 0 {
		return nil, fmt.Errorf("session %s was pruned: its file is gone, and sync sends session files (the archive %s keeps its history)",
			strings.Join(pruned, ", "), archive.Open(c.Dir, c.Archive, nil).Path)
	}
	return paths, nil
}

func (c *SyncCmd) retryCommand() string {
	cmd := "convlog sync"
	if c.Dir != defaultSessionDir {
		cmd += " --dir " + shellWord(c.Dir)
	}
	if c.All {
		return cmd + " --all"
	}
	for _, s := range c.Sessions {
		cmd += " " + string(s)
	}
	return cmd
}

// syncedLine is what people see of a session synced.
func syncedLine(s *cloudsync.SessionReport) string {
	if s.UpToDate {
		return fmt.Sprintf("Session %s is up to date.", s.ID)
	}
	return fmt.Sprintf("Synced %d records of session %s in %d %s.", s.Rows, s.ID, s.Chunks, plural(s.Chunks, "request", "requests"))
}

// syncedSoFar says what a run that stopped had done.
func syncedSoFar(rep *cloudsync.Report) string {
	if rep == nil || rep.Rows == 0 {
		return "Nothing was synced in this run."
	}
	done := 0
	var partial []string
	for _, s := range rep.Sessions {
		switch {
		case s.Done:
			done++
		case s.Rows > 0:
			partial = append(partial, fmt.Sprintf("%d of %d records of session %s", s.Rows, s.Todo, s.ID))
		}
	}
	msg := fmt.Sprintf("Synced before that: %d %s complete", done, plural(done, "session", "sessions"))
	if len(partial) > 0 {
		msg += ", and " + strings.Join(partial, ", ")
	}
	return msg + "."
}

// sentence ends s with a full stop unless it has its own.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// syncAtEOF ends `convlog tee`. Without credentials it prints the seed's
// warning; with them it pushes the session just written (path; empty when
// there is none), printing one line before and one after. A failure leaves
// the session local and tee's exit status alone. A signal stops the sync:
// the session is pushed later by `convlog sync`.
func (c *TeeCmd) syncAtEOF(env *Env, path string, interrupted bool, sigs <-chan os.Signal) {
	if c.NoSync {
		return
	}
	target, ok := syncTarget(env.Getenv, "")
	if !ok {
		if !c.Quiet {
			fmt.Fprintln(env.Stderr, "Warning: "+credentialsMissing)
		}
		return
	}
	if path == "" {
		return
	}
	if _, err := os.Stat(path); err != nil {
		return // removed meanwhile; tee has said so
	}
	id := strings.TrimSuffix(filepath.Base(path), ".db")
	later := "convlog sync " + id
	if c.Dir != defaultSessionDir {
		later = "convlog sync --dir " + shellWord(c.Dir) + " " + id
	}
	if interrupted {
		if !c.Quiet {
			fmt.Fprintf(env.Stderr, "convlog: sync skipped (interrupted); push the session later with: %s\n", later)
		}
		return
	}
	if !c.Quiet {
		fmt.Fprintf(env.Stderr, "Syncing session %s to %s...\n", id, target.Display())
	}
	ctx, cancel := context.WithCancel(env.Ctx)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	opts := cloudsync.Options{Schema: env.Schema}
	if d, err := time.ParseDuration(env.Getenv("CONVLOG_SYNC_TIMEOUT")); err == nil && d > 0 {
		opts.RequestTimeout = d
	}
	rep, err := cloudsync.Sync(ctx, target, []string{path}, opts)
	if err == nil && len(rep.Sessions) == 1 && rep.Sessions[0].Err != nil {
		err = rep.Sessions[0].Err
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "convlog: warning: sync of session %s to %s failed: %s %s The session is kept in %s; push it later with: %s\n",
			id, target.Display(), sentence(err.Error()), syncedSoFar(rep), path, later)
		return
	}
	s := rep.Sessions[0]
	if s.MarkErr != nil {
		fmt.Fprintf(env.Stderr, "convlog: warning: %v\n", s.MarkErr)
	}
	if !c.Quiet {
		fmt.Fprintf(env.Stderr, "Synced %d records of session %s to %s in %d %s (%s).\n",
			s.Rows, id, target.Display(), rep.Requests, plural(rep.Requests, "request", "requests"), rep.Elapsed.Round(time.Millisecond))
	}
}

// shellWord quotes s for a shell when it holds more than plain characters.
func shellWord(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ',' || r == ':' || r == '@' || r == '%' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
