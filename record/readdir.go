package record

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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

// Entry is one session file of a folder: its session, or why it could not
// be read.
type Entry struct {
	Path    string
	ID      string // the session's id; the file's name without .db when Err is set
	Session *Session
	Err     error // a *FileError
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
	return entries, nil
}

// NotFoundError is a session reference that names no session file.
type NotFoundError struct {
	Ref      string
	Dir      string
	NoFolder bool // Dir does not exist
	Files    int  // session files in Dir
}

func (e *NotFoundError) Error() string {
	switch {
	case e.NoFolder:
		return fmt.Sprintf("no session %q: folder %s does not exist (set --dir or CONVLOG_DIR)", e.Ref, e.Dir)
	case e.Ref == Last:
		return fmt.Sprintf("no readable session in %s (%d files)", e.Dir, e.Files)
	default:
		return fmt.Sprintf("no session %q in %s (%d session files there; see convlog list)", e.Ref, e.Dir, e.Files)
	}
}

// AmbiguousError is a prefix that more than one session id starts with.
type AmbiguousError struct {
	Ref     string
	Matches []string // the ids, sorted
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("session prefix %q is ambiguous; it matches:\n  %s", e.Ref, strings.Join(e.Matches, "\n  "))
}

// ErrBadRef is a session reference that is not a plain id or prefix.
var ErrBadRef = errors.New("not a session id or prefix (letters, digits, '-' and '_' only)")

// Find returns the file in dir of the session ref names: a full id, a
// unique prefix of one (as git takes short hashes), or Last, the newest
// readable session. A full id wins over a longer id it is a prefix of.
// A ref that is no convlog id may be the agent's own session id (Claude
// Code's, Gemini CLI's, a Codex thread, …), whole or a unique prefix.
func Find(ctx context.Context, dir, ref string) (string, error) {
	if !IsPlainID(ref) {
		return "", fmt.Errorf("%q: %w", ref, ErrBadRef)
	}
	noFolder := false
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		noFolder = true
	}
	if ref == Last {
		entries, err := ListSessions(ctx, dir)
		if err != nil {
			return "", err
		}
		if len(entries) > 0 && entries[0].Err == nil {
			return entries[0].Path, nil
		}
		return "", &NotFoundError{Ref: ref, Dir: dir, NoFolder: noFolder, Files: len(entries)}
	}
	files, err := sessionFiles(dir)
	if err != nil {
		return "", err
	}
	var matches []string
	for _, de := range files {
		id := strings.TrimSuffix(de.Name(), ".db")
		if id == ref {
			return filepath.Join(dir, de.Name()), nil
		}
		if strings.HasPrefix(id, ref) {
			matches = append(matches, id)
		}
	}
	switch len(matches) {
	case 0:
		if path, err := findByAgentID(ctx, dir, ref); path != "" || err != nil {
			return path, err
		}
		return "", &NotFoundError{Ref: ref, Dir: dir, NoFolder: noFolder, Files: len(files)}
	case 1:
		return filepath.Join(dir, matches[0]+".db"), nil
	default:
		slices.Sort(matches)
		return "", &AmbiguousError{Ref: ref, Matches: matches}
	}
}

// findByAgentID looks for the sessions whose agent session id is ref, or
// else starts with it; "" when there is none.
func findByAgentID(ctx context.Context, dir, ref string) (string, error) {
	entries, err := ListSessions(ctx, dir)
	if err != nil || len(entries) == 0 {
		return "", err
	}
	var exact, prefix []*Entry
	for i := range entries {
		e := &entries[i]
		if e.Session == nil || e.Session.AgentSessionID == nil {
			continue
		}
		switch id := *e.Session.AgentSessionID; {
		case id == ref:
			exact = append(exact, e)
		case strings.HasPrefix(id, ref):
			prefix = append(prefix, e)
		}
	}
	found := exact
	if len(found) == 0 {
		found = prefix
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0].Path, nil
	}
	ids := make([]string, len(found))
	for i, e := range found {
		ids[i] = e.ID + " (agent session " + *e.Session.AgentSessionID + ")"
	}
	slices.Sort(ids)
	return "", &AmbiguousError{Ref: ref, Matches: ids}
}
