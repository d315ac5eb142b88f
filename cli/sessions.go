package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/record"
)

// sessionRef is a session id, a prefix of one, an agent session id or a
// prefix of one, or "last". It is checked while the command line is
// parsed, so that a path such as ../x is refused as a usage error before
// any file is touched.
type sessionRef string

func (r sessionRef) Validate() error {
	if !record.IsPlainID(string(r)) {
		return fmt.Errorf("%q: %w", string(r), record.ErrBadRef)
	}
	return nil
}

// refHelp is how every command that names sessions says what it takes.
const refHelp = "a session id or a unique prefix of one (as convlog list prints it), the agent's own session id (claude --resume takes it) or a prefix of one, or 'last' for the newest session"

// checkDir is the one error of every command that reads a session folder
// that is not there (tee and import make theirs).
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no session folder %s: it does not exist (convlog tee makes it; --dir or CONVLOG_DIR names another)", dir)
	case err != nil:
		return fmt.Errorf("session folder %s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("no session folder %s: it is not a folder (--dir or CONVLOG_DIR names another)", dir)
	}
	return nil
}

// folderSessions are the sessions of dir, newest first: its session files,
// then the sessions that the archive keeps for it whose files were pruned.
// The archive is read as it is, not brought up to date: a session not yet
// in it still has its file. An archive that cannot be read costs only the
// pruned sessions, with a warning.
func folderSessions(ctx context.Context, dir, archiveFile string, stderr io.Writer) ([]record.Entry, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	arch := archive.Open(dir, archiveFile, nil)
	archAbs, err := filepath.Abs(arch.Path)
	if err != nil {
		return nil, err
	}
	view, err := arch.View(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "convlog: warning: %v (pruned sessions are not shown)\n", err)
		view = nil
	}
	defer view.Close()
	var held map[string]*record.Session
	if files, err := archive.SessionFiles(dir, archAbs); err == nil {
		held, _ = view.Held(ctx, files) // without it, each file is read
	}
	entries, err := record.ListSessionsKnown(ctx, dir, func(p string) *record.Session {
		abs, _ := filepath.Abs(p)
		return held[abs]
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	present := make(map[string]bool, 2*len(entries))
	files := entries[:0]
	for _, e := range entries {
		// The archive itself, should --archive put it in the folder.
		if abs, _ := filepath.Abs(e.Path); abs == archAbs {
			continue
		}
		present[e.ID] = true
		present[strings.TrimSuffix(filepath.Base(e.Path), ".db")] = true
		files = append(files, e)
	}
	pruned, err := view.Pruned(ctx, present)
	if err != nil {
		fmt.Fprintf(stderr, "convlog: warning: %v (pruned sessions are not shown)\n", err)
	}
	all := append(files, pruned...)
	record.SortEntries(all)
	return all, nil
}

// findSessions resolves ref among the sessions of dir (record.Resolve). A
// ref that is a session file's name is found without reading the others.
func findSessions(ctx context.Context, dir, archiveFile, ref string, stderr io.Writer) ([]*record.Entry, error) {
	if !record.IsPlainID(ref) {
		return nil, fmt.Errorf("%q: %w", ref, record.ErrBadRef)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	if ref != record.Last {
		p := filepath.Join(dir, ref+".db")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && !isArchive(p, dir, archiveFile) {
			return []*record.Entry{{Path: p, ID: ref}}, nil // read by the command
		}
	}
	entries, err := folderSessions(ctx, dir, archiveFile, stderr)
	if err != nil {
		return nil, err
	}
	found, err := record.Resolve(entries, ref)
	var nf *record.NotFoundError
	if errors.As(err, &nf) {
		nf.Dir = dir
	}
	return found, err
}

// isArchive says whether path is the archive of dir, which --archive may
// put among the session files.
func isArchive(path, dir, archiveFile string) bool {
	a, err1 := filepath.Abs(archive.Open(dir, archiveFile, nil).Path)
	p, err2 := filepath.Abs(path)
	return err1 == nil && err2 == nil && a == p
}
