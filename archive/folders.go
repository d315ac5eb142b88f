package archive

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"modernc.org/sqlite"
)

// The archive is shared by every session folder beside it (.turso/sessions
// and .turso/other both have .turso/convlog.db), yet what a folder's
// commands show is that folder's sessions, those whose files are pruned
// included. So the archive records, in a table of its own that outlives
// the files, which folder each session was taken in from.

// foldersDDL places each session in the folders it came from.
const foldersDDL = `CREATE TABLE IF NOT EXISTS archive_folders (
  folder     TEXT NOT NULL, -- the session folder, relative to the archive's folder (Archive.Folder)
  session_id TEXT NOT NULL,
  PRIMARY KEY (folder, session_id)
) WITHOUT ROWID`

// InFolder is a query of the ids of the sessions of one folder, its one
// argument the folder (Archive.Folder). A query over the archive that is
// not run through Query, which scopes every table already, keeps to the
// folder with "session_id IN (" + InFolder + ")".
const InFolder = "SELECT session_id FROM archive_folders WHERE folder = ?"

// Folder is the name under which the archive places the sessions of its
// session folder: the folder's path relative to the archive's own folder
// ("sessions" for the default .turso/sessions), so that it stays the same
// when the whole tree moves; an absolute path where none is relative.
func (a *Archive) Folder() (string, error) {
	arch, err := filepath.Abs(a.Path)
	if err != nil {
		return "", err
	}
	dir, err := filepath.Abs(a.Dir)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(filepath.Dir(arch), dir)
	if err != nil {
		return filepath.ToSlash(dir), nil
	}
	return filepath.ToSlash(rel), nil
}

// placeSessions makes the folders table of an archive that lacks it. In an
// archive made before it existed, the sessions whose files are still there
// are placed in their files' folders, and those whose files are gone (and
// so cannot be placed) in this archive's folder: the one whose command
// first meets the archive.
func (a *Archive) placeSessions(ctx context.Context, db *sql.DB, fresh bool) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'archive_folders'").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, foldersDDL); err != nil {
		return err
	}
	if fresh {
		return tx.Commit()
	}
	rows, err := tx.QueryContext(ctx, "SELECT path, session_id FROM archive_sources WHERE session_id IS NOT NULL")
	if err != nil {
		return err
	}
	placed := map[[2]string]bool{}
	for rows.Next() {
		var path, id string
		if err := rows.Scan(&path, &id); err != nil {
			rows.Close()
			return err
		}
		f, err := (&Archive{Path: a.Path, Dir: filepath.Dir(path)}).Folder()
		if err != nil {
			rows.Close()
			return err
		}
		placed[[2]string{f, id}] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for k := range placed {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO archive_folders (folder, session_id) VALUES (?, ?)", k[0], k[1]); err != nil {
			return err
		}
	}
	var hasSessions int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'sessions' AND type = 'table'").Scan(&hasSessions); err != nil {
		return err
	}
	if hasSessions > 0 {
		folder, err := a.Folder()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO archive_folders (folder, session_id)
			SELECT ?, id FROM sessions WHERE id NOT IN (SELECT session_id FROM archive_folders)`, folder); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// placeRead places the sessions an update read in its folder.
func placeRead(ctx context.Context, conn *sql.Conn, st *updateState) error {
	for id := range st.read {
		if _, err := conn.ExecContext(ctx, "INSERT OR IGNORE INTO archive_folders (folder, session_id) VALUES (?, ?)", st.folder, id); err != nil {
			return err
		}
	}
	return nil
}

// scopeViews are the statements that give a connection to the archive
// views of one folder's sessions under the names of the schema's tables.
// SQLite looks an unqualified name up in the temp schema first, so every
// query, the user's own in `convlog sql` included, sees only those rows.
func scopeViews(folder string) []string {
	q := "'" + strings.ReplaceAll(folder, "'", "''") + "'"
	in := "(SELECT session_id FROM main.archive_folders WHERE folder = " + q + ")"
	return []string{
		"CREATE TEMP VIEW sessions AS SELECT * FROM main.sessions WHERE id IN " + in,
		"CREATE TEMP VIEW messages AS SELECT * FROM main.messages WHERE session_id IN " + in,
		"CREATE TEMP VIEW tool_calls AS SELECT * FROM main.tool_calls WHERE session_id IN " + in,
	}
}

// scoped opens connections with the folder's views, then makes them
// read-only (query_only, after the views, which live in the temp schema).
type scoped struct {
	driver.Connector
	setup []string
}

func (s *scoped) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := s.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := c.(driver.ExecerContext)
	if !ok {
		c.Close()
		return nil, errors.New("the SQLite driver cannot run statements on a connection")
	}
	for _, q := range s.setup {
		if _, err := ex.ExecContext(ctx, q, nil); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// openScoped opens the archive read-only, seeing only the sessions of
// folder.
func openScoped(ctx context.Context, path, folder string) (*sql.DB, error) {
	dsn := "file:" + escapeDSNPath(path) + "?mode=ro&_pragma=temp_store(MEMORY)&_pragma=busy_timeout(" +
		strconv.FormatInt(wait.Milliseconds(), 10) + ")"
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(&scoped{Connector: base, setup: append(scopeViews(folder), "PRAGMA query_only = 1")})
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open the archive %s: %w", path, err)
	}
	return db, nil
}
