package sync

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convlog/convlog/record"
)

// How each table's changes are found. A session file's messages are only
// ever added, in rowid order; its tool calls are added, then completed once
// (pending → success or error); its sessions row changes all the time. A
// table this code does not know is treated as small and mutable.
type policy int

const (
	// whole: a digest of all rows; all of them go again when it changed.
	whole policy = iota
	// appendOnly: rows after the last rowid sent; rows sent while their
	// pending column said 'pending' go again once it says something else.
	appendOnly
)

func policyOf(table string) (p policy, pendingCol string) {
	switch table {
	case "messages":
		return appendOnly, ""
	case "tool_calls":
		return appendOnly, "status"
	default:
		return whole, ""
	}
}

// marksTable is the one table a sync writes in a session file.
const marksTable = "sync_marks"

const marksDDL = `CREATE TABLE IF NOT EXISTS ` + marksTable + ` (
  target    TEXT PRIMARY KEY, -- the target's id (its convlog_target table)
  url       TEXT,             -- where that was, for people; never a token
  state     TEXT,             -- JSON: per table, what the target has
  synced_at INTEGER           -- Unix ms of the last chunk
)`

// marks is what one target has of one session file.
type marks struct {
	Tables map[string]*tableMark `json:"tables"`
}

type tableMark struct {
	Hash    string   `json:"hash,omitempty"`    // whole: digest of the rows sent
	Rowid   int64    `json:"rowid,omitempty"`   // appendOnly: last rowid sent
	Count   int64    `json:"count,omitempty"`   // rows with rowid <= Rowid, to notice renumbered rows
	Pending []string `json:"pending,omitempty"` // keys of rows sent while pending
	// Cols are the columns that were sent. A convlog that sends more (a
	// newer one, after the target gained columns) sends the rows again.
	Cols string `json:"cols,omitempty"`
}

// table is one table of one session file as it is synced.
type table struct {
	name       string
	cols       []string // sent: the file's columns that the target has
	policy     policy
	pendingIdx int // index in cols of the pending column; -1 for none
	keyIdx     int // index in cols of the (first) primary key column
	shape      shapeKey
	// exprs read each column of cols from the session file: the column
	// itself, or what the target keeps in it (see sourceExprs).
	exprs []string
	// replay: the file lacks the table (record.UsageTable, before it
	// existed); its rows are worked out from the messages.
	replay bool
	// derived: a table of the target only (record.ToolsTable), its rows
	// worked out from the file's tool calls (see summary.go).
	derived bool
}

// selectList is what reads the columns of t from the session file.
func (t *table) selectList() string { return strings.Join(t.exprs, ", ") }

// row is one row on its way to the target.
type row struct {
	src   *source
	table *table
	vals  []any
	size  int
	rowid int64
	// seq: the next row of the rowid sequence (advances Rowid and Count);
	// not set for a pending row sent again.
	seq bool
	// pending: 1 sent while pending, 0 sent complete, -1 no pending column.
	pending int8
	// hash: set on the last row of a whole table; recorded once committed.
	hash string
	// first: set on the first row of a table whose rows of a session are
	// replaced as a whole (see clearFirst): that session's id.
	first string
}

// source is one session file being read.
type source struct {
	path string
	rep  *SessionReport
	db   *sql.DB // read-only; nil once read to the end

	tables []*table
	mark   marks             // what the target has (advanced as chunks commit)
	whole  map[string][]*row // rows of whole tables that changed, read by count
	saved  bool              // marks table known to exist

	// reading position
	ti      int
	started bool
	buf     []*row
	after   int64

	emitted, committed int64
	exhausted          bool
	touched            int // chunk number that last carried its rows
}

// pageRows is how many rows one local read fetches.
const pageRows = 256

func (s *syncer) open(ctx context.Context, path string) (*source, error) {
	src := &source{path: path, whole: map[string][]*row{},
		rep: &SessionReport{Path: path, ID: strings.TrimSuffix(filepath.Base(path), ".db")}}
	s.report.Sessions = append(s.report.Sessions, src.rep)
	err := src.init(ctx, s)
	if err != nil {
		src.closeRead()
		var e *Error
		if !errors.As(err, &e) {
			err = &Error{Kind: KindLocal, Err: err, Msg: fmt.Sprintf("read %s: %v", path, err)}
		}
		src.rep.Err = err
	}
	return src, err
}

func (src *source) init(ctx context.Context, s *syncer) error {
	db, err := record.OpenMapped(ctx, src.path)
	if err != nil {
		return err
	}
	src.db = db
	for _, name := range s.opts.Schema.Order() {
		if !s.wants(name) {
			continue
		}
		local, err := record.TableColumns(ctx, db, name)
		if err != nil {
			return err
		}
		replay := false
		if len(local) == 0 {
			if name == "sessions" {
				return &Error{Kind: KindLocal, Msg: fmt.Sprintf("%s is not a convlog session file (it has no sessions table)", src.path)}
			}
			if name != record.UsageTable {
				continue // an older file without a newer table
			}
			replay = true
			local = s.opts.Schema.Tables()[name]
		}
		local = withTargetColumns(name, local)
		t := &table{name: name, pendingIdx: -1, keyIdx: -1, replay: replay}
		var pendingCol string
		t.policy, pendingCol = policyOf(name)
		pk := s.info.pk[name]
		for _, c := range local {
			if !s.info.cols[name][c.Name] {
				continue // newer than this convlog: the target cannot take it
			}
			if c.Name == pendingCol {
				t.pendingIdx = len(t.cols)
			}
			if len(pk) > 0 && c.Name == pk[0] {
				t.keyIdx = len(t.cols)
			}
			t.cols = append(t.cols, c.Name)
			t.exprs = append(t.exprs, sourceExpr(name, c.Name))
		}
		if t.keyIdx < 0 {
			return &Error{Kind: KindLocal, Msg: fmt.Sprintf("%s: table %s has no column %s", src.path, name, strings.Join(pk, ", "))}
		}
		t.shape = shapeKey{table: name, cols: strings.Join(t.cols, ",")}
		src.tables = append(src.tables, t)
	}
	if t := s.toolsTable(); t != nil {
		src.tables = append(src.tables, t)
	}
	var id sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT id FROM sessions ORDER BY rowid LIMIT 1").Scan(&id); err == nil && id.Valid {
		src.rep.ID = id.String
	}
	if !s.opts.Full {
		if err := src.loadMark(ctx, s.info.id, s.opts.Marks); err != nil {
			return err
		}
		if s.opts.Marks != nil && len(src.mark.Tables) > 0 && src.imported(ctx) {
			// An imported session file is only ever written whole, and a
			// store's marks (the archive's) outlive it: a changed one is a
			// new import, whose rows may differ from the first on (an
			// older import took a sub-agent's transcript for its session,
			// or one transcript for another). Its rows are sent again,
			// each over its earlier copy. (Marks kept in the file itself
			// go with the file.)
			src.mark = marks{}
		}
	}
	if src.mark.Tables == nil {
		src.mark.Tables = map[string]*tableMark{}
	}
	return src.count(ctx)
}

// imported says whether the file is a session written by convlog import.
func (src *source) imported(ctx context.Context) bool {
	var from sql.NullString
	src.db.QueryRowContext(ctx, "SELECT source FROM sessions ORDER BY rowid LIMIT 1").Scan(&from)
	return from.String == "import"
}

// loadMark reads what the target had of this file at the end of the last
// run, and forgets the parts that no longer match the file.
func (src *source) loadMark(ctx context.Context, target string, store MarkStore) error {
	var state string
	var err error
	if store != nil {
		if state, err = store.LoadMark(ctx, src.path, target); err == nil && state == "" {
			return nil
		}
	} else {
		err = src.db.QueryRowContext(ctx, "SELECT state FROM "+marksTable+" WHERE target = ?", target).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) || (err != nil && strings.Contains(err.Error(), "no such table")) {
			return nil
		}
	}
	if err != nil {
		return err
	}
	if json.Unmarshal([]byte(state), &src.mark) != nil {
		src.mark = marks{} // unreadable: send everything again
		return nil
	}
	for _, t := range src.tables {
		m := src.mark.Tables[t.name]
		if m == nil {
			continue
		}
		if m.Cols != t.shape.cols {
			delete(src.mark.Tables, t.name)
			continue
		}
		if t.policy != appendOnly || m.Rowid == 0 {
			continue
		}
		// Rowids are only renumbered by a VACUUM after deletes, or the
		// file was replaced; either way the mark no longer says which
		// rows were sent.
		var n int64
		if err := src.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(t.name)+" WHERE rowid <= ?", m.Rowid).Scan(&n); err != nil {
			return err
		}
		if n != m.Count {
			delete(src.mark.Tables, t.name)
		}
	}
	return nil
}

// count works out how many rows are to be sent (SessionReport.Todo). Whole
// tables are read here already: their digest decides.
func (src *source) count(ctx context.Context) error {
	for _, t := range src.tables {
		m := src.markOf(t)
		switch t.policy {
		case whole:
			if t.replay && m.Hash != "" && !src.grew(ctx) {
				continue // the messages it comes from are those sent with it
			}
			rows, err := src.readRows(ctx, t, "", nil, true)
			if err != nil {
				return err
			}
			if h := digest(rows); h != m.Hash && len(rows) > 0 {
				rows[len(rows)-1].hash = h
				if replacedWhole(t.name) {
					rows[0].first = src.rep.ID
				}
				src.whole[t.name] = rows
				src.rep.Todo += int64(len(rows))
			}
		case appendOnly:
			var n int64
			if err := src.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(t.name)+" WHERE rowid > ?", m.Rowid).Scan(&n); err != nil {
				return err
			}
			src.rep.Todo += n
			if len(m.Pending) > 0 && t.pendingIdx >= 0 {
				q, args := src.pendingQuery(t, m, "count(*)")
				if err := src.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
					return err
				}
				src.rep.Todo += n
			}
		}
	}
	return nil
}

func (src *source) markOf(t *table) *tableMark {
	m := src.mark.Tables[t.name]
	if m == nil {
		m = &tableMark{}
		src.mark.Tables[t.name] = m
	}
	return m
}

func (src *source) pendingQuery(t *table, m *tableMark, what string) (string, []any) {
	where, args := pendingWhere(t, m)
	return "SELECT " + what + " FROM " + quoteIdent(t.name) + " WHERE " + where, args
}

// pendingWhere selects the rows that were sent while pending and are
// complete now.
func pendingWhere(t *table, m *tableMark) (string, []any) {
	ids, _ := json.Marshal(m.Pending)
	return "rowid <= ? AND " + t.exprs[t.pendingIdx] + " IS NOT 'pending' AND " +
		t.exprs[t.keyIdx] + " IN (SELECT value FROM json_each(?))", []any{m.Rowid, string(ids)}
}

// next returns the next row to send, or nil when the file has no more.
func (src *source) next(ctx context.Context) (*row, error) {
	for {
		if len(src.buf) > 0 {
			r := src.buf[0]
			src.buf = src.buf[1:]
			return r, nil
		}
		if src.ti >= len(src.tables) {
			return nil, nil
		}
		t := src.tables[src.ti]
		m := src.markOf(t)
		if !src.started {
			src.started = true
			src.after = m.Rowid
			switch t.policy {
			case whole:
				// Read and compared with the mark by count.
				src.buf = src.whole[t.name]
				delete(src.whole, t.name)
				src.nextTable()
			case appendOnly:
				if len(m.Pending) > 0 && t.pendingIdx >= 0 {
					q, args := src.pendingQuery(t, m, "rowid, "+t.selectList())
					rows, err := src.readRows(ctx, t, q, args, false)
					if err != nil {
						return nil, err
					}
					src.buf = rows
				}
			}
			continue
		}
		// appendOnly: the next page after the last row read.
		q := "SELECT rowid, " + t.selectList() + " FROM " + quoteIdent(t.name) + " WHERE rowid > ? ORDER BY rowid LIMIT " + strconv.Itoa(pageRows)
		rows, err := src.readRows(ctx, t, q, []any{src.after}, true)
		if err != nil {
			return nil, err
		}
		if len(rows) < pageRows {
			src.nextTable()
		}
		if len(rows) > 0 {
			src.after = rows[len(rows)-1].rowid
		}
		src.buf = rows
	}
}

func (src *source) nextTable() {
	src.ti++
	src.started = false
}

// readRows runs q (all rows of the table when q is empty) and reads every
// row before returning, so that no read is open while a mark is written.
func (src *source) readRows(ctx context.Context, t *table, q string, args []any, seq bool) ([]*row, error) {
	if t.replay {
		return src.replayRows(ctx, t)
	}
	if t.derived {
		return src.toolRows(ctx, t)
	}
	if q == "" {
		q = "SELECT rowid, " + t.selectList() + " FROM " + quoteIdent(t.name) + " ORDER BY rowid"
	}
	rows, err := src.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*row
	for rows.Next() {
		r := &row{src: src, table: t, vals: make([]any, len(t.cols)), seq: seq && t.policy == appendOnly, pending: -1}
		dest := make([]any, len(t.cols)+1)
		dest[0] = &r.rowid
		for i := range r.vals {
			dest[i+1] = &r.vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		for i, v := range r.vals {
			if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
				// An older convlog stored a cost of 1e400 as +Inf, which
				// no request can carry (JSON has no infinity): it is
				// sent as the NULL a newer one stores.
				r.vals[i] = nil
			}
		}
		if t.pendingIdx >= 0 {
			r.pending = 0
			if v, ok := r.vals[t.pendingIdx].(string); ok && v == "pending" {
				r.pending = 1
			}
		}
		r.size = wireSize(r.vals)
		out = append(out, r)
	}
	return out, rows.Err()
}

// commit records that the target has r.
func (src *source) commit(r *row) {
	src.committed++
	src.rep.Rows++
	m := src.markOf(r.table)
	m.Cols = r.table.shape.cols
	if r.seq {
		m.Rowid = r.rowid
		m.Count++
	}
	if r.pending >= 0 {
		m.notePending(fmt.Sprint(r.vals[r.table.keyIdx]), r.pending == 1)
	}
	if r.hash != "" {
		m.Hash = r.hash
	}
}

// notePending records that the row with key was sent, still pending or
// complete: a pending row is sent again once it completes.
func (m *tableMark) notePending(key string, pending bool) {
	i := slices.Index(m.Pending, key)
	switch {
	case pending && i < 0:
		m.Pending = append(m.Pending, key)
	case !pending && i >= 0:
		m.Pending = slices.Delete(m.Pending, i, i+1)
	}
}

// marksBusyTimeout is how long writing a mark waits for a session file
// that `convlog tee` is writing (a variable for tests).
var marksBusyTimeout = 5 * time.Second

// saveMark writes the mark to the session file. Failing to is not an error
// of the sync: the next run sends those rows again, and upserts make that
// harmless.
func (src *source) saveMark(ctx context.Context, s *syncer) {
	state, err := json.Marshal(&src.mark)
	switch {
	case err == nil && s.opts.Marks != nil:
		err = s.opts.Marks.SaveMark(context.WithoutCancel(ctx), src.path, s.info.id, s.display, string(state))
	case err == nil:
		err = src.writeMark(ctx, s, string(state))
	}
	if err != nil && src.rep.MarkErr == nil {
		src.rep.MarkErr = fmt.Errorf("could not record sync progress in %s (%v); the next sync sends these rows again", src.path, err)
	}
}

func (src *source) writeMark(ctx context.Context, s *syncer, state string) error {
	// mode=rw: a session file removed meanwhile is not created again. No
	// journal_mode pragma: the file keeps the mode its writer gave it.
	dsn := "file:" + record.EscapePath(src.path) + "?mode=rw&_pragma=busy_timeout(" + strconv.FormatInt(marksBusyTimeout.Milliseconds(), 10) + ")"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = context.WithoutCancel(ctx) // a mark for a committed chunk is worth finishing
	if !src.saved {
		if _, err := db.ExecContext(ctx, marksDDL); err != nil {
			return err
		}
		src.saved = true
	}
	_, err = db.ExecContext(ctx, `INSERT INTO `+marksTable+` (target, url, state, synced_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (target) DO UPDATE SET url = excluded.url, state = excluded.state, synced_at = excluded.synced_at`,
		s.info.id, s.display, state, time.Now().UnixMilli())
	return err
}

func (src *source) fail(err error) {
	if src.rep.Err == nil {
		src.rep.Err = err
	}
}

func (src *source) closeRead() {
	if src.db != nil {
		src.db.Close()
		src.db = nil
	}
}

func colList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(c)
	}
	return strings.Join(q, ", ")
}

// digest identifies the contents of rows, values and their types.
func digest(rows []*row) string {
	h := sha256.New()
	var n [8]byte
	put := func(tag byte, b []byte) {
		h.Write([]byte{tag})
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, r := range rows {
		for _, v := range r.vals {
			switch v := v.(type) {
			case nil:
				put('n', nil)
			case int64:
				binary.LittleEndian.PutUint64(n[:], uint64(v))
				put('i', n[:])
			case float64:
				binary.LittleEndian.PutUint64(n[:], math.Float64bits(v))
				put('f', n[:])
			case string:
				put('t', []byte(v))
			case []byte:
				put('b', v)
			default:
				put('?', []byte(fmt.Sprint(v)))
			}
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// wireSize estimates a row's size in a Hrana request: JSON framing per
// value, text as is, blobs in base64.
func wireSize(vals []any) int {
	n := 0
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			n += 32 + len(v)
		case []byte:
			n += 32 + (len(v)+2)/3*4
		default:
			n += 40
		}
	}
	return n
}
