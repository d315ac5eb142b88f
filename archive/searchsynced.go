package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
)

// A database that sessions are synced to (convlog search --url) holds its
// own search index, made on request (--reindex) and then kept as the
// archive's is: its triggers queue the rows that each sync brings, and
// each search indexes what is queued before it reads. A server is written
// one request per batch, BEGIN; …; COMMIT, as the sync writes it.

// ErrNoFTS5 is the error of a database that has no FTS5 to search with.
var ErrNoFTS5 = errors.New("the database has no full-text search (FTS5)")

// HasFTS5 says whether db can hold a search index.
func HasFTS5(ctx context.Context, db querier) (bool, error) {
	var id string
	err := db.QueryRowContext(ctx, "SELECT fts5_source_id()").Scan(&id)
	if err != nil {
		m := strings.ToLower(err.Error())
		if strings.Contains(m, "fts5") && (strings.Contains(m, "no such") || strings.Contains(m, "not")) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// KeepFileSearch is KeepSearch for a database file that sessions were
// synced to (a file: URL).
func KeepFileSearch(ctx context.Context, path string, rebuild bool) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := openRW(path, false)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := stateOfSearch(ctx, conn)
	if err != nil || st == searchNone {
		return err // no sessions: nothing to index
	}
	if rebuild {
		if err := buildSearch(ctx, conn); err != nil {
			return fmt.Errorf("make the search index: %w", err)
		}
	} else if st != searchReady {
		return ErrNoIndex
	}
	return drainSearch(ctx, conn, nil)
}

// remoteBatch is how much text one request of a server's drain sends.
const remoteBatch = 4 << 20

// rowsPerInsert is how many documents one INSERT of a request holds.
const rowsPerInsert = 50

// KeepRemoteSearch makes the search index of a server (when rebuild is
// set: anew) and indexes what its queue holds. Without rebuild, a
// database without the index is ErrNoIndex.
func KeepRemoteSearch(ctx context.Context, db *sql.DB, rebuild bool) error {
	st, err := stateOfSearch(ctx, db)
	if err != nil || st == searchNone {
		return err // no sessions: nothing to index
	}
	if rebuild {
		var stmts []string
		for _, t := range searchTriggers {
			stmts = append(stmts, "DROP TRIGGER IF EXISTS "+t)
		}
		stmts = append(stmts, "DROP TABLE IF EXISTS "+SearchTable, "DROP TABLE IF EXISTS "+QueueTable, "DROP TABLE IF EXISTS "+metaTable)
		if err := remoteApply(ctx, db, append(stmts, searchDDL()...), nil); err != nil {
			return fmt.Errorf("make the search index: %w", err)
		}
	} else if st != searchReady {
		return ErrNoIndex
	}
	after := int64(-1)
	seen := titles{}
	for {
		rows, err := db.QueryContext(ctx, queuedRows, after)
		if err != nil {
			return err
		}
		size := 0
		docs, last, err := readQueued(rows, after, &size, remoteBatch, seen)
		if err != nil {
			return err
		}
		if last == after {
			return nil
		}
		var stmts []string
		var args []any
		var tuples []string
		flush := func() {
			if len(tuples) > 0 {
				stmts = append(stmts, "INSERT INTO "+SearchTable+" (rowid, body, kind, tool, status) VALUES "+strings.Join(tuples, ","))
				tuples = tuples[:0]
			}
		}
		indexed := 0
		for _, kd := range docs {
			for _, doc := range kd.docs {
				body := spaceIdeographs(indexedPart(doc.Text))
				indexed += len(body)
				tuples = append(tuples, "(?,?,?,?,?)")
				args = append(args, docRowid(kd.key, doc.Part), body, ftsKind(doc), ToolToken(doc.Tool), doc.Status)
				if len(tuples) == rowsPerInsert {
					flush()
				}
			}
		}
		flush()
		stmts = append(stmts, "DELETE FROM "+QueueTable+" WHERE key <= ?", addTextBytes)
		args = append(args, last, indexed)
		if err := remoteApply(ctx, db, stmts, args); err != nil {
			return err
		}
		after = last
	}
}

// remoteApply runs stmts as one request, all or none.
func remoteApply(ctx context.Context, db *sql.DB, stmts []string, args []any) error {
	q := "BEGIN;\n" + strings.Join(stmts, ";\n") + ";\nCOMMIT"
	_, err := db.ExecContext(ctx, q, args...)
	return err
}
