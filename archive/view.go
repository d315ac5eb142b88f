package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/convlog/convlog/record"
)

// View is the archive as it is, not brought up to date, read for what it
// knows of its folder: the session rows of files it holds whole, so that
// listing a folder of thousands of sessions opens only the files that
// changed, and the sessions whose files were pruned.
type View struct {
	r       *record.Reader
	folder  string
	sources map[string]source
}

type source struct {
	key Key
	id  string
}

// View opens the archive for reading. Without an archive, or with one that
// took no session in yet, the result is nil: it knows nothing.
func (a *Archive) View(ctx context.Context) (*View, error) {
	if _, err := os.Stat(a.Path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	folder, err := a.Folder()
	if err != nil {
		return nil, err
	}
	r, err := record.OpenReader(ctx, a.Path)
	if errors.Is(err, record.ErrNotSessionFile) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the archive: %w", err)
	}
	v := &View{r: r, folder: folder, sources: map[string]source{}}
	if err := v.load(ctx); err != nil {
		r.Close()
		return nil, fmt.Errorf("read the archive: %w", err)
	}
	return v, nil
}

func (v *View) load(ctx context.Context) error {
	ok, err := v.r.HasTable(ctx, "archive_sources")
	if err != nil || !ok {
		return err
	}
	return v.r.Rows(ctx, "SELECT path, size, mtime, wal_size, wal_mtime, session_id FROM archive_sources WHERE session_id IS NOT NULL", nil,
		func(scan func(...any) error) error {
			var p string
			var s source
			if err := scan(&p, &s.key.Size, &s.key.Mtime, &s.key.WalSize, &s.key.WalMtime, &s.id); err != nil {
				return err
			}
			v.sources[p] = s
			return nil
		})
}

// Close closes the archive.
func (v *View) Close() error {
	if v == nil {
		return nil
	}
	return v.r.Close()
}

// Held returns the session rows, by path, of the files the archive holds
// whole as they are now (the same test as Holds): the same rows as the
// files', read without opening them.
func (v *View) Held(ctx context.Context, files []SessionFile) (map[string]*record.Session, error) {
	held := map[string]*record.Session{}
	if v == nil {
		return held, nil
	}
	byID := map[string][]string{}
	for _, f := range files {
		if s, ok := v.sources[f.Path]; ok && s.key == f.Key {
			byID[s.id] = append(byID[s.id], f.Path)
		}
	}
	if len(byID) == 0 {
		return held, nil
	}
	err := v.r.Sessions(ctx, "SELECT session_id FROM archive_sources WHERE session_id IS NOT NULL", nil, func(s *record.Session) error {
		for _, p := range byID[s.ID] {
			held[p] = s
		}
		return nil
	})
	return held, err
}

// Pruned returns the sessions the archive keeps for its folder whose files
// are gone: those whose ids are not in present (the ids and file names of
// the folder's session files). An archive that places no session yet (made
// by an earlier convlog, and not updated since) has none.
func (v *View) Pruned(ctx context.Context, present map[string]bool) ([]record.Entry, error) {
	if v == nil {
		return nil, nil
	}
	if ok, err := v.r.HasTable(ctx, "archive_folders"); err != nil || !ok {
		return nil, err
	}
	var pruned []record.Entry
	err := v.r.Sessions(ctx, InFolder, []any{v.folder}, func(s *record.Session) error {
		if !present[s.ID] {
			pruned = append(pruned, record.Entry{Path: v.r.Path, ID: s.ID, Session: s, Pruned: true})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the archive: %w", err)
	}
	return pruned, nil
}
