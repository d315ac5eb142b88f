package record

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"modernc.org/sqlite"

	"github.com/convlog/convlog/stream"
)

// Meta is what is known of a session before its first line.
type Meta struct {
	ID           string
	StartedAt    int64 // Unix ms; 0 when not known
	Model        string
	Mode         string
	PromptLength int64 // -1 when not given
	CWD          string
	GitHubRunID  string
	GitHubRepo   string
	GitHubRef    string
	Source       string // "tee" or "import"
	SourceFormat string // "stream-json" or "transcript"
	SourcePath   string
	SourceSize   int64
	SourceMtime  int64 // Unix ms
}

// Writer writes one session into its own file. It implements stream.Sink;
// rows go into an open transaction that Commit ends. A failed write does not
// stop the Writer: the transaction's lines are counted as dropped, Warn is
// told, and the next line starts a new transaction, unless the failure
// broke the file (broken).
type Writer struct {
	Path string
	meta Meta

	db   *sql.DB
	conn *sql.Conn
	ctx  context.Context

	insMsg, insTool, updTool *rawStmt // the statements that carry a line's bytes
	updSession               *sql.Stmt
	delUsage, insUsage       *sql.Stmt

	// What the usage rows were last written from (Facts.UsageGen and the
	// session's model): they are written again only when that changes.
	usageGen   int64
	usageModel string

	ckpt            *checkpointer
	noCkpt          bool // the checkpointer could not be started
	inTx            bool // a transaction is open
	txFailed        bool // the line at hand is being dropped
	txMsgs, txUses  int64
	txBytes         int64 // written in the open transaction (roughly)
	walBytes        int64 // committed since the last checkpoint request
	walSinceRestart int64 // committed since the WAL was last started afresh
	wal             bool  // the file is written in WAL mode
	bulk            bool  // an import's file, written for speed (CreateFile)
	written         int64 // line bytes committed so far
	grown           bool  // the switch to large pages was made or tried
	lockedOut       bool  // a transaction gave up waiting for a lock (LockWait)
	// broken: a write failed in a way that later ones would not mend (a
	// full disk, an I/O error, a file that cannot be written). From the
	// failed transaction on, every line is dropped: what the file holds is
	// the start of the stream without a gap, and the count of lines not
	// logged is the rest. The session row is still brought up to date
	// when the file takes it.
	broken bool
	room   int64 // what Room said last

	// Committed row counts and lines lost to failed writes.
	Messages, ToolCalls, Dropped int64

	// Warn is told of every failed write; callers decide how loud to be.
	Warn func(error)
	// Err is the first failed write, if any.
	Err error
}

// ErrExists is returned by Create when the session file is already there.
var ErrExists = errors.New("session file already exists")

// Create makes dir (0700) and the session file <dir>/<id>.db (0600) with the
// schema and the session row.
//
// The file is made complete under a temporary name, already in WAL mode, and
// then linked into place: a reader that looks at the folder at that moment
// (convlog list, an archive update) sees either no file or a whole one, and
// never holds the lock that switching a file to WAL needs.
func Create(ctx context.Context, dir string, schema *Schema, meta Meta) (*Writer, error) {
	if err := MakeDir(dir); err != nil {
		return nil, err
	}
	final := filepath.Join(dir, meta.ID+".db")
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("%s: %w", final, ErrExists)
	}
	if odd := oddCompanion(final); odd != "" {
		// SQLite would refuse it only once the file is in place, and leave
		// a session file that nothing can open.
		return nil, fmt.Errorf("%s: %s, which SQLite does not follow; remove it, or choose another --session-id", final, odd)
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.db.new-%d-%d", meta.ID, os.Getpid(), tmpSeq.Add(1)))
	w, err := CreateFile(ctx, tmp, schema, meta, false)
	if err != nil {
		return nil, err
	}
	w.closeDB() // checkpoints and removes the WAL; the file stays in WAL mode
	err = os.Link(tmp, final)
	os.Remove(tmp)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: %w", final, ErrExists)
		}
		return nil, err
	}
	if testHookLinked != nil {
		testHookLinked(final)
	}
	w, err = reopen(ctx, final, meta)
	if err != nil {
		os.Remove(final) // made just now, empty: no stray file that cannot be read
	}
	return w, err
}

// CreateFile makes a session file at path, which must not exist. With bulk,
// the file is written for speed, not for crash safety: for a file that is
// renamed into place only once it is complete.
func CreateFile(ctx context.Context, path string, schema *Schema, meta Meta, bulk bool) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrExists)
		}
		return nil, err
	}
	f.Close()
	w, err := open(ctx, path, schema, meta, bulk)
	if err != nil {
		os.Remove(path)
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
		return nil, err
	}
	return w, nil
}

// reopen opens a session file made by CreateFile for more writing.
func reopen(ctx context.Context, path string, meta Meta) (*Writer, error) {
	db, err := sql.Open("sqlite", DSN(path, false)+writerCache)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	w := &Writer{Path: path, meta: meta, db: db, ctx: context.Background(), wal: true, room: math.MaxInt64}
	if w.conn, err = db.Conn(ctx); err == nil {
		err = w.prepare(ctx, false)
	}
	if err != nil {
		w.closeDB()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return w, nil
}

// Checkpoints: how much is written to the WAL before a checkpoint is asked
// for, while lines keep coming (checkpointInterval) and in a pause of the
// stream (pauseCheckpoint), and how much between the checkpoints that the
// writer waits for (walRestartAfter).
//
// Copying the WAL into the file while lines pass through slows them, at
// whatever priority it runs: with 10 KB lines a millisecond, a 2000-line
// round with a 16 MB checkpoint in it had a p99 latency of 1.69-1.83x tee's,
// against 1.50-1.59x with none (medians of 20 interleaved rounds, four
// times; 55 of the 80 rounds were faster without). Smaller, more frequent
// checkpoints and checkpoints without fsync cost the same. An agent's
// stream pauses often (the model thinking, a tool running), and a
// checkpoint in a pause costs nothing, so the Logger asks for one there
// (Writer.Pause); a stream without pauses is checkpointed every 48 MB.
const (
	checkpointInterval = 48 << 20
	pauseCheckpoint    = 1 << 20
	walRestartAfter    = 128 << 20
)

// checkpointer copies the WAL into the database file on a connection of its
// own, so that the logger never waits for it: the copying (and the fsync of
// synchronous=NORMAL) runs on the other core while the next lines are
// inserted. PASSIVE checkpoints never block the writer.
type checkpointer struct {
	db   *sql.DB // its own, so that stopping it really closes the connection
	kick chan struct{}
	done chan struct{}
}

func startCheckpointer(ctx context.Context, path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", DSN(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for range c.kick {
			db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}()
	return c, nil
}

// request asks for a checkpoint; one already asked for is enough.
func (c *checkpointer) request() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// stop waits for a running checkpoint and closes the connection: the
// writer's switch back to a rollback journal needs the file to itself.
func (c *checkpointer) stop() error {
	close(c.kick)
	<-c.done
	return c.db.Close()
}

// MakeDir creates a session folder, private to its owner.
func MakeDir(dir string) error {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// MkdirAll's mode passes through the umask; a session folder is 0700
	// whatever the umask says.
	return os.Chmod(dir, 0o700)
}

func open(ctx context.Context, path string, schema *Schema, meta Meta, bulk bool) (*Writer, error) {
	db, err := sql.Open("sqlite", dsn(path, false, bulk, !bulk))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	w := &Writer{Path: path, meta: meta, db: db, ctx: context.Background(), wal: !bulk, bulk: bulk, room: math.MaxInt64}
	if err := w.init(ctx, schema, bulk); err != nil {
		w.closeDB()
		return nil, err
	}
	if err := w.prepare(ctx, bulk); err != nil {
		// Closed here, statements and all, so that the caller can remove
		// the file: SQLite keeps a connection open while any statement
		// prepared on it is not finalized.
		w.closeDB()
		return nil, err
	}
	return w, nil
}

// Page sizes. Large pages cut the number of writes per byte (a stream is
// mostly multi-KB lines), but they cost 64 KiB per table and index: an empty
// session file is 13 pages, 832 KiB with large pages and 52 KiB with small
// ones, and writing and then compacting those took a third of a 10-line
// tee's time. So a stream starts with small pages and switches to large ones
// once it has logged growAt (grow); an import, which knows its size up
// front, picks at once. A session that ends below compactBelow with large
// pages is compacted to small ones when it finishes.
const (
	writePageSize   = 65536
	compactPageSize = 4096
	compactBelow    = 8 << 20
	growAt          = 256 << 10
	// growRoom is the least room (measureRoom) in which a stream's file
	// switches to large pages, and growMax the most it may hold by then.
	growRoom = 64 << 20
	growMax  = 32 << 20
)

func (w *Writer) init(ctx context.Context, schema *Schema, bulk bool) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	w.conn = conn
	// Nobody else knows this file yet: the page size can still be chosen,
	// and WAL switched on.
	pages := compactPageSize
	if bulk && (w.meta.SourceSize <= 0 || w.meta.SourceSize >= compactBelow/2) {
		pages = writePageSize
	}
	pragmas := []string{"PRAGMA page_size=" + strconv.Itoa(pages)}
	if bulk && pages == compactPageSize {
		pragmas = append(pragmas, "PRAGMA cache_size="+strconv.Itoa(smallBulkCache))
	}
	if !bulk {
		pragmas = append(pragmas, "PRAGMA journal_mode=WAL")
	}
	for _, q := range pragmas {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := schema.Ensure(ctx, conn); err != nil {
		conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	m := w.meta
	_, err = conn.ExecContext(ctx, `INSERT INTO sessions
		(id, started_at, model, mode, prompt_length, cwd, github_run_id, github_repository, github_ref,
		 total_messages, total_tool_calls, source, source_format, source_path, source_size, source_mtime, lines_dropped)
		VALUES (?,?,?,?,?,?,?,?,?,0,0,?,?,?,?,?,0)`,
		m.ID, nullInt(m.StartedAt), nullStr(m.Model), nullStr(m.Mode), nullNonNeg(m.PromptLength), nullStr(m.CWD),
		nullStr(m.GitHubRunID), nullStr(m.GitHubRepo), nullStr(m.GitHubRef),
		nullStr(m.Source), nullStr(m.SourceFormat), nullStr(m.SourcePath), nullInt(m.SourceSize), nullInt(m.SourceMtime))
	if err != nil {
		conn.ExecContext(ctx, "ROLLBACK")
		return fmt.Errorf("insert session: %w", err)
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// prepare readies the connection for writing lines: its pragmas (which are
// per connection) and the statements.
func (w *Writer) prepare(ctx context.Context, bulk bool) error {
	conn := w.conn
	// Foreign keys are declared in the schema but not enforced here: the
	// writer keeps them by construction, and enforcing them makes SQLite keep
	// a statement journal (a copy of every page touched) for each insert.
	// For the same reason the inserts say OR FAIL rather than the default
	// OR ABORT: a failing statement need not undo its earlier changes, as
	// the whole transaction is rolled back anyway.
	_, err := conn.ExecContext(ctx, "PRAGMA foreign_keys=OFF")
	if err == nil && !bulk {
		// Checkpoints are the checkpointer's, not this connection's.
		_, err = conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint=0")
	}
	var handle uintptr
	if err == nil {
		handle, err = connHandle(ctx, conn)
	}
	prepRaw := func(q string) *rawStmt {
		if err != nil {
			return nil
		}
		var s *rawStmt
		s, err = prepareRaw(handle, q)
		return s
	}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = conn.PrepareContext(ctx, q)
		return s
	}
	w.insMsg = prepRaw(`INSERT OR FAIL INTO messages (id, session_id, sequence, timestamp, type, subtype, raw_message,
		parent_tool_use_id, api_message_id, is_sidechain) VALUES (?,?,?,?,?,?,?,?,?,?)`)
	w.insTool = prepRaw(`INSERT OR IGNORE INTO tool_calls (id, tool_use_id, session_id, message_id, sequence, timestamp, tool_name,
		tool_input, status, parent_tool_use_id) VALUES (?1,?1,?2,?3,?4,?5,?6,?7,'pending',?8)`)
	w.updTool = prepRaw(`UPDATE OR FAIL tool_calls SET status=?, duration_ms=?, tool_output=?, error=?,
		result_message_id=?, completed_at=? WHERE id=? AND session_id=? AND status='pending'`)
	w.updSession = prep(`UPDATE sessions SET model=coalesce(?, model), cwd=coalesce(?, cwd),
		prompt_length=coalesce(prompt_length, ?), agent_session_id=?, agent_version=?, git_branch=?,
		result_type=?, result_subtype=?, is_error=?, num_turns=?, total_cost_usd=?,
		input_tokens=?, output_tokens=?, cache_creation_input_tokens=?, cache_read_input_tokens=?,
		total_messages=?, total_tool_calls=?, lines_dropped=?, redactions=?,
		agent=coalesce(?, agent), source_format=coalesce(?, source_format),
		started_at=coalesce(started_at, ?), ended_at=coalesce(?, ended_at), duration_ms=coalesce(?, duration_ms)
		WHERE id=?`)
	w.delUsage = prep("DELETE FROM " + UsageTable + " WHERE session_id = ?")
	w.insUsage = prep(usageInsert)
	return err
}

// testHookLinked is called when a new session file has appeared under its
// final name.
var testHookLinked func(path string)

// ID is the session id.
func (w *Writer) ID() string { return w.meta.ID }

// begin makes sure that a transaction is open for the rows of a line, and
// reports whether one is: not when an earlier row of the line failed (the
// line is dropped whole), nor once the file is broken.
func (w *Writer) begin() bool {
	if w.txFailed {
		return false
	}
	if w.inTx {
		return true
	}
	if w.broken {
		w.drop()
		return false
	}
	if err := w.beginImmediate(); err != nil {
		w.fail(err)
		w.drop()
		return false
	}
	w.inTx = true
	return true
}

// drop gives up the lines of the transaction, which is not open (any more):
// they are counted as dropped, and so is the rest of the line at hand. The
// next line tries again.
func (w *Writer) drop() {
	w.Dropped += w.txMsgs
	w.txMsgs, w.txUses, w.txBytes = 0, 0, 0
	w.txFailed = true
}

// LockWait is how long a transaction waits for a lock that another process
// holds on the session file before its lines are given up. Lines wait for
// the lock in memory meanwhile (the Copier bounds how long the input waits
// for them), so a lock shorter than this costs nothing. Once a transaction
// has given up, the next ones do not wait at all until one gets the lock:
// otherwise each batch of lines behind it would wait as long again, and a
// lock that outlasts the stream would hold up its end for as long.
const LockWait = 10 * time.Second

// beginImmediate starts a write transaction, waiting for a lock as LockWait
// says.
func (w *Writer) beginImmediate() error {
	deadline := time.Now().Add(LockWait)
	for {
		_, err := w.conn.ExecContext(w.ctx, "BEGIN IMMEDIATE")
		if err == nil {
			if w.lockedOut {
				w.lockedOut = false
				w.conn.ExecContext(w.ctx, "PRAGMA busy_timeout="+strconv.FormatInt(BusyTimeout.Milliseconds(), 10))
			}
			return nil
		}
		if !isBusy(err) {
			return err
		}
		if w.lockedOut || !time.Now().Before(deadline) {
			if !w.lockedOut {
				w.lockedOut = true
				w.conn.ExecContext(w.ctx, "PRAGMA busy_timeout=0")
			}
			return err
		}
		// Each try waits BusyTimeout in SQLite's busy handler.
	}
}

// isBusy reports whether err is SQLite's "database is locked": another
// connection holds a lock that this one needs.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
}

// SQLite's result codes for failures that are about one transaction, not
// the file: the next transaction may well succeed.
const (
	sqliteNoMem  = 7
	sqliteTooBig = 18
)

// breaks reports whether a failed write breaks the file (Writer.broken). A
// lock passes, and a line too big for SQLite says nothing of the next one:
// the lines after those are logged.
func breaks(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteNoMem, sqliteTooBig:
			return false
		}
	}
	return true
}

func (w *Writer) fail(err error) {
	if breaks(err) {
		w.broken = true
	}
	if w.Err == nil {
		w.Err = err
	}
	if w.Warn != nil {
		w.Warn(err)
	}
}

// Message implements stream.Sink.
func (w *Writer) Message(m *stream.Message) {
	w.txFailed = false // a new line
	w.txMsgs++
	w.txBytes += int64(len(m.Raw))
	if !w.begin() {
		return
	}
	raw := blobArg(m.Raw) // a line that is not UTF-8 is kept byte-exact as a BLOB
	if m.UTF8 {
		raw = textArg(m.Raw)
	}
	err := w.insMsg.exec(strArg(w.messageID(m.Seq)), strArg(w.meta.ID), intArg(m.Seq), optIntArg(m.Time),
		optStrArg(m.Type), optStrArg(m.Subtype), raw, optStrArg(m.ParentToolUseID), optStrArg(m.APIMessageID),
		cond(m.Sidechain >= 0, intArg(int64(m.Sidechain))))
	if err != nil {
		w.txFail(err)
	}
}

// ToolUse implements stream.Sink.
func (w *Writer) ToolUse(u *stream.ToolUse) {
	if !w.begin() {
		return
	}
	err := w.insTool.exec(strArg(u.ID), strArg(w.meta.ID), strArg(w.messageID(u.MessageSeq)), intArg(u.Seq), optIntArg(u.Time),
		optStrArg(u.Name), optTextArg(u.Input), optStrArg(u.ParentToolUseID))
	if err != nil {
		w.txFail(err)
		return
	}
	w.txUses++
}

// ToolResult implements stream.Sink.
func (w *Writer) ToolResult(r *stream.ToolResult) {
	if !w.begin() {
		return
	}
	// SQLite reads the Processor's buffer in place.
	out := textArg(r.Output)
	status, errText := "success", nullArg()
	if r.IsError {
		status, errText = "error", out
		if r.ErrorText != nil {
			errText = textArg(r.ErrorText)
		}
	}
	err := w.updTool.exec(strArg(status), cond(r.DurationMS >= 0, intArg(r.DurationMS)), out, errText,
		strArg(w.messageID(r.MessageSeq)), optIntArg(r.Time), strArg(r.ID), strArg(w.meta.ID))
	if err != nil {
		w.txFail(err)
	}
}

func (w *Writer) messageID(seq int64) string {
	return w.meta.ID + "-msg-" + strconv.FormatInt(seq, 10)
}

func (w *Writer) txFail(err error) {
	w.fail(err)
	w.conn.ExecContext(w.ctx, "ROLLBACK")
	w.inTx = false
	w.drop()
}

// Commit ends the open transaction, bringing the session row up to date
// with f. Lines of a failed transaction are counted as dropped.
func (w *Writer) Commit(f *stream.Facts) {
	w.commit(f, 0, false)
	if !w.bulk && !w.grown && !w.broken && w.written >= growAt {
		w.grow()
	}
}

func (w *Writer) commit(f *stream.Facts, endedAt int64, final bool) {
	w.txFailed = false
	if w.broken && !final {
		// The session row is brought up to date once, at the end: taken
		// in between, its count of lines not logged would be out of date
		// for good once the file takes nothing more.
		return
	}
	if !w.inTx {
		// No lines, or they were dropped: the session row alone.
		if err := w.beginImmediate(); err != nil {
			w.fail(err)
			return
		}
		w.inTx = true
	}
	msgs, uses := w.Messages+w.txMsgs, w.ToolCalls+w.txUses
	err := w.updateSession(f, msgs, uses, endedAt)
	if err == nil {
		_, err = w.conn.ExecContext(w.ctx, "COMMIT")
	}
	if err != nil {
		w.txFail(err)
		w.txFailed = false
		w.usageGen = -1 // rolled back with the rest
		return
	}
	w.inTx = false
	w.Messages, w.ToolCalls = msgs, uses
	w.walWritten(w.txBytes)
	w.written += w.txBytes
	w.txMsgs, w.txUses, w.txBytes = 0, 0, 0
}

// grow switches a stream's file to large pages once it is big enough for
// them to pay: out of WAL mode (which fixes the page size), VACUUM, and back.
// It runs between transactions, once, on the logger's side of tee; the
// pass-through does not wait for it. It is best effort: a reader that has
// the file open keeps it from leaving WAL mode, and then the file keeps its
// small pages, which cost speed, not data.
func (w *Writer) grow() {
	w.grown = true
	var size int64
	if w.conn.QueryRowContext(w.ctx, "PRAGMA page_size").Scan(&size) != nil || size >= writePageSize {
		return
	}
	if w.written > growMax {
		// A huge line came first. Rewriting what it left would hold a copy
		// of the file in memory (VACUUM builds it in the temporary store,
		// memory here): a stream that began with a 100 MB line peaked at
		// 445 MiB, against 237 MiB without.
		return
	}
	if w.measureRoom() < growRoom {
		// Rewriting the file takes room for it and its journal, and each
		// commit then writes at least a few 64 KiB pages: on a nearly
		// full disk, small pages store more of the stream.
		return
	}
	// The checkpointer's connection would keep the file in WAL mode; the
	// next checkpoint starts it again.
	w.stopCheckpointer()
	w.walBytes, w.walSinceRestart = 0, 0
	if !w.leaveWAL() {
		return
	}
	w.repage(writePageSize)
	if !w.enterWAL() {
		// A reader got in first and outlasted the busy timeout, or the
		// folder no longer takes a new file: the file stays in rollback
		// mode, sound, and this connection goes on writing it through the
		// journal file it already has (readers wait while a transaction
		// commits). There is no WAL to checkpoint.
		w.wal = false
		return
	}
	// The empty journal the switch left behind is never used in WAL mode.
	os.Remove(w.Path + "-journal")
	// A new connection: the one that changed the page size keeps its page
	// cache set up for small pages, and allocates every large page on its
	// own (one mmap and munmap each); a 30 MB stream took 60% longer.
	w.reconnect()
}

// enterWAL switches a stream's file back to WAL mode after leaveWAL, and
// reports whether it did. Otherwise the file stays in rollback mode.
//
// The switch itself only marks the file as a WAL file; SQLite creates the
// WAL at the next transaction. In a folder that no longer takes new files,
// that fails, and so does every transaction after it, of the writer and of
// any reader, for as long as the mark is there. So the WAL is opened here,
// and when that fails the mark is taken back, which needs no new file.
func (w *Writer) enterWAL() bool {
	var mode string
	err := w.conn.QueryRowContext(w.ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
	if err == nil && mode == "wal" {
		var n int64
		err = w.conn.QueryRowContext(w.ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
		if err == nil {
			_, err = os.Lstat(w.Path + "-wal")
		}
		if err == nil {
			return true
		}
	}
	w.conn.ExecContext(w.ctx, "PRAGMA journal_mode=TRUNCATE")
	return false
}

// leaveWAL switches a stream's file from WAL mode to a rollback journal, so
// that its page size can change, and reports whether it did.
//
// The journal is kept as a file and truncated at each commit (TRUNCATE)
// rather than created and deleted: should the folder stop taking new files
// or deletions midway (chmod, a read-only remount), the change of page size
// still commits, and later transactions go on through the same file.
//
// Leaving WAL mode checkpoints the WAL and deletes it. When the folder does
// not allow the deletion, SQLite carries on regardless, and then goes on
// using the WAL it finds beside the file whatever the journal mode says: a
// VACUUM through it wrote 64 KiB pages into a WAL of 4 KiB ones and left a
// file that no one could open. So the WAL must be seen gone; if it is not,
// the file goes back to WAL mode as it was, which only costs the change.
func (w *Writer) leaveWAL() bool {
	if _, err := w.conn.ExecContext(w.ctx, "PRAGMA journal_mode=TRUNCATE"); err != nil {
		return false
	}
	if _, err := os.Lstat(w.Path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		w.conn.ExecContext(w.ctx, "PRAGMA journal_mode=WAL")
		return false
	}
	return true
}

// reconnect replaces the Writer's connection with a new one on its file. The
// new one is opened first: should that fail, the old one goes on.
func (w *Writer) reconnect() {
	nw, err := reopen(w.ctx, w.Path, w.meta)
	if err != nil {
		return
	}
	w.closeDB()
	w.db, w.conn = nw.db, nw.conn
	w.insMsg, w.insTool, w.updTool, w.updSession = nw.insMsg, nw.insTool, nw.updTool, nw.updSession
	w.delUsage, w.insUsage = nw.delUsage, nw.insUsage
}

// Pause is for the stream's pauses (stream.Logger.Pause): it asks for a
// checkpoint of what the WAL holds, if that is worth one.
func (w *Writer) Pause() {
	if w.wal && w.walBytes >= pauseCheckpoint {
		w.walBytes = 0
		w.checkpoint()
	}
}

// walWritten accounts for n committed bytes and checkpoints when due.
func (w *Writer) walWritten(n int64) {
	if !w.wal {
		return
	}
	if w.walBytes += n; w.walBytes >= checkpointInterval {
		w.walBytes = 0
		w.checkpoint()
	}
	if w.walSinceRestart += n; w.walSinceRestart >= walRestartAfter {
		// During a long burst the background checkpoints never catch up
		// with the end of the WAL, so SQLite never starts it afresh and it
		// grows without end (2.3 GB for a 1 GB stream). Now and then the
		// writer waits for a checkpoint to finish the tail, mostly already
		// copied, so that the next transaction starts the WAL again.
		w.walSinceRestart = 0
		w.conn.ExecContext(w.ctx, "PRAGMA wal_checkpoint(RESTART)")
	}
	if w.measureRoom() < growRoom && w.walSinceRestart >= w.room/8 {
		// On a nearly full disk, the WAL's copies of pages that each
		// commit rewrote (the last page of every table and index) take
		// room that the lines need: the WAL is copied into the file and
		// started again from the beginning. The room is measured at every
		// commit (a statfs), as another program may fill the disk at any
		// time: measured once, when the file took large pages, a disk
		// filled later to its last 2 MiB took 0.52 MB of a burst, not 1.05.
		w.walBytes, w.walSinceRestart = 0, 0
		w.conn.ExecContext(w.ctx, "PRAGMA wal_checkpoint(RESTART)")
	}
}

func (w *Writer) updateSession(f *stream.Facts, msgs, uses, endedAt int64) error {
	var (
		isErr, cost                any
		in, out, cc, cr            any
		resType, resSub            = nullStr(f.ResultType), nullStr(f.ResultSubtype)
		numTurns                   any
		started, ended, durationMS any
	)
	if f.IsError >= 0 {
		isErr = f.IsError
		if f.TurnsKnown {
			numTurns = figureArg(f.NumTurns)
		}
	}
	// A figure that does not fit its column is stored as NULL; the line
	// keeps what the stream said.
	if f.HasCost && !math.IsInf(f.CostUSD, 0) && !math.IsNaN(f.CostUSD) {
		cost = f.CostUSD
	}
	if f.HasTokens {
		t := f.Tokens
		in, out, cc, cr = figureArg(t.Input), figureArg(t.Output), figureArg(t.CacheCreation), figureArg(t.CacheRead)
	}
	if w.meta.StartedAt > 0 {
		started = w.meta.StartedAt
	} else if f.FirstTime > 0 {
		started = f.FirstTime
	}
	if endedAt > 0 {
		ended = endedAt
		if s, ok := started.(int64); ok {
			durationMS = endedAt - s
		}
	}
	model := f.Model()
	if f.InitModel == "" && f.ConcreteModel == "" && w.meta.Model != "" {
		// The flag beats a guess from assistant lines, and names the model
		// of streams that do not (Codex, opencode).
		model = w.meta.Model
	}
	_, err := w.updSession.ExecContext(w.ctx, nullStr(model), nullStr(f.CWD), nullNonNeg(f.PromptLength),
		nullStr(f.AgentSessionID), nullStr(f.AgentVersion), nullStr(f.GitBranch),
		resType, resSub, isErr, numTurns, cost, in, out, cc, cr,
		msgs, uses, f.DroppedByInput+w.Dropped, f.Redactions,
		nullStr(f.Agent.String()), nullStr(f.SourceFormat),
		started, ended, durationMS, w.meta.ID)
	if err != nil || (f.UsageGen == w.usageGen && model == w.usageModel) {
		return err
	}
	// The usage rows are few (models × tiers) and change only with
	// assistant and result lines.
	if _, err := w.delUsage.ExecContext(w.ctx, w.meta.ID); err != nil {
		return err
	}
	for _, r := range UsageRows(w.meta.ID, model, f) {
		if _, err := w.insUsage.ExecContext(w.ctx, r.Values()...); err != nil {
			return err
		}
	}
	// Noted now, though the transaction may yet fail: a failed commit
	// rolls back and the next commit writes them again (see commit).
	w.usageGen, w.usageModel = f.UsageGen, model
	return nil
}

// Finish commits, records the end of the session (endedAt, Unix ms; 0 for a
// session whose end is unknown), and closes the file so that it stands alone:
// the WAL is checkpointed into it and removed.
func (w *Writer) Finish(f *stream.Facts, endedAt int64) error {
	w.commit(f, endedAt, true)
	w.stopCheckpointer()
	// Back to a rollback journal: the file no longer needs its -wal and -shm
	// companions, and read-only readers can open it anywhere. When another
	// process is reading, or the folder no longer allows the WAL to be
	// deleted, the file stays in WAL mode and SQLite checkpoints on close.
	if w.bulk {
		// An import's file, its journal in memory.
		if _, err := w.conn.ExecContext(w.ctx, "PRAGMA journal_mode=DELETE"); err == nil {
			w.compact()
		}
	} else if !w.broken && (!w.wal || w.leaveWAL()) {
		w.compact()
		// Deletes the empty journal file that TRUNCATE leaves.
		w.conn.ExecContext(w.ctx, "PRAGMA journal_mode=DELETE")
	}
	return w.closeDB()
}

// compact rewrites a small session file with small pages. It is best
// effort: a reader that has the file open makes VACUUM fail, and then the
// file just stays as it is.
func (w *Writer) compact() {
	var pages, size int64
	if w.conn.QueryRowContext(w.ctx, "PRAGMA page_count").Scan(&pages) != nil ||
		w.conn.QueryRowContext(w.ctx, "PRAGMA page_size").Scan(&size) != nil ||
		size == compactPageSize || pages*size >= compactBelow {
		return
	}
	w.repage(compactPageSize)
}

// repage rewrites the file (VACUUM) with pages of size bytes, out of WAL
// mode. There synchronous=NORMAL leaves a small window in which a power cut
// can corrupt the file, so a stream's file is rewritten with FULL; an
// import's, still under its temporary name, is thrown away if anything
// fails and needs no syncs.
func (w *Writer) repage(size int) {
	if !w.bulk {
		w.conn.ExecContext(w.ctx, "PRAGMA synchronous=FULL")
	}
	if _, err := w.conn.ExecContext(w.ctx, "PRAGMA page_size="+strconv.Itoa(size)); err == nil {
		w.conn.ExecContext(w.ctx, "VACUUM")
	}
}

// measureRoom is RoomFor the session file, kept in w.room for the writer's
// own decisions.
func (w *Writer) measureRoom() int64 {
	w.room = RoomFor(w.Path)
	return w.room
}

// RoomFor is roughly how many more bytes the session file at path may grow
// by: the free space of its disk or what a limit on the size of files
// (ulimit -f) leaves to the larger of the file and its WAL; math.MaxInt64
// when neither is known. Any goroutine may ask.
func RoomFor(path string) int64 {
	room := freeSpace(filepath.Dir(path))
	if limit := fileSizeLimit(); limit < math.MaxInt64 {
		var largest int64
		for _, p := range []string{path, path + "-wal"} {
			if st, err := os.Stat(p); err == nil {
				largest = max(largest, st.Size())
			}
		}
		room = min(room, max(limit-largest, 0))
	}
	return room
}

// checkpoint asks the checkpointer for a checkpoint, starting it the first
// time: a small session never needs one, and does not pay for opening it.
// Without a checkpointer, the writer's own connection checkpoints.
func (w *Writer) checkpoint() {
	if w.ckpt == nil && !w.noCkpt {
		var err error
		if w.ckpt, err = startCheckpointer(w.ctx, w.Path); err != nil {
			w.noCkpt = true
		}
	}
	if w.ckpt != nil {
		w.ckpt.request()
		return
	}
	w.conn.ExecContext(w.ctx, "PRAGMA wal_checkpoint(PASSIVE)")
}

func (w *Writer) stopCheckpointer() {
	if w.ckpt != nil {
		w.ckpt.stop()
		w.ckpt = nil
	}
}

// closeDB closes the statements and the database.
func (w *Writer) closeDB() error {
	w.stopCheckpointer()
	// The raw statements go first: a connection closed with statements
	// still prepared on it stays open until they are finalized.
	for _, s := range []*rawStmt{w.insMsg, w.insTool, w.updTool} {
		s.close()
	}
	for _, s := range []*sql.Stmt{w.updSession, w.delUsage, w.insUsage} {
		if s != nil {
			s.Close()
		}
	}
	var err error
	if w.conn != nil {
		err = w.conn.Close()
	}
	return errors.Join(err, w.db.Close())
}

// Close abandons the session without recording its end (as a crash would).
func (w *Writer) Close() error {
	if w.inTx {
		w.conn.ExecContext(w.ctx, "ROLLBACK")
	}
	return w.closeDB()
}

// figureArg is a count for a column: NULL when it is stream.Unknown.
func figureArg(n int64) any {
	if n == stream.Unknown {
		return nil
	}
	return n
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n <= 0 {
		return nil
	}
	return n
}

func nullNonNeg(n int64) any {
	if n < 0 {
		return nil
	}
	return n
}
