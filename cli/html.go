package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/web"
)

// HTMLCmd is `convlog html`: each session as one self-contained page (its
// style, script and data inline), to open from disk, offline.
type HTMLCmd struct {
	Sessions []sessionRef `arg:"" name:"session" help:"Sessions, each ${ref_help}."`
	Dir      string       `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder of session files."`
	Archive  string       `env:"CONVLOG_ARCHIVE" placeholder:"FILE" help:"The archive, which keeps the sessions whose files were pruned (default: convlog.db in the parent folder of --dir)."`
	Output   string       `short:"o" placeholder:"PATH" help:"Where to write: a file (one session), a folder (one <id>.html per session; created if missing), or - for stdout. Default: <id>.html in the current folder."`
	Quiet    bool         `short:"q" help:"Do not say which files were written."`
}

// Validate is called by kong, so that these are usage errors: a reference
// that is not a plain id, and several pages for stdout.
func (c *HTMLCmd) Validate() error {
	for _, ref := range c.Sessions {
		if err := ref.Validate(); err != nil {
			return err
		}
	}
	if c.Output == "-" && len(c.Sessions) > 1 {
		return errors.New("-o - writes one page to stdout; give one session, or a folder for several")
	}
	return nil
}

// Run implements `convlog html`. A session that cannot be read is reported
// and the others are written; the exit status is then 1.
func (c *HTMLCmd) Run(env *Env) error {
	ctx := env.Ctx
	folder := ""
	switch {
	case c.Output == "" || c.Output == "-":
	case len(c.Sessions) > 1 || strings.HasSuffix(c.Output, "/") || isDir(c.Output):
		folder = c.Output
		if err := os.MkdirAll(folder, 0o755); err != nil {
			return fmt.Errorf("create the folder for the pages: %w", err)
		}
	}
	failed := 0
	for _, ref := range c.Sessions {
		err := c.one(env, string(ref), folder)
		if err != nil {
			if len(c.Sessions) == 1 {
				return err
			}
			fmt.Fprintf(env.Stderr, "convlog: %v\n", err)
			failed++
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if failed > 0 {
		return &exitError{Code: 1}
	}
	return nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func (c *HTMLCmd) one(env *Env, ref, folder string) error {
	ctx := env.Ctx
	found, err := findSessions(ctx, c.Dir, c.Archive, ref, env.Stderr)
	if err != nil {
		return err
	}
	if len(found) > 1 {
		noteAgentSessions(env.Stderr, found)
	}
	var src web.Source
	if e := found[0]; e.Pruned {
		// Its file is gone: the page is made from the archive.
		db, err := record.OpenReadOnly(ctx, e.Path)
		if err != nil {
			return err
		}
		defer db.Close()
		src = web.NewDBSource(db, e.ID)
	} else {
		f, err := web.OpenFile(ctx, e.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	pg, err := web.Build(ctx, src, false)
	if err != nil {
		return fmt.Errorf("read session %s: %w", ref, err)
	}
	pg.Now = 0 // a page of a finished session is the same whenever it is written
	if c.Output == "-" {
		return web.WritePage(env.Stdout, pg, web.PageOptions{File: true})
	}
	out := c.Output
	switch {
	case folder != "":
		out = filepath.Join(folder, pg.Session.ID+".html")
	case out == "":
		out = pg.Session.ID + ".html"
	}
	n, err := writeFileAtomic(out, func(w io.Writer) error { return web.WritePage(w, pg, web.PageOptions{File: true}) })
	if err != nil {
		return fmt.Errorf("write the page of session %s: %w", pg.Session.ID, err)
	}
	if !c.Quiet {
		fmt.Fprintf(env.Stderr, "Wrote %s (session %s, %s)\n", out, pg.Session.ID, sizeText(n))
	}
	return nil
}

// writeFileAtomic writes a file through a temporary one beside it, so that
// a failed write leaves no half page. Pages hold a session's text, and are
// private like session files (0600).
func writeFileAtomic(path string, write func(io.Writer) error) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	cw := &countWriter{w: f}
	err = write(cw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
