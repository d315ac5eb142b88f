package sync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tursodatabase/libsql-client-go/libsql"

	"github.com/convlog/convlog/record"
)

// Target names the database that sessions are pushed to.
type Target struct {
	// URL is libsql://…, https://… or http://… for a libSQL server (Turso
	// Cloud or any other), or file:PATH for a local archive file.
	URL string
	// Token authenticates to a server. It goes to the client as a bearer
	// token, never into a URL, and never appears in any message.
	Token string
	// Scratch, for a file target, says the file is new and nothing else
	// opens it, and that the caller discards it if the sync fails and makes
	// it durable if not (a new archive, built under a temporary name). Its
	// journal is kept in memory and nothing is flushed to disk: a first
	// archive of 500 MB of transcripts then takes 30% less time than through
	// the WAL, where every page is written twice.
	Scratch bool
}

// IsFile says whether the target is a local archive file.
func (t Target) IsFile() bool { return strings.HasPrefix(strings.ToLower(t.URL), "file:") }

// Display is the target as it may be shown: scheme, host and path, without
// credentials or query; a file target is its path.
func (t Target) Display() string {
	if t.IsFile() {
		p, err := filePath(t.URL)
		if err != nil {
			return "file:?"
		}
		return p
	}
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" {
		return "the URL in TURSO_DATABASE_URL"
	}
	return redact(u.Scheme+"://"+u.Host+strings.TrimSuffix(u.EscapedPath(), "/"), t.Token)
}

// filePath is the path of a file: URL: file:rel/path, file:/abs/path or
// file:///abs/path.
func filePath(raw string) (string, error) {
	rest := raw[len("file:"):]
	if strings.ContainsAny(rest, "?#") {
		return "", errors.New("a file: URL takes no query; write file:PATH")
	}
	if strings.HasPrefix(rest, "//") {
		if !strings.HasPrefix(rest, "///") {
			return "", errors.New("a file: URL is file:PATH or file:///ABSOLUTE/PATH")
		}
		rest = rest[2:]
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errors.New("a file: URL needs a path")
	}
	return p, nil
}

// stmt is one SQL statement with its arguments.
type stmt struct {
	sql  string
	args []any
}

// conn is a connected target. apply runs statements as one atomic unit:
// all of them or none.
type conn interface {
	query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	apply(ctx context.Context, stmts []stmt) error
	close() error
}

// remote talks to a libSQL server over HTTP. The server may keep no
// streams (the local Turso server's baton is always null), so an
// interactive transaction cannot be used: every unit of work is one
// multi-statement Exec of BEGIN; …; COMMIT, which the client sends as one
// batch request, atomic on the server, one round trip.
type remote struct {
	db *sql.DB
	t  Target
}

func openRemote(t Target) (*remote, error) {
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" {
		return nil, &Error{Kind: KindBadURL, Err: err,
			Msg: fmt.Sprintf("%q is not a database URL; one looks like libsql://<database>-<account>.turso.io (turso db show <database> prints it)", redact(t.URL, t.Token))}
	}
	switch strings.ToLower(u.Scheme) {
	case "libsql", "https", "http":
	case "ws", "wss":
		// The websocket client keeps streams, which this design does not
		// need; one code path for all servers is easier to trust.
		return nil, &Error{Kind: KindBadURL, Msg: fmt.Sprintf("%s: use libsql://, https:// or http:// instead of %s://", t.Display(), u.Scheme)}
	default:
		return nil, &Error{Kind: KindBadURL,
			Msg: fmt.Sprintf("%s: the URL has scheme %q; convlog syncs to libsql://, https://, http:// or file: URLs", t.Display(), u.Scheme)}
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, &Error{Kind: KindBadURL,
			Msg: fmt.Sprintf("%s: the URL must hold no user, password or query; the token goes in TURSO_AUTH_TOKEN", t.Display())}
	}
	if t.Token == "" {
		return nil, &Error{Kind: KindRejected, Msg: "TURSO_AUTH_TOKEN is empty"}
	}
	c, err := libsql.NewConnector(t.URL, libsql.WithAuthToken(t.Token))
	if err != nil {
		return nil, &Error{Kind: KindBadURL, Err: err, Msg: fmt.Sprintf("%s: %s", t.Display(), oneLine(redact(err.Error(), t.Token)))}
	}
	db := sql.OpenDB(c)
	// Requests are sent one at a time; a second connection would only hold
	// a second stream open on servers that keep them.
	db.SetMaxOpenConns(1)
	return &remote{db: db, t: t}, nil
}

func (r *remote) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(ctx, q, remoteArgs(args)...)
}

func (r *remote) apply(ctx context.Context, stmts []stmt) error {
	// Rows (statements with values) go in a request written directly (see
	// execBatch); scripts of several statements (the schema) through the
	// client, which splits them.
	rows := true
	for _, s := range stmts {
		rows = rows && len(s.args) > 0
	}
	if rows {
		return execBatch(ctx, r.t, stmts)
	}
	var b strings.Builder
	n := 0
	for _, s := range stmts {
		n += len(s.args)
	}
	args := make([]any, 0, n)
	b.WriteString("BEGIN;\n")
	for _, s := range stmts {
		b.WriteString(s.sql)
		b.WriteString(";\n")
		args = append(args, s.args...)
	}
	b.WriteString("COMMIT")
	_, err := r.db.ExecContext(ctx, b.String(), remoteArgs(args)...)
	return err
}

// remoteArgs makes values safe for the client's JSON encoding: text that is
// not valid UTF-8 would be altered by it (invalid bytes become U+FFFD), so
// such text goes as a BLOB, byte for byte, as the session file stores lines
// that are not UTF-8.
func remoteArgs(args []any) []any {
	for i, a := range args {
		if s, ok := a.(string); ok && !utf8.ValidString(s) {
			args[i] = []byte(s)
		}
	}
	return args
}

func (r *remote) close() error { return r.db.Close() }

// file is a local archive file, written with real transactions.
type file struct {
	db   *sql.DB
	conn *sql.Conn
	// prepared statements by SQL text: chunks repeat a few shapes.
	stmts map[string]*sql.Stmt
}

// archiveBusyTimeout is how long a write to an archive file waits for
// another process's transaction.
const archiveBusyTimeout = 10 * time.Second

func openFile(ctx context.Context, t Target) (*file, error) {
	path, err := filePath(t.URL)
	if err != nil {
		return nil, &Error{Kind: KindBadURL, Err: err, Msg: fmt.Sprintf("%s: %v", t.URL, err)}
	}
	if err := record.MakeDir(filepath.Dir(path)); err != nil {
		return nil, &Error{Kind: KindLocal, Err: err, Msg: fmt.Sprintf("create the folder of %s: %v", path, err)}
	}
	// Private like the session files it gathers.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, &Error{Kind: KindLocal, Err: err, Msg: fmt.Sprintf("open %s: %v", path, err)}
	} else {
		f.Close()
	}
	// No foreign_keys pragma: a row the session file could not link must not
	// stop the archive from taking the rest. Temporary files (the statement
	// journals of upserts in a transaction) stay in memory: on disk they
	// made a first copy of many sessions take half again as long.
	dsn := "file:" + record.EscapePath(path) + "?_pragma=busy_timeout(" + strconv.FormatInt(archiveBusyTimeout.Milliseconds(), 10) +
		")&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)" + record.LargePages
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, &Error{Kind: KindLocal, Err: err, Msg: fmt.Sprintf("open %s: %v", path, err)}
	}
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err == nil {
		_, err = c.ExecContext(ctx, JournalPragmas(t.Scratch))
		if err != nil {
			c.Close()
		}
	}
	if err != nil {
		db.Close()
		return nil, &Error{Kind: KindLocal, Err: err, Msg: fmt.Sprintf("open %s: %v", path, err)}
	}
	return &file{db: db, conn: c, stmts: map[string]*sql.Stmt{}}, nil
}

// JournalPragmas sets the journal of a connection to an archive file: WAL,
// so that readers and a writer do not wait for each other, or for a scratch
// file (Target.Scratch), a journal in memory without disk flushes. Either
// goes after the DSN's pragmas: see record.LargePages.
func JournalPragmas(scratch bool) string {
	if scratch {
		return "PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY"
	}
	return "PRAGMA journal_mode=WAL"
}

func (f *file) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return f.conn.QueryContext(ctx, q, args...)
}

func (f *file) apply(ctx context.Context, stmts []stmt) (err error) {
	// IMMEDIATE takes the write lock at once, so that two writers wait for
	// each other (busy_timeout) instead of failing on a lock upgrade.
	if _, err := f.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if err := f.exec(ctx, stmts); err != nil {
		return err
	}
	_, err = f.conn.ExecContext(ctx, "COMMIT")
	return err
}

// exec runs statements in the transaction that is open.
func (f *file) exec(ctx context.Context, stmts []stmt) (err error) {
	for _, s := range stmts {
		if len(s.args) == 0 {
			// Scripts (the schema) may hold several statements.
			if _, err := f.conn.ExecContext(ctx, s.sql); err != nil {
				return err
			}
			continue
		}
		p, ok := f.stmts[s.sql]
		if !ok {
			if p, err = f.conn.PrepareContext(ctx, s.sql); err != nil {
				return err
			}
			f.stmts[s.sql] = p
		}
		if _, err := p.ExecContext(ctx, s.args...); err != nil {
			return err
		}
	}
	return nil
}

func (f *file) close() error {
	for _, s := range f.stmts {
		s.Close()
	}
	return errors.Join(f.conn.Close(), f.db.Close())
}
