package record

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// IsPlainID says whether s can be a session id or a prefix of one, and so
// a file name: 1 to 128 letters, digits, '-' and '_', starting with a letter
// or digit. Anything else (a path, "..", a name with a dot) is refused
// before any file is touched. (Written out rather than as a regular
// expression: compiling `{0,127}` took a millisecond at every start.)
func IsPlainID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Last is the session reference that means the newest session.
const Last = "last"

// Entry is one session of a folder: its file and session, or why the file
// could not be read; or a session whose file was pruned, read from the
// archive.
type Entry struct {
	Path    string // the session file; for a pruned session, the archive
	ID      string // the session's id; the file's name without .db when Err is set
	Session *Session
	Err     error // a *FileError
	Pruned  bool  // the file is gone; Path is the archive, which keeps the session
	modMS   int64
}

// sortKey orders entries newest first: by start time, else by the file's
// modification time (a session whose start is not known).
func (e *Entry) sortKey() int64 {
	if e.Session != nil && e.Session.StartedAt != nil {
		return *e.Session.StartedAt
	}
	return e.modMS
}

// sessionFiles lists the *.db files of dir by name. A folder that does not
// exist has none.
func sessionFiles(dir string) ([]fs.DirEntry, error) {
	all, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []fs.DirEntry
	for _, de := range all {
		if !de.IsDir() && strings.HasSuffix(de.Name(), ".db") {
			files = append(files, de)
		}
	}
	return files, nil
}

// readers bounds how many files ListSessions opens at once.
const readers = 8

// ListSessions reads the session row of every *.db file in dir, newest
// first; files that cannot be read come last, in name order, with Err set.
// Only a folder that cannot be listed is an error.
func ListSessions(ctx context.Context, dir string) ([]Entry, error) {
	return ListSessionsKnown(ctx, dir, nil)
}

// ListSessionsKnown is ListSessions, taking the session of a file from
// known where it has one (a row the archive holds of an unchanged file)
// rather than opening the file.
func ListSessionsKnown(ctx context.Context, dir string, known func(path string) *Session) ([]Entry, error) {
	files, err := sessionFiles(dir)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, readers)
	for i, de := range files {
		e := &entries[i]
		e.Path = filepath.Join(dir, de.Name())
		e.ID = strings.TrimSuffix(de.Name(), ".db")
		if info, err := de.Info(); err == nil {
			e.modMS = info.ModTime().UnixMilli()
		}
		if known != nil {
			if s := known(e.Path); s != nil {
				e.Session, e.ID = s, s.ID
				continue
			}
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			s, err := ReadSession(ctx, e.Path)
			if err != nil {
				e.Err = err
				return
			}
			e.Session, e.ID = s, s.ID
		}()
	}
	wg.Wait()
	SortEntries(entries)
	return entries, nil
}

// ErrBadRef is a session reference that is not a plain id or prefix.
var ErrBadRef = errors.New("not a session id or prefix (letters, digits, '-' and '_' only)")

// SortEntries orders entries as ListSessions does: newest first, by start
// time, else by the file's modification time; files that cannot be read
// last, in name order.
func SortEntries(entries []Entry) {
	slices.SortStableFunc(entries, func(a, b Entry) int {
		if (a.Err == nil) != (b.Err == nil) {
			if a.Err == nil {
				return -1
			}
			return 1
		}
		if a.Err != nil {
			return strings.Compare(a.Path, b.Path)
		}
		return cmp.Or(cmp.Compare(b.sortKey(), a.sortKey()), strings.Compare(b.ID, a.ID))
	})
}
