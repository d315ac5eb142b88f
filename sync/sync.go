// Package sync pushes convlog session files into one libSQL database: Turso
// Cloud, any libSQL server, or a local archive file. Every machine keeps its
// session files and pushes to the shared database; nobody runs a server of
// their own.
//
// Rows are upserted by primary key, so running a sync again never doubles
// anything. Rows travel in chunks bounded by bytes and rows; each chunk is
// one request holding BEGIN; …; COMMIT, so the target only ever holds whole
// chunks. After each chunk, a mark in the session file (table sync_marks,
// one row per target) records what the target has, so that the next run
// sends only what is new or changed, and a run that was interrupted
// resumes. The mark is the only thing a sync writes to a session file.
//
// Importers name this package cloudsync: its name shadows the standard
// library's sync.
package sync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/convlog/convlog/record"
)

// Options tune a sync; the zero value of each field means its default.
type Options struct {
	// Schema is convlog's schema (schema.sql), which the target is brought
	// to. Required.
	Schema *record.Schema
	// ChunkBytes bounds the estimated size of one request (default 2 MiB);
	// a single larger row goes alone.
	ChunkBytes int
	// ChunkRows bounds the rows in one request (default 1000).
	//
	// A file target takes each session file in one piece instead (see
	// attach.go); the bounds apply to a file only if it goes row by row.
	ChunkRows int
	// RequestTimeout bounds each request (default 30 s).
	RequestTimeout time.Duration
	// Retries is how often a request that failed in a way that may pass
	// (connection dropped mid-request, HTTP 5xx or 429) is tried again
	// (default 2; negative for none).
	Retries int
	// Full sends every row again, ignoring the marks of earlier runs: for a
	// target that was restored from an older backup under the same id.
	Full bool
	// OnSession is told when a session is done, found up to date, or failed.
	OnSession func(*SessionReport)
	// OnChunk is told after each chunk the target committed.
	OnChunk func(Progress)
	// Marks, when set, keeps this run's marks instead of the session files,
	// which are then only read (see MarkStore).
	Marks MarkStore
	// Tables, when set, limits the run to these tables: the others are
	// neither read nor sent, and their marks stay as they were, for a
	// later run to send. record.ToolsTable counts as a table here.
	Tables []string
}

// Progress is the state of a run after a committed chunk.
type Progress struct {
	Chunks int   // chunks committed so far
	Rows   int64 // rows in them
}

const (
	defaultChunkBytes     = 2 << 20
	defaultChunkRows      = 1000
	defaultRequestTimeout = 30 * time.Second
	defaultRetries        = 2
)

// Report says what a run did.
type Report struct {
	Target   string           `json:"target"`
	Migrated bool             `json:"migrated,omitempty"` // the target's schema was created or extended
	Sessions []*SessionReport `json:"sessions"`
	Rows     int64            `json:"rows"`     // rows sent in committed chunks
	Bytes    int64            `json:"bytes"`    // their estimated size on the wire
	Chunks   int              `json:"chunks"`   // committed chunks
	Requests int              `json:"requests"` // all requests, including schema checks and retries
	Elapsed  time.Duration    `json:"elapsed_ns"`
}

// SessionReport says what a run did with one session file.
type SessionReport struct {
	ID   string `json:"id"`
	Path string `json:"path"`
	// Todo is how many rows the session had to send at the start; Rows how
	// many of them the target committed.
	Todo int64 `json:"todo"`
	Rows int64 `json:"rows"`
	// Chunks is how many requests carried its rows.
	Chunks   int  `json:"chunks"`
	UpToDate bool `json:"up_to_date,omitempty"` // nothing needed sending
	Done     bool `json:"done"`                 // all of it is on the target
	// Err is why the session could not be synced; nil when Done.
	Err     error  `json:"-"`
	ErrText string `json:"error,omitempty"`
	// MarkErr is why the progress mark could not be saved: the sync
	// worked, but the next run sends these rows again.
	MarkErr     error  `json:"-"`
	MarkErrText string `json:"mark_error,omitempty"`
}

// Sync pushes the session files at paths to the target. A local problem
// with one file is reported in its SessionReport and the others go on; a
// problem with the target stops the run and is returned as an *Error, with
// the report of what was done before it.
func Sync(ctx context.Context, t Target, paths []string, opts Options) (*Report, error) {
	if opts.Schema == nil {
		return nil, errors.New("sync: Options.Schema is required")
	}
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = defaultChunkBytes
	}
	if opts.ChunkRows <= 0 {
		opts.ChunkRows = defaultChunkRows
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = defaultRequestTimeout
	}
	if opts.Retries == 0 {
		opts.Retries = defaultRetries
	} else if opts.Retries < 0 {
		opts.Retries = 0
	}
	s := &syncer{target: t, opts: opts, display: t.Display(), report: &Report{Target: t.Display()}}
	start := time.Now()
	err := s.run(ctx, paths)
	s.report.Elapsed = time.Since(start)
	return s.report, err
}

type syncer struct {
	target  Target
	opts    Options
	display string
	report  *Report
	conn    conn
	info    *targetInfo
	shapes  map[shapeKey]*shape
	chunk   []*row
	bytes   int
}

func (s *syncer) run(ctx context.Context, paths []string) error {
	var err error
	if s.target.IsFile() {
		s.conn, err = openFile(ctx, s.target)
	} else {
		s.conn, err = openRemote(s.target)
	}
	if err != nil {
		return err
	}
	defer s.conn.close()
	if s.info, err = s.prepareTarget(ctx); err != nil {
		return err
	}
	var open []*source // sources with rows in the unsent chunk
	for _, p := range paths {
		src, err := s.open(ctx, p)
		if err != nil {
			s.sessionDone(src)
			continue
		}
		if f, ok := s.conn.(*file); ok && src.rep.Todo >= attachMinRows {
			// Rows of earlier files that went row by row keep their order.
			if len(s.chunk) > 0 {
				if err := s.flush(ctx); err != nil {
					src.closeRead()
					return err
				}
				open = s.finishSources(open)
			}
			if s.copyAttached(ctx, f, src) {
				src.closeRead()
				s.sessionDone(src)
				continue
			}
		}
		open = append(open, src)
		for {
			r, err := src.next(ctx)
			if err != nil {
				src.fail(&Error{Kind: KindLocal, Err: err, Msg: fmt.Sprintf("read %s: %v", src.path, err)})
				break
			}
			if r == nil {
				break
			}
			if len(s.chunk) > 0 && (len(s.chunk) >= s.opts.ChunkRows || s.bytes+r.size > s.opts.ChunkBytes) {
				if err := s.flush(ctx); err != nil {
					src.closeRead()
					return err
				}
				open = s.finishSources(open)
			}
			s.chunk = append(s.chunk, r)
			s.bytes += r.size
			src.emitted++
		}
		src.exhausted = true
		src.closeRead()
		open = s.finishSources(open)
	}
	if len(s.chunk) > 0 {
		if err := s.flush(ctx); err != nil {
			return err
		}
	}
	s.finishSources(open)
	return nil
}

// finishSources reports the sources that are read to the end and whose
// rows are all committed, and returns the others.
func (s *syncer) finishSources(open []*source) []*source {
	keep := open[:0]
	for _, src := range open {
		if src.exhausted && src.committed == src.emitted {
			s.sessionDone(src)
			continue
		}
		keep = append(keep, src)
	}
	return keep
}

func (s *syncer) sessionDone(src *source) {
	rep := src.rep
	if rep.Err == nil {
		rep.Done = true
		rep.UpToDate = rep.Todo == 0
	} else {
		rep.ErrText = rep.Err.Error()
	}
	if rep.MarkErr != nil {
		rep.MarkErrText = rep.MarkErr.Error()
	}
	if s.opts.OnSession != nil {
		s.opts.OnSession(rep)
	}
}

// flush sends the chunk as one atomic request, then records in each session
// file what the target now has.
func (s *syncer) flush(ctx context.Context) error {
	if err := s.apply(ctx, s.statements(s.chunk)); err != nil {
		return err
	}
	s.report.Chunks++
	s.report.Rows += int64(len(s.chunk))
	s.report.Bytes += int64(s.bytes)
	var touched []*source
	for _, r := range s.chunk {
		if r.src.touched != s.report.Chunks {
			r.src.touched = s.report.Chunks
			r.src.rep.Chunks++
			touched = append(touched, r.src)
		}
		r.src.commit(r)
	}
	for _, src := range touched {
		src.saveMark(ctx, s)
	}
	s.chunk, s.bytes = s.chunk[:0], 0
	if s.opts.OnChunk != nil {
		s.opts.OnChunk(Progress{Chunks: s.report.Chunks, Rows: s.report.Rows})
	}
	return nil
}

// apply runs statements as one atomic request, trying again where that
// may help.
func (s *syncer) apply(ctx context.Context, stmts []stmt) error {
	return s.retry(ctx, func(ctx context.Context) error { return s.conn.apply(ctx, stmts) })
}

// read runs a query and hands each row to scan.
func (s *syncer) read(ctx context.Context, q string, args []any, scan func(*sql.Rows) error) error {
	return s.retry(ctx, func(ctx context.Context) error {
		rows, err := s.conn.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

func (s *syncer) retry(ctx context.Context, do func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
		err := do(rctx)
		cancel()
		s.report.Requests++
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		e := classify(err, s.display, s.target.Token, s.opts.RequestTimeout.String())
		if !e.Retry || attempt >= s.opts.Retries {
			return e
		}
		// Dropped connections and overloaded servers get a moment; the
		// nested-transaction case is already cleared and goes again at once.
		wait := 250 * time.Millisecond << (2 * attempt)
		if e.immediate {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return classify(ctx.Err(), s.display, s.target.Token, s.opts.RequestTimeout.String())
		case <-time.After(wait):
		}
	}
}
