package record

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

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
// told, and the next lines start a new transaction.
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
	inTx            bool
	txFailed        bool
	txMsgs, txUses  int64
	txBytes         int64 // written in the open transaction (roughly)
	walBytes        int64 // committed since the last checkpoint request
	walSinceRestart int64 // committed since the WAL was last started afresh
	wal             bool  // the file is written in WAL mode (not a bulk import)
	written         int64 // line bytes committed so far
	grown           bool  // the switch to large pages was made or tried

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
	return reopen(ctx, final, meta)
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
	w := &Writer{Path: path, meta: meta, db: db, ctx: context.Background(), wal: true}
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
	w := &Writer{Path: path, meta: meta, db: db, ctx: context.Background(), wal: !bulk}
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

func (w *Writer) begin() bool {
	if w.inTx {
		return !w.txFailed
	}
	if _, err := w.conn.ExecContext(w.ctx, "BEGIN IMMEDIATE"); err != nil {
		w.fail(err)
		// Not in a transaction: the lines of this batch are lost anyway, so
		// the batch is marked failed until the next Commit.
		w.inTx, w.txFailed = true, true
		return false
	}
	w.inTx, w.txFailed = true, false
	return true
}

func (w *Writer) fail(err error) {
	if w.Err == nil {
		w.Err = err
	}
	if w.Warn != nil {
		w.Warn(err)
	}
}

// Message implements stream.Sink.
func (w *Writer) Message(m *stream.Message) {
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
	w.txFailed = true
}

// Commit ends the open transaction, bringing the session row up to date
// with f. Lines of a failed transaction are counted as dropped.
func (w *Writer) Commit(f *stream.Facts) {
	w.commit(f, 0)
	if w.wal && !w.grown && w.written >= growAt {
		w.grow()
	}
}

func (w *Writer) commit(f *stream.Facts, endedAt int64) {
	if w.inTx && w.txFailed {
		w.endTx(false)
	}
	if !w.begin() {
		w.endTx(false)
		return
	}
	msgs, uses := w.Messages+w.txMsgs, w.ToolCalls+w.txUses
	err := w.updateSession(f, msgs, uses, endedAt)
	if err == nil {
		_, err = w.conn.ExecContext(w.ctx, "COMMIT")
	}
	if err != nil {
		w.txFail(err)
		w.endTx(false)
		w.usageGen = -1 // rolled back with the rest
		return
	}
	w.Messages, w.ToolCalls = msgs, uses
	w.walWritten(w.txBytes)
	w.written += w.txBytes
	w.endTx(true)
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
	// The checkpointer's connection would keep the file in WAL mode; the
	// next checkpoint starts it again.
	w.stopCheckpointer()
	w.walBytes, w.walSinceRestart = 0, 0
	if _, err := w.conn.ExecContext(w.ctx, "PRAGMA journal_mode=DELETE"); err != nil {
		return
	}
	w.repage(writePageSize)
	if _, err := w.conn.ExecContext(w.ctx, "PRAGMA journal_mode=WAL"); err != nil {
		// A reader got in first and outlasted the busy timeout: the file
		// stays in rollback mode, sound, and this connection goes on
		// writing it (readers wait while a transaction commits).
		return
	}
	// A new connection: the one that changed the page size keeps its page
	// cache set up for small pages, and allocates every large page on its
	// own (one mmap and munmap each); a 30 MB stream took 60% longer.
	w.reconnect()
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

// endTx forgets the transaction; its lines are dropped unless committed.
func (w *Writer) endTx(committed bool) {
	if !committed {
		w.Dropped += w.txMsgs
	}
	w.inTx, w.txFailed, w.txMsgs, w.txUses, w.txBytes = false, false, 0, 0, 0
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
		numTurns = f.NumTurns
	}
	if f.HasCost {
		cost = f.CostUSD
	}
	if f.HasTokens {
		in, out, cc, cr = f.Tokens.Input, f.Tokens.Output, f.Tokens.CacheCreation, f.Tokens.CacheRead
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
	if f.InitModel == "" && w.meta.Model != "" {
		model = w.meta.Model // the flag beats a guess from assistant lines
	}
	_, err := w.updSession.ExecContext(w.ctx, nullStr(model), nullStr(f.CWD), nullNonNeg(f.PromptLength),
		nullStr(f.AgentSessionID), nullStr(f.AgentVersion), nullStr(f.GitBranch),
		resType, resSub, isErr, numTurns, cost, in, out, cc, cr,
		msgs, uses, f.DroppedByInput+w.Dropped, f.Redactions,
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
	w.commit(f, endedAt)
	w.stopCheckpointer()
	// Back to a rollback journal: the file no longer needs its -wal and -shm
	// companions, and read-only readers can open it anywhere. When another
	// process is reading, this fails harmlessly and SQLite checkpoints on close.
	if _, err := w.conn.ExecContext(w.ctx, "PRAGMA journal_mode=DELETE"); err == nil {
		w.compact()
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
	if w.wal {
		w.conn.ExecContext(w.ctx, "PRAGMA synchronous=FULL")
	}
	if _, err := w.conn.ExecContext(w.ctx, "PRAGMA page_size="+strconv.Itoa(size)); err == nil {
		w.conn.ExecContext(w.ctx, "VACUUM")
	}
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
