package web

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// Store is where the web app finds sessions: the local session folder with
// its archive, or a database that sessions were synced to.
type Store interface {
	// Rows is the list of all sessions, newest first, as of the last
	// refresh; it asks for a refresh when that is old.
	Rows(ctx context.Context) ([]*Row, error)
	// Stats are the figures of convlog stats.
	Stats(ctx context.Context, r report.StatsRange) (*report.Stats, error)
	// Open opens one session; path is its file when it has one (a live
	// page follows it).
	Open(ctx context.Context, id string) (src Source, path string, err error)
	// Prompts fills in the first prompt of the rows that lack it.
	Prompts(ctx context.Context, rows []*Row) error
	// IsRunning says whether a convlog tee writes the row's session now.
	IsRunning(r *Row) bool
	// Describe says what is served, for the first line convlog serve
	// prints.
	Describe() string
	Close() error
}

// Row is a session in the list.
// Rows are shared by the requests that read them and never changed, but
// for the first prompt, which is looked up in the background.
type Row struct {
	S      *record.Session
	View   SessionView
	Agent  string
	Errors int64
	Prompt atomic.Pointer[string] // the first prompt; nil until looked up
	Path   string                 // its file, for a local session whose file is there
}

// Running says whether a convlog tee is writing the session of the file at
// path: no end is recorded, and the file is in use by another process, or
// it changed in the last 10 seconds.
func Running(path string, ended bool) bool {
	if ended || path == "" {
		return false
	}
	if inUse(path) {
		return true
	}
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) < 10*time.Second {
			return true
		}
	}
	return false
}

// snapshot is the list as read from a database at one refresh.
type snapshot struct {
	rows []*Row
	at   time.Time
}

// readRows reads every session row of db, and its count of failed tool
// calls.
func readRows(ctx context.Context, db querier) ([]*Row, error) {
	var rows []*Row
	err := scanRows(ctx, db, "SELECT * FROM sessions", nil, func(cols []string, vals []any) error {
		s := &record.Session{}
		agent := ""
		for i, c := range cols {
			lc := strings.ToLower(c)
			if set := sessionSetters[lc]; set != nil {
				set(s, vals[i])
			} else if lc == "agent" {
				agent = deref(asText(vals[i]))
			}
		}
		r := &Row{S: s, View: View(s, false)}
		r.Agent = r.View.Agent
		if agent != "" {
			r.Agent = agent
			r.View.Agent = agent
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Row, len(rows))
	for _, r := range rows {
		byID[r.S.ID] = r
	}
	err = scanRows(ctx, db, "SELECT session_id, count(*) FROM tool_calls WHERE status = 'error' GROUP BY session_id", nil,
		func(_ []string, vals []any) error {
			if r := byID[deref(asText(vals[0]))]; r != nil {
				r.Errors = derefInt(asInt(vals[1]))
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	// The estimates of sessions that reported no cost, model by model. A
	// database of an older schema has no usage rows: CostOf prices their
	// totals.
	if usage, err := record.ReadUsage(ctx, db, ""); err == nil {
		bySession := map[string][]record.UsageRow{}
		for _, u := range usage {
			bySession[u.SessionID] = append(bySession[u.SessionID], u)
		}
		for id, us := range bySession {
			if r := byID[id]; r != nil && r.S.TotalCostUSD == nil {
				r.S.EstimatedCostUSD, _ = report.EstimateCost(us)
				r.View.Cost, r.View.CostKind, r.View.CostNote = CostOf(r.S)
			}
		}
	}
	sortRows(rows, "started", true)
	return rows, nil
}

// promptBatch is how many sessions one query looks up the first prompt of.
const promptBatch = 200

// firstPrompts looks up the first prompt of each row without one: the text
// of the first user line that is not a sub-agent's and holds text, among
// the first lines of the session. Streams of `claude -p` carry no prompt
// unless it was given as stream-json input; those get "".
func firstPrompts(ctx context.Context, db querier, rows []*Row) error {
	var todo []*Row
	for _, r := range rows {
		if r.Prompt.Load() == nil {
			todo = append(todo, r)
		}
	}
	var p fastjson.Parser
	for len(todo) > 0 {
		batch := todo[:min(promptBatch, len(todo))]
		todo = todo[len(batch):]
		byID := make(map[string]*Row, len(batch))
		args := make([]any, len(batch))
		for i, r := range batch {
			byID[r.S.ID] = r
			args[i] = r.S.ID
		}
		found := map[string]string{}
		q := "SELECT session_id, raw_message FROM messages WHERE session_id IN (?" + strings.Repeat(",?", len(batch)-1) +
			") AND type = 'user' AND sequence < 64 ORDER BY session_id, sequence"
		err := scanRows(ctx, db, q, args, func(_ []string, vals []any) error {
			id := deref(asText(vals[0]))
			if _, ok := found[id]; ok {
				return nil
			}
			if text, ok := promptOf(&p, asBytes(vals[1])); ok {
				found[id] = text
			}
			return nil
		})
		if err != nil {
			return err
		}
		for id, r := range byID {
			text, ok := found[id]
			if !ok && r.S.Incomplete() {
				continue // it may come yet
			}
			text = strings.Join(strings.Fields(text), " ")
			if len(text) > 600 {
				text = strings.ToValidUTF8(text[:600], "")
			}
			r.Prompt.Store(&text)
		}
	}
	return nil
}

// promptOf is the text of a user line, if it is a prompt of the session.
func promptOf(p *fastjson.Parser, raw []byte) (string, bool) {
	v, err := p.ParseBytes(raw)
	if err != nil {
		return "", false
	}
	if pt := v.Get("parent_tool_use_id"); pt != nil && pt.Type() == fastjson.TypeString {
		return "", false
	}
	if v.GetBool("isSidechain") {
		return "", false
	}
	c := v.Get("message", "content")
	if c == nil {
		return "", false
	}
	if c.Type() == fastjson.TypeString {
		return string(c.GetStringBytes()), true
	}
	for _, b := range c.GetArray() {
		if string(b.GetStringBytes("type")) == "text" {
			return string(b.GetStringBytes("text")), true
		}
	}
	return "", false
}

// LocalStore serves the sessions of a folder: the list and the stats from
// the archive (brought up to date in the background, as convlog sql does
// before each query), each session from its own file, and sessions whose
// files were pruned from the archive.
type LocalStore struct {
	Dir     string
	arch    *archive.Archive
	warn    func(error)
	mu      sync.Mutex // guards db, empty, snap, warned
	db      *sql.DB
	empty   bool // db is an empty stand-in: no archive yet
	snap    *snapshot
	refresh chan struct{}
	warned  map[string]bool
	stop    context.CancelFunc
	done    chan struct{}
}

// refreshEvery is how old the list may be before a request asks for a
// refresh (which the request does not wait for).
const refreshEvery = 2 * time.Second

// OpenLocal opens the archive of dir (archivePath, or the default beside
// the folder), bringing it up to date first. warn gets the files that
// could not be read.
func OpenLocal(ctx context.Context, dir, archivePath string, schema *record.Schema, warn func(error)) (*LocalStore, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &MissingDirError{Dir: dir}
		}
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &MissingDirError{Dir: dir, NotDir: true}
	}
	s := &LocalStore{Dir: dir, arch: archive.Open(dir, archivePath, schema), warn: warn,
		refresh: make(chan struct{}, 1), warned: map[string]bool{}, done: make(chan struct{})}
	if err := s.update(ctx); err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.loop(bg)
	return s, nil
}

// MissingDirError is a session folder that is not there.
type MissingDirError struct {
	Dir    string
	NotDir bool
}

func (e *MissingDirError) Error() string {
	if e.NotDir {
		return "the session folder " + e.Dir + " is not a folder (set --dir or CONVLOG_DIR)"
	}
	return "no session folder " + e.Dir + " (set --dir or CONVLOG_DIR, or run convlog tee there first)"
}

// Describe names the folder.
func (s *LocalStore) Describe() string { return "the sessions of " + s.Dir }

// loop refreshes the list when a request asks, and looks up the first
// prompts of the sessions in the background, so that the first search of
// the list need not wait for them.
func (s *LocalStore) loop(ctx context.Context) {
	defer close(s.done)
	for {
		s.mu.Lock()
		db, rows := s.db, s.snap.rows
		s.mu.Unlock()
		if err := firstPrompts(ctx, db, rows); err != nil && ctx.Err() == nil {
			s.warnOnce(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.refresh:
		}
		if err := s.update(ctx); err != nil && ctx.Err() == nil {
			s.warnOnce(err)
		}
	}
}

func (s *LocalStore) warnOnce(err error) {
	s.mu.Lock()
	seen := s.warned[err.Error()]
	s.warned[err.Error()] = true
	s.mu.Unlock()
	if !seen && s.warn != nil {
		s.warn(err)
	}
}

// update brings the archive up to date and, when anything changed, reads
// the list again. The archive's own refusal (a database that cannot be
// opened) is an error; files that cannot be read are warnings.
func (s *LocalStore) update(ctx context.Context) error {
	s.mu.Lock()
	db, empty, old := s.db, s.empty, s.snap
	s.mu.Unlock()
	var read int
	if db == nil || empty {
		ndb, err := s.arch.Query(ctx, s.warnOnce)
		if err != nil {
			return err
		}
		// Query makes an empty stand-in when there is no archive yet.
		isEmpty := !fileExists(s.arch.Path)
		s.mu.Lock()
		if s.db != nil {
			s.db.Close()
		}
		s.db, s.empty, db = ndb, isEmpty, ndb
		s.mu.Unlock()
		read = 1
	} else {
		up, err := s.arch.Update(ctx)
		if err != nil {
			return err
		}
		for _, p := range up.Problems {
			s.warnOnce(p)
		}
		read = up.Read
	}
	if read == 0 && old != nil {
		s.mu.Lock()
		s.snap = &snapshot{rows: old.rows, at: time.Now()}
		s.mu.Unlock()
		return nil
	}
	rows, err := readRows(ctx, db)
	if err != nil {
		return err
	}
	keepPrompts(old, rows)
	for _, r := range rows {
		if p := filepath.Join(s.Dir, r.S.ID+".db"); fileExists(p) {
			r.Path = p
		}
	}
	s.mu.Lock()
	s.snap = &snapshot{rows: rows, at: time.Now()}
	s.mu.Unlock()
	return nil
}

// keepPrompts carries the prompts looked up for the old list over to the
// new one.
func keepPrompts(old *snapshot, rows []*Row) {
	if old == nil {
		return
	}
	prompts := make(map[string]*string, len(old.rows))
	for _, r := range old.rows {
		if p := r.Prompt.Load(); p != nil {
			prompts[r.S.ID] = p
		}
	}
	for _, r := range rows {
		if p := prompts[r.S.ID]; p != nil {
			r.Prompt.Store(p)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Rows is the list as of the last refresh; a list older than refreshEvery
// asks the background for a new one.
func (s *LocalStore) Rows(ctx context.Context) ([]*Row, error) {
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	if time.Since(snap.at) > refreshEvery {
		select {
		case s.refresh <- struct{}{}:
		default:
		}
	}
	return snap.rows, nil
}

// IsRunning says whether a convlog tee writes the row's session now.
func (s *LocalStore) IsRunning(r *Row) bool {
	return r.S.Incomplete() && Running(r.Path, false)
}

// Prompts looks up the first prompts the rows lack.
func (s *LocalStore) Prompts(ctx context.Context, rows []*Row) error {
	s.mu.Lock()
	db := s.db
	s.mu.Unlock()
	return firstPrompts(ctx, db, rows)
}

// Stats are the figures of convlog stats over the archive.
func (s *LocalStore) Stats(ctx context.Context, r report.StatsRange) (*report.Stats, error) {
	s.mu.Lock()
	db := s.db
	s.mu.Unlock()
	return report.CollectStats(ctx, db, r)
}

// Open opens the file of session id, or, for a session whose file is gone,
// its rows in the archive.
func (s *LocalStore) Open(ctx context.Context, id string) (Source, string, error) {
	if !record.IsPlainID(id) {
		return nil, "", ErrNoSession
	}
	path := filepath.Join(s.Dir, id+".db")
	if fileExists(path) {
		src, err := OpenFile(ctx, path)
		return src, path, err
	}
	s.mu.Lock()
	db := s.db
	s.mu.Unlock()
	return NewDBSource(db, id), "", nil
}

// Close stops the background refresh and closes the archive.
func (s *LocalStore) Close() error {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Close()
}

// DBStore serves a database that sessions were synced to (convlog serve
// --url): the list, the stats and each session from it. Nothing there is
// live: sessions reach it when they are synced.
type DBStore struct {
	DB    *sql.DB
	Name  string // the URL, for people (without the token)
	Wrap  func(error) error
	mu    sync.Mutex
	snap  *snapshot
	fresh time.Duration
}

// NewDBStore serves db, reading its list again when it is older than 10 s.
func NewDBStore(db *sql.DB, name string, wrap func(error) error) *DBStore {
	if wrap == nil {
		wrap = func(err error) error { return err }
	}
	return &DBStore{DB: db, Name: name, Wrap: wrap, fresh: 10 * time.Second}
}

// Describe names the database.
func (s *DBStore) Describe() string { return "the sessions of " + s.Name }

// Rows reads the list when it is older than 10 s.
func (s *DBStore) Rows(ctx context.Context) ([]*Row, error) {
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	if snap != nil && time.Since(snap.at) < s.fresh {
		return snap.rows, nil
	}
	rows, err := readRows(ctx, s.DB)
	if err != nil {
		if snap != nil {
			return snap.rows, nil
		}
		return nil, s.Wrap(err)
	}
	keepPrompts(snap, rows)
	s.mu.Lock()
	s.snap = &snapshot{rows: rows, at: time.Now()}
	s.mu.Unlock()
	return rows, nil
}

// Prompts looks up the first prompts the rows lack.
func (s *DBStore) Prompts(ctx context.Context, rows []*Row) error {
	return s.Wrap(firstPrompts(ctx, s.DB, rows))
}

// IsRunning is false: a synced session has no file here to follow.
func (s *DBStore) IsRunning(*Row) bool { return false }

// Stats are the figures of convlog stats over the database.
func (s *DBStore) Stats(ctx context.Context, r report.StatsRange) (*report.Stats, error) {
	st, err := report.CollectStats(ctx, s.DB, r)
	return st, s.Wrap(err)
}

// Open reads one session from the database.
func (s *DBStore) Open(ctx context.Context, id string) (Source, string, error) {
	return NewDBSource(s.DB, id), "", nil
}

// Close closes the database.
func (s *DBStore) Close() error { return s.DB.Close() }
