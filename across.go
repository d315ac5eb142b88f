package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	cloudsync "github.com/convlog/convlog/sync"
)

// AcrossFlags are the flags of the commands that read all sessions at once
// (sql, stats): the local archive of the session folder, or a database that
// sessions were synced to.
type AcrossFlags struct {
	Dir     string        `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder of session files."`
	Archive string        `env:"CONVLOG_ARCHIVE" placeholder:"FILE" help:"The archive of all local sessions, brought up to date before each run (default: convlog.db in the parent folder of --dir)."`
	URL     string        `name:"url" placeholder:"URL" help:"Query this database instead of the local sessions: libsql://, https://, http:// (token from TURSO_AUTH_TOKEN), or file:PATH. For the synced database: --url \"$TURSO_DATABASE_URL\"."`
	Timeout time.Duration `env:"CONVLOG_SYNC_TIMEOUT" default:"30s" help:"With --url, give up on the database after this long."`
}

// acrossDB is the database a command across sessions reads.
type acrossDB struct {
	*sql.DB
	remote  *cloudsync.Target // set with --url
	timeout time.Duration
}

// wrap words an error of a query on the database.
func (a *acrossDB) wrap(err error) error {
	if err == nil || a.remote == nil {
		return err
	}
	return cloudsync.QueryError(err, *a.remote, a.timeout)
}

// ctx bounds a query on a remote database by --timeout.
func (a *acrossDB) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	if a.remote == nil {
		return context.WithCancel(parent)
	}
	return context.WithTimeout(parent, a.timeout)
}

// open brings the archive up to date and opens it read-only, or with --url
// opens that database. Files that could not be read are reported on stderr
// and left out. With no archive and no session files, the result is an
// empty database on the schema, so that every query has an empty answer.
func (f *AcrossFlags) open(env *Env) (*acrossDB, error) {
	ctx := env.Ctx
	if f.URL != "" {
		t := cloudsync.Target{URL: f.URL, Token: env.Getenv("TURSO_AUTH_TOKEN")}
		db, err := cloudsync.OpenQuery(ctx, t)
		if err != nil {
			return nil, err
		}
		return &acrossDB{DB: db, remote: &t, timeout: f.Timeout}, nil
	}
	path := archivePathFor(f.Dir, f.Archive)
	up, err := updateArchive(ctx, f.Dir, path, schema())
	if err != nil {
		return nil, err
	}
	for _, p := range up.Problems {
		fmt.Fprintf(env.Stderr, "convlog: warning: %v (left out)\n", p)
	}
	if !up.Exists {
		db, err := emptyDB(ctx)
		if err != nil {
			return nil, err
		}
		return &acrossDB{DB: db}, nil
	}
	db, err := openArchiveRead(ctx, up.Path)
	if err != nil {
		return nil, err
	}
	return &acrossDB{DB: db}, nil
}

// emptyDB is an in-memory database on the schema, read-only.
func emptyDB(ctx context.Context) (*sql.DB, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // each connection to :memory: is a database of its own
	db.SetConnMaxLifetime(0)
	db.SetMaxIdleConns(1)
	if _, err := db.ExecContext(ctx, schemaSQL); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
