// Package archive keeps the one SQLite file, on convlog's schema, that holds
// every local session, so that a question across sessions is one query,
// with no ATTACH and its limit of ten files.
//
// It is filled by the sync engine with a file: target, so that it is a copy
// made exactly as a cloud database is, and it is brought up to date before
// each command that reads it.
//
// Bringing it up to date must cost next to nothing when nothing changed:
// the archive remembers the size and modification time of each session file
// (and of its -wal, where a running `convlog tee` writes) as it last took
// it in, in table archive_sources, and a file whose figures are the same is
// not opened at all. The engine's marks (how far each file was copied) are
// kept in the archive too, in table archive_marks, so that the session files
// are only ever read: no write and no disk flush per file, and their
// modification times keep meaning what their writers did. Sessions whose
// files were removed (convlog prune) stay in the archive: it is the history.
//
// The statistics read only each session's row, usage rows and tool figures
// (record.ToolsTable, which the engine keeps), and `convlog stats` brings
// only those up to date (see summaries.go). The archive also keeps an index
// that holds the tool calls' figures apart from the tools' large outputs
// (record.CreateStatsExtras), for the analytics scripts run through
// `convlog sql`; it is the archive's own, not in schema.sql: session files
// are written for speed.
package archive

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convlog/convlog/record"
	cloudsync "github.com/convlog/convlog/sync"
)

// Name is the archive's file name; it lives beside the session folder.
const Name = "convlog.db"

// sourcesDDL is the archive's one table of its own.
const sourcesDDL = `CREATE TABLE IF NOT EXISTS archive_sources (
  path       TEXT PRIMARY KEY, -- a session file, absolute
  size       INTEGER,          -- its size in bytes, when taken in whole
  mtime      INTEGER,          -- its modification time then, Unix ns
  wal_size   INTEGER,          -- the same of its -wal file; -1 when there was none
  wal_mtime  INTEGER,
  session_id TEXT,
  taken_at   INTEGER           -- Unix ms
)`

// marksDDL keeps the sync engine's marks for the archive.
const marksDDL = `CREATE TABLE IF NOT EXISTS archive_marks (
  path   TEXT,                   -- a session file, absolute
  target TEXT,                   -- the archive's id (table convlog_target)
  state  TEXT,                   -- the engine's mark: what the archive has of the file
  PRIMARY KEY (path, target)
)`

// marks is the cloudsync.MarkStore of the archive. It keeps the
// marks of a pass in memory and saves them together at its end (save):
// a commit on another connection to the archive makes the engine's
// connection drop its page cache at its next transaction, and a mark saved
// after every session file did that 300 times in the first update of 300
// files. Marks lost to a crash before save only make the next update copy
// those files again, which the upserts make harmless.
type markStore struct {
	db      *sql.DB
	unsaved map[[2]string]string // by path and target
}

func newMarks(db *sql.DB) *markStore {
	return &markStore{db: db, unsaved: map[[2]string]string{}}
}

func (m *markStore) LoadMark(ctx context.Context, path, target string) (string, error) {
	if state, ok := m.unsaved[[2]string{path, target}]; ok {
		return state, nil
	}
	var state string
	err := m.db.QueryRowContext(ctx, "SELECT state FROM archive_marks WHERE path = ? AND target = ?", path, target).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return state, err
}

func (m *markStore) SaveMark(_ context.Context, path, target, _, state string) error {
	m.unsaved[[2]string{path, target}] = state
	return nil
}

// save writes the marks kept since the last save, in one transaction.
func (m *markStore) save(ctx context.Context) error {
	if len(m.unsaved) == 0 {
		return nil
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO archive_marks (path, target, state) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer ins.Close()
	for k, state := range m.unsaved {
		if _, err := ins.ExecContext(ctx, k[0], k[1], state); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	clear(m.unsaved)
	return nil
}

// Archive is the archive of one session folder.
type Archive struct {
	Path   string // the archive's file
	Dir    string // the session folder
	schema *record.Schema
	// Progress, when set, is told how an update is getting on, so that a
	// long first one (20 s for 1 GB of sessions) can be shown:
	// the session files read of those to read (StageFiles), then the rows
	// indexed for search of those queued (StageIndex). Calls come from the
	// updating goroutine, done rising to total.
	Progress func(stage Stage, done, total int)
}

// Stage is a part of an archive update that Archive.Progress follows.
type Stage int

const (
	StageFiles Stage = iota // session files read into the archive
	StageIndex              // rows indexed for search
)

// Open names the archive of the session folder dir: the file given, else
// convlog.db in dir's parent folder (.turso/convlog.db for the default
// .turso/sessions). Nothing is read or made until it is used.
func Open(dir, given string, schema *record.Schema) *Archive {
	path := given
	if path == "" {
		path = filepath.Join(filepath.Dir(filepath.Clean(dir)), Name)
	}
	return &Archive{Path: path, Dir: dir, schema: schema}
}

// Key is what tells a changed session file from an unchanged one
// without reading it.
type Key struct {
	Size, Mtime, WalSize, WalMtime int64
}

// indexProgress is what the search index's drain tells of its progress.
func (a *Archive) indexProgress() func(done, total int) {
	if a.Progress == nil {
		return nil
	}
	return func(done, total int) { a.Progress(StageIndex, done, total) }
}

// statKey stats path and its -wal companion.
func statKey(path string) (Key, error) {
	return keyOf(func(p string) (int64, int64, error) {
		st, err := os.Stat(p)
		if err != nil {
			return 0, 0, err
		}
		return st.Size(), st.ModTime().UnixNano(), nil
	}, path, true)
}

// keyOf is the key of file name, from stat (its size and modification
// time in Unix ns). wal says whether its -wal may be there: SessionFiles
// knows from the folder's listing, so that the missing WAL of each settled
// session file costs no system call of its own (a search over 600
// sessions, 2 ms of CPU less: 55 → 53 ms). A WAL the listing missed (made
// just after it) leaves the key unlike the one the archive recorded and
// unlike the one after the pass, so the file is read again: never stale,
// at worst read once more.
func keyOf(stat func(name string) (size, mtime int64, err error), name string, wal bool) (Key, error) {
	k := Key{WalSize: -1}
	var err error
	if k.Size, k.Mtime, err = stat(name); err != nil {
		return Key{}, err
	}
	if wal {
		if size, mtime, err := stat(name + "-wal"); err == nil {
			k.WalSize, k.WalMtime = size, mtime
		}
	}
	return k, nil
}

// settled says whether key can be trusted to change when the file does. On
// a file system that keeps whole seconds only, a file written again within
// the same second keeps its time (and maybe its size), so a file that
// changed less than two seconds ago is read again next time.
func (k Key) settled(now time.Time) bool {
	recent := func(ns int64) bool { return ns%int64(time.Second) == 0 && now.UnixNano()-ns < int64(2*time.Second) }
	return !recent(k.Mtime) && (k.WalSize < 0 || !recent(k.WalMtime))
}

// SessionFile is one *.db file of the session folder.
type SessionFile struct {
	Path string // absolute
	Key  Key
}

// SessionFiles lists the *.db files of dir (absolute paths) with their
// keys, leaving out the archive itself should it live there. A folder that
// does not exist has none.
func SessionFiles(dir, archive string) ([]SessionFile, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	d, err := os.Open(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	all, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	names := make(map[string]bool, len(all))
	for _, de := range all {
		names[de.Name()] = true
	}
	fst := newFolderStat(d)
	var files []SessionFile
	for _, de := range all {
		name := de.Name()
		if de.IsDir() || !strings.HasSuffix(name, ".db") {
			continue
		}
		p := filepath.Join(abs, name)
		if p == archive {
			continue
		}
		k, err := keyOf(func(n string) (int64, int64, error) { return fst.stat(abs, n) }, name, names[name+"-wal"])
		if err != nil {
			continue // removed meanwhile
		}
		files = append(files, SessionFile{Path: p, Key: k})
	}
	return files, nil
}

// Updated says what bringing the archive up to date did.
type Updated struct {
	Path     string  // the archive, absolute
	Exists   bool    // false: no archive and no session files; nothing was created
	Files    int     // session files in the folder
	Read     int     // of them, new or changed, read into the archive
	Problems []error // files that could not be read, and so are not in it
}

// Update brings the archive up to date with the files of its session
// folder. Only files that are new or changed since the archive last
// took them in are read, through the sync engine.
//
// A file is marked as taken in only when a sync pass found it complete
// while its size and time stayed the same from before the pass to after
// it: then the archive holds all of it. A file that changed meanwhile (a
// running `convlog tee` writes it) gets a second pass at once; if it keeps
// changing, it is read again, from where the archive stopped, next time.
func (a *Archive) Update(ctx context.Context) (*Updated, error) {
	return a.update(ctx, false)
}

// update brings the archive up to date: whole, or with summaries set only
// what the statistics read (see UpdateSummaries).
func (a *Archive) update(ctx context.Context, summaries bool) (_ *Updated, err error) {
	dir, schema := a.Dir, a.schema
	abs, err := filepath.Abs(a.Path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if h := hint(err, abs); h != "" {
			err = fmt.Errorf("%w; %s", err, h)
		}
	}()
	up := &Updated{Path: abs}
	files, err := SessionFiles(dir, abs)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	up.Files = len(files)
	_, err = os.Stat(abs)
	missing := errors.Is(err, fs.ErrNotExist)
	if missing && len(files) == 0 {
		return up, nil
	}
	up.Exists = true
	// A new archive is built under a temporary name and put in place once
	// it is whole and on disk (see cloudsync.Target.Scratch).
	target := cloudsync.Target{URL: fileURL(abs)}
	build := ""
	if missing {
		removeDeadBuilds(abs)
		build = fmt.Sprintf("%s%s%d", abs, buildInfix, os.Getpid())
		// One left by a dead process that had this id: with no journal on
		// disk, what it wrote may not even be a sound database.
		removeBuild(build)
		target = cloudsync.Target{URL: fileURL(build), Scratch: true}
		defer func() {
			if build != "" {
				removeBuild(build)
			}
		}()
	}
	db, err := openRW(cmp.Or(build, abs), build != "")
	if err != nil {
		return nil, err
	}
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	for _, ddl := range []string{sourcesDDL, marksDDL, summariesDDL} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			return nil, fmt.Errorf("archive %s: %w", abs, err)
		}
	}
	if err := a.placeSessions(ctx, db, build != ""); err != nil {
		return nil, fmt.Errorf("archive %s: %w", abs, err)
	}
	known, err := filesIn(ctx, db, "archive_sources")
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", abs, err)
	}
	if err := mendSearch(ctx, db); err != nil { // search.go
		return nil, fmt.Errorf("archive %s: %w", abs, err)
	}
	var summarized map[string]Key
	if summaries {
		if summarized, err = filesIn(ctx, db, "archive_summaries"); err != nil {
			return nil, fmt.Errorf("archive %s: %w", abs, err)
		}
	}

	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	todo, gone := changes(files, absDir, known, summarized)
	// An archive made by an older convlog (or one that never took a file
	// in) gets the schema from the engine even when no file changed.
	var version int64
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return nil, fmt.Errorf("archive %s: %w", abs, err)
	}
	stale := version < record.SchemaVersion
	// So does one without the stats extras (see finishUpdate).
	st := &updateState{taken: map[string]takenFile{}, gone: gone, read: map[string]bool{}, stale: stale, summaries: summaries}
	if st.folder, err = a.Folder(); err != nil {
		return nil, err
	}
	if st.extras, err = record.HasStatsExtras(ctx, db); err != nil {
		return nil, fmt.Errorf("archive %s: %w", abs, err)
	}
	// And one without the tool figures, which the engine makes.
	tools, err := hasTable(ctx, db, record.ToolsTable)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", abs, err)
	}
	if len(todo) == 0 && len(gone) == 0 && !stale && st.extras && tools {
		if err := keepSearch(ctx, db, a.indexProgress()); err != nil {
			return nil, fmt.Errorf("archive %s: %w", abs, err)
		}
		return up, nil
	}
	up.Read = len(todo)
	if len(todo) == 0 && (stale || !tools) {
		if _, err := cloudsync.Sync(ctx, target, nil, cloudsync.Options{Schema: schema, Marks: newMarks(db)}); err != nil {
			return nil, fmt.Errorf("update the archive %s: %w", abs, err)
		}
	}

	marks := newMarks(db)
	for round := 0; round < 2 && len(todo) > 0; round++ {
		again, problems, err := pass(ctx, abs, target, schema, marks, todo, st, summaries, a.Progress)
		if err != nil {
			return nil, err
		}
		todo = again
		if round == 0 {
			up.Problems = problems
		}
	}
	if err := finishUpdate(ctx, db, st); err != nil {
		return nil, fmt.Errorf("archive %s: %w", abs, err)
	}
	if err := keepSearch(ctx, db, a.indexProgress()); err != nil {
		return nil, fmt.Errorf("archive %s: %w", abs, err)
	}
	if build != "" {
		err := db.Close()
		db = nil
		if err == nil {
			err = settleBuild(build, abs)
		}
		if err != nil {
			return nil, fmt.Errorf("archive %s: %w", abs, err)
		}
		build = ""
	}
	return up, nil
}

// changes are the files of the folder absDir that the archive must read
// (new, or changed since it took them in whole, or their summaries) and
// the paths of those it took in that are gone: their sessions stay, their
// figures go, so that a file made again under the same name is read.
func changes(files []SessionFile, absDir string, known, summarized map[string]Key) (todo []SessionFile, gone []string) {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.Path] = true
		if k, ok := known[f.Path]; ok && k == f.Key {
			continue
		}
		if k, ok := summarized[f.Path]; ok && k == f.Key {
			continue
		}
		todo = append(todo, f)
	}
	for p := range known {
		if filepath.Dir(p) == absDir && !seen[p] {
			gone = append(gone, p)
		}
	}
	for p := range summarized {
		if _, ok := known[p]; !ok && filepath.Dir(p) == absDir && !seen[p] {
			gone = append(gone, p)
		}
	}
	return todo, gone
}

// current opens the archive for queries, as query does, when it is up to
// date: none of update's reasons to write it holds. It reads only, on the
// connection the queries then use; update opens the archive for writing
// as well, its schema read again: 3 ms of CPU of a 40 ms search of 1 GB of
// sessions. It returns nil when update has work to do, or when something
// could not be read (update then says what).
func (a *Archive) current(ctx context.Context, summaries bool) *sql.DB {
	abs, err := filepath.Abs(a.Path)
	if err != nil {
		return nil
	}
	absDir, err := filepath.Abs(a.Dir)
	if err != nil {
		return nil
	}
	if _, err := os.Stat(abs); err != nil {
		return nil
	}
	files, err := SessionFiles(absDir, abs)
	if err != nil {
		return nil
	}
	folder, err := a.Folder()
	if err != nil {
		return nil
	}
	db, err := openScoped(ctx, abs, folder)
	if err != nil {
		return nil
	}
	if ok, err := upToDate(ctx, db, files, absDir, summaries); err != nil || !ok {
		db.Close()
		return nil
	}
	return db
}

// upToDate says whether update would find nothing to do in the archive
// db: its tables there, on the schema's version, every file of absDir
// taken in as it is now and none gone, the search index whole with
// nothing queued. A new reason for update to write must be checked here
// too: it asks the same questions on its own connection (both use changes).
func upToDate(ctx context.Context, db *sql.DB, files []SessionFile, absDir string, summaries bool) (bool, error) {
	tables := []string{"archive_sources", "archive_marks", "archive_summaries", "archive_folders", record.ToolsTable}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('"+
		strings.Join(tables, "', '")+"')").Scan(&n); err != nil || n != len(tables) {
		return false, err
	}
	var version int64
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version < record.SchemaVersion {
		return false, err
	}
	if extras, err := record.HasStatsExtras(ctx, db); err != nil || !extras {
		return false, err
	}
	known, err := filesIn(ctx, db, "archive_sources")
	if err != nil {
		return false, err
	}
	var summarized map[string]Key
	if summaries {
		if summarized, err = filesIn(ctx, db, "archive_summaries"); err != nil {
			return false, err
		}
	}
	if todo, gone := changes(files, absDir, known, summarized); len(todo) > 0 || len(gone) > 0 {
		return false, nil
	}
	if withoutSearch != "" {
		return true, nil
	}
	switch st, err := stateOfSearch(ctx, db); {
	case err != nil || st == searchBroken:
		return false, err
	case st == searchNone:
		return true, nil
	}
	queued, err := QueueLength(ctx, db)
	return queued == 0, err
}

// hint says what to do about an error in bringing the archive at
// abs up to date, when there is something to say.
func hint(err error, abs string) string {
	if err == nil {
		return ""
	}
	switch record.TroubleOf(err) {
	case record.NoSpace, record.IOTrouble:
		return "free some disk space, or keep the archive elsewhere with --archive or CONVLOG_ARCHIVE"
	case record.CannotWrite:
		return fmt.Sprintf("check that %s is writable, or keep the archive elsewhere with --archive or CONVLOG_ARCHIVE", filepath.Dir(abs))
	case record.LockedOut:
		return "another convlog is writing the archive; run this again when it is done"
	}
	return ""
}

// buildInfix joins an archive's name and a building process's id in the
// temporary name of a new archive.
const buildInfix = ".new-"

// settleBuild turns a newly built archive into the archive: in WAL mode
// like any other, flushed to disk, then put in place (and that flushed
// too), so that the archive is never seen half made.
//
// It is linked into place, never renamed over a file: when two processes
// build the archive at once, the second would replace a database that a
// third may already have open, whose -wal would then be read as this one's.
// The first build to finish stays; the other is dropped, which loses
// nothing, as both hold every session file there was.
func settleBuild(build, abs string) error {
	db, err := openRW(build, false)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	f, err := os.OpenFile(build, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	err = os.Link(build, abs)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: a rename, if there is still
		// nothing in the way.
		if _, serr := os.Lstat(abs); !errors.Is(serr, fs.ErrNotExist) {
			return err
		}
		if err := os.Rename(build, abs); err != nil {
			return err
		}
	}
	os.Remove(build)
	if d, err := os.Open(filepath.Dir(abs)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// removeDeadBuilds removes what builds of the archive at abs left when
// their process died (killed, or the machine stopped) before putting them
// in place.
func removeDeadBuilds(abs string) {
	ents, _ := os.ReadDir(filepath.Dir(abs))
	prefix := filepath.Base(abs) + buildInfix
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		for _, sfx := range sidecars {
			rest = strings.TrimSuffix(rest, sfx)
		}
		if pid, err := strconv.Atoi(rest); err == nil && pid > 0 && !processAlive(pid) {
			os.Remove(filepath.Join(filepath.Dir(abs), e.Name()))
		}
	}
}

// removeBuild removes a build and the files SQLite keeps beside it.
func removeBuild(build string) {
	os.Remove(build)
	for _, sfx := range sidecars {
		os.Remove(build + sfx)
	}
}

// sidecars are the endings of the files SQLite keeps beside a database.
var sidecars = []string{"-wal", "-shm", "-journal"}

// takenFile is a session file the archive holds whole.
type takenFile struct {
	key Key
	id  string
}

// updateState is what an archive update records at its end.
type updateState struct {
	taken  map[string]takenFile // files the archive holds whole, by path
	gone   []string             // files of the folder that were removed
	read   map[string]bool      // sessions the sync passes read, by id
	extras bool                 // the archive had its stats extras
	stale  bool                 // the archive was made by an older convlog
	folder string               // the folder the sessions read are placed in (Archive.Folder)
	// summaries: the files in taken are summarized, not taken in whole.
	summaries bool
}

// pass syncs files into the archive and notes in st the sessions it
// read and the files it holds whole. It returns the files to try again:
// those that changed while they were read, with their keys as they are now.
func pass(ctx context.Context, archive string, target cloudsync.Target, schema *record.Schema, marks *markStore, files []SessionFile, st *updateState, summaries bool, progress func(Stage, int, int)) (again []SessionFile, problems []error, err error) {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	reps := make(map[string]*cloudsync.SessionReport, len(files))
	opts := cloudsync.Options{Schema: schema, Marks: marks, OnSession: func(r *cloudsync.SessionReport) {
		reps[r.Path] = r
		if progress != nil {
			progress(StageFiles, len(reps), len(files))
		}
	}}
	if summaries {
		opts.Tables = summaryTables
	}
	_, err = cloudsync.Sync(ctx, target, paths, opts)
	// What was copied before a failure is kept, with its marks.
	if serr := marks.save(context.WithoutCancel(ctx)); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("update the archive %s: %w", archive, err)
	}
	now := time.Now()
	for _, f := range files {
		r := reps[f.Path]
		if r != nil && r.ID != "" {
			// Even a file that failed half way may have sent rows.
			st.read[r.ID] = true
		}
		after, serr := statKey(f.Path)
		switch {
		case serr != nil:
			// Removed meanwhile: whatever was read is in the archive.
		case r == nil:
			again = append(again, SessionFile{Path: f.Path, Key: after})
		case r.Err != nil:
			problems = append(problems, r.Err)
		case after == f.Key && f.Key.settled(now):
			st.taken[f.Path] = takenFile{key: f.Key, id: r.ID}
		default:
			again = append(again, SessionFile{Path: f.Path, Key: after})
		}
	}
	return again, problems, nil
}

// fileURL is the file: URL of an absolute path, with the characters that
// a URL would read otherwise escaped.
func fileURL(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(p))
}

// openRW opens the archive for convlog's own bookkeeping, creating
// it private to its owner; scratch is for a new archive being built (see
// cloudsync.Target.Scratch).
func openRW(path string, scratch bool) (*sql.DB, error) {
	if err := record.MakeDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("create the folder of %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the archive: %w", err)
	}
	f.Close()
	dsn := "file:" + escapeDSNPath(path) + "?_pragma=busy_timeout(" + strconv.FormatInt(wait.Milliseconds(), 10) +
		")&_pragma=synchronous(NORMAL)" + record.LargePages
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(cloudsync.JournalPragmas(scratch)); err != nil {
		db.Close()
		return nil, fmt.Errorf("open the archive: %w", err)
	}
	return db, nil
}

// wait is how long convlog waits for another process that is
// writing the archive (another convlog sql or stats bringing it up to date).
const wait = 10 * time.Second

// escapeDSNPath keeps a path from being read as URI syntax in a DSN.
func escapeDSNPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(p)
}

// hasTable says whether db has a table of that name.
func hasTable(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n)
	return n > 0, err
}

// filesIn reads the files an archive table records (archive_sources,
// archive_summaries) with the keys they had when it recorded them.
func filesIn(ctx context.Context, db *sql.DB, table string) (map[string]Key, error) {
	rows, err := db.QueryContext(ctx, "SELECT path, size, mtime, wal_size, wal_mtime FROM "+table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	known := map[string]Key{}
	for rows.Next() {
		var p string
		var k Key
		if err := rows.Scan(&p, &k.Size, &k.Mtime, &k.WalSize, &k.WalMtime); err != nil {
			return nil, err
		}
		known[p] = k
	}
	return known, rows.Err()
}

// finishUpdate, in one transaction, saves the figures of the files taken
// in, forgets those of files that are gone, and brings the stats extras up
// to date: made for every session when the archive has none yet, else
// remade for the sessions read. A crash before it commits leaves the files
// untaken, so that the next update reads them, and their usage, again.
func finishUpdate(ctx context.Context, db *sql.DB, st *updateState) (err error) {
	if len(st.taken) == 0 && len(st.gone) == 0 && len(st.read) == 0 && st.extras && !st.stale {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// IMMEDIATE: wait for another writer (busy_timeout) rather than fail
	// on upgrading a read lock.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if err := keepStatsExtras(ctx, conn, st); err != nil {
		return err
	}
	if err := placeRead(ctx, conn, st); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	table := "archive_sources"
	if st.summaries {
		table = "archive_summaries"
	}
	for p, t := range st.taken {
		if _, err := conn.ExecContext(ctx, `INSERT OR REPLACE INTO `+table+` (path, size, mtime, wal_size, wal_mtime, session_id, taken_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, p, t.key.Size, t.key.Mtime, t.key.WalSize, t.key.WalMtime, t.id, now); err != nil {
			return err
		}
		if !st.summaries {
			// Held whole, it needs no summary of its own.
			if _, err := conn.ExecContext(ctx, "DELETE FROM archive_summaries WHERE path = ?", p); err != nil {
				return err
			}
		}
	}
	for _, p := range st.gone {
		for _, q := range []string{"DELETE FROM archive_sources WHERE path = ?", "DELETE FROM archive_summaries WHERE path = ?",
			"DELETE FROM archive_marks WHERE path = ?"} {
			if _, err := conn.ExecContext(ctx, q, p); err != nil {
				return err
			}
		}
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// Holds reports, for each of files, whether the archive holds the file
// whole as it is now: its figures in archive_sources match. A missing
// archive holds nothing.
func (a *Archive) Holds(ctx context.Context, files []SessionFile) (map[string]bool, error) {
	held := map[string]bool{}
	if _, err := os.Stat(a.Path); errors.Is(err, fs.ErrNotExist) {
		return held, nil
	}
	db, err := openRead(ctx, a.Path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	known, err := filesIn(ctx, db, "archive_sources")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if k, ok := known[f.Path]; ok && k == f.Key {
			held[f.Path] = true
		}
	}
	return held, nil
}

// openRead opens the archive read-only: mode=ro, and query_only so
// that SQLite refuses every write in any case.
func openRead(ctx context.Context, path string) (*sql.DB, error) {
	dsn := "file:" + escapeDSNPath(path) + "?mode=ro&_pragma=query_only(1)&_pragma=temp_store(MEMORY)&_pragma=busy_timeout(" +
		strconv.FormatInt(wait.Milliseconds(), 10) + ")"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open the archive %s: %w", path, err)
	}
	return db, nil
}

// Query brings the archive up to date and opens it read-only for queries
// across the sessions of its folder: the tables sessions, messages and
// tool_calls are views of that folder's rows (see scopeViews). Files that
// could not be read are passed to problem and left out. With no archive
// and no session files, the result is an empty database on the schema, so
// that every query has an empty answer.
func (a *Archive) Query(ctx context.Context, problem func(error)) (*sql.DB, error) {
	return a.query(ctx, problem, false)
}

func (a *Archive) query(ctx context.Context, problem func(error), summaries bool) (*sql.DB, error) {
	if db := a.current(ctx, summaries); db != nil {
		return db, nil
	}
	up, err := a.update(ctx, summaries)
	if err != nil {
		return nil, err
	}
	for _, p := range up.Problems {
		problem(p)
	}
	if !up.Exists {
		return emptyDB(ctx, a.schema.SQL)
	}
	folder, err := a.Folder()
	if err != nil {
		return nil, err
	}
	return openScoped(ctx, up.Path, folder)
}

// emptyDB is an in-memory database on the schema, read-only.
func emptyDB(ctx context.Context, schema string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // each connection to :memory: is a database of its own
	db.SetConnMaxLifetime(0)
	db.SetMaxIdleConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
