package cli

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/report"
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

// querier is what the statistics read: for a server, where each request
// is a round trip, one that sends their queries in one (report.Batcher).
func (a *acrossDB) querier() report.Querier {
	if a.remote != nil && !a.remote.IsFile() {
		return batcher{a}
	}
	return a.DB
}

// batcher is a server's database for the statistics.
type batcher struct{ *acrossDB }

func (b batcher) QueryBatch(ctx context.Context, queries []string, each func(int, report.Scanner) error) error {
	res, err := cloudsync.QueryBatch(ctx, *b.remote, queries)
	if err != nil {
		return err
	}
	for i, r := range res {
		for _, row := range r.Rows {
			if err := each(i, row); err != nil {
				return err
			}
		}
	}
	return nil
}

// ctx bounds a query on a remote database by --timeout.
func (a *acrossDB) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	if a.remote == nil {
		return context.WithCancel(parent)
	}
	return context.WithTimeout(parent, a.timeout)
}

// open brings the archive up to date and opens it read-only, seeing the
// sessions of --dir only, or with --url opens that database. Files that
// could not be read are reported on stderr and left out.
func (f *AcrossFlags) open(env *Env) (*acrossDB, error) { return f.openFor(env, false) }

// openFor is open; with summaries, only what the statistics read is brought
// up to date (archive.UpdateSummaries).
func (f *AcrossFlags) openFor(env *Env, summaries bool) (*acrossDB, error) {
	if f.URL != "" {
		t := cloudsync.Target{URL: f.URL, Token: env.Getenv("TURSO_AUTH_TOKEN")}
		db, err := cloudsync.OpenQuery(env.Ctx, t)
		if err != nil {
			return nil, err
		}
		return &acrossDB{DB: db, remote: &t, timeout: f.Timeout}, nil
	}
	if err := checkDir(f.Dir); err != nil {
		return nil, err
	}
	arch := archive.Open(f.Dir, f.Archive, env.Schema)
	query := arch.Query
	if summaries {
		query = arch.QuerySummaries
	}
	shown := followUpdate(env, arch)
	db, err := query(env.Ctx, func(p error) {
		shown()
		fmt.Fprintf(env.Stderr, "convlog: warning: %v (left out)\n", p)
	})
	shown()
	if err != nil {
		return nil, err
	}
	return &acrossDB{DB: db}, nil
}
