package sync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/convlog/convlog/record"
)

// OpenQuery opens the target for reading, for queries across everything
// that was synced to it (convlog sql --url, convlog stats --url). A file:
// target is opened read-only; a server gets the same checks of URL and
// token as a sync. Errors of queries on the result are best passed through
// QueryError, which words them for people and keeps the token out.
func OpenQuery(ctx context.Context, t Target) (*sql.DB, error) {
	if !t.IsFile() {
		r, err := openRemote(t)
		if err != nil {
			return nil, err
		}
		return r.db, nil
	}
	path, err := filePath(t.URL)
	if err != nil {
		return nil, &Error{Kind: KindBadURL, Err: err, Msg: fmt.Sprintf("%s: %v", t.URL, err)}
	}
	// mode=ro does not create a missing file, and query_only refuses any
	// write that SQLite itself would allow on a read-only file (none, but
	// it says so in the error).
	dsn := "file:" + record.EscapePath(path) + "?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(" +
		strconv.FormatInt(archiveBusyTimeout.Milliseconds(), 10) + ")"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, &Error{Kind: KindLocal, Err: err, Msg: fmt.Sprintf("open %s: %v", path, err)}
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &Error{Kind: KindLocal, Err: err, Msg: fmt.Sprintf("open %s: %v", path, err)}
	}
	return db, nil
}

// QueryError words an error of a query on a database that OpenQuery
// opened: the server's own message for bad SQL, and for a failing
// connection what to check. The token never appears in it.
func QueryError(err error, t Target, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	if t.IsFile() {
		return err
	}
	e := classify(err, t.Display(), t.Token, timeout.String())
	if e.Kind == KindTimeout && errors.Is(err, context.DeadlineExceeded) {
		// The request is given up, and its connection closed: that is all
		// a client can do, as the protocol over HTTP has no way to cancel a
		// statement (the local libSQL server keeps running it, and answers
		// nothing else meanwhile).
		e.Msg = fmt.Sprintf("%s did not answer within %s; the query may need more time (--timeout), or the network is slow. "+
			"The server may still be running it: a query cannot be cancelled over its HTTP protocol", t.Display(), timeout)
	}
	return e
}
