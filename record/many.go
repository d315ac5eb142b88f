package record

import (
	"context"
	"errors"
	"fmt"
)

// A database of many sessions (the archive, a synced database) is read
// with the same Reader, naming the session: Session's rule of "the row the
// file is named after" only fits a session file.

// SessionByID reads the row of session id.
func (r *Reader) SessionByID(ctx context.Context, id string) (*Session, error) {
	list, cols := selectList(r.cols["sessions"], sessionColumns)
	var found *Session
	err := each(ctx, r.tx, "SELECT "+list+" FROM sessions WHERE id = ?", cols,
		func(s *Session) error { found = s; return nil }, id)
	if err != nil {
		return nil, fileError(r.Path, err)
	}
	if found == nil {
		return nil, &FileError{Path: r.Path, Err: fmt.Errorf("no session %q", id)}
	}
	return found, nil
}

// Sessions hands fn the rows of the sessions whose ids idQuery (a SELECT
// of one column, with args) returns.
func (r *Reader) Sessions(ctx context.Context, idQuery string, args []any, fn func(*Session) error) error {
	if idQuery == "" {
		return errors.New("no query of session ids")
	}
	list, cols := selectList(r.cols["sessions"], sessionColumns)
	err := each(ctx, r.tx, "SELECT "+list+" FROM sessions WHERE id IN ("+idQuery+")", cols, fn, args...)
	if err != nil {
		return fileError(r.Path, err)
	}
	return nil
}

// HasTable says whether the file has a table or view of that name.
func (r *Reader) HasTable(ctx context.Context, name string) (bool, error) {
	var n int
	err := r.tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", name).Scan(&n)
	if err != nil {
		return false, fileError(r.Path, err)
	}
	return n > 0, nil
}

// Rows runs query in the reader's transaction and hands fn a scan of each
// row: for the tables of a database beside the schema's (the archive's).
func (r *Reader) Rows(ctx context.Context, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := r.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fileError(r.Path, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fileError(r.Path, err)
	}
	return nil
}
