package archive

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Reader is what a search reads through: a read transaction on the
// archive, so that the index and the rows it names are seen at one
// moment, or a database that sessions were synced to.
type Reader interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// SearchOptions narrow a search.
type SearchOptions struct {
	Limit        int    // hits (or sessions) at most; 0 for 20
	Since, Until int64  // Unix ms: hits at or after Since, before Until; 0 for no bound
	CWD          string // sessions whose working folder is this one or below it
}

// Hit is a document that matched.
type Hit struct {
	Session  *SessionInfo
	Sequence *int64 // the message; for a tool call, that of its tool_use (input) or tool_result (output)
	Time     *int64 // Unix ms
	Doc      Doc
	Score    float64 // bm25: lower is more relevant
}

// SessionInfo is what a hit tells of its session.
type SessionInfo struct {
	ID             string
	AgentSessionID *string
	CWD            *string
	Model          *string
	Agent          string
	StartedAt      *int64
}

// SessionHits is a session that has hits.
type SessionHits struct {
	Session *SessionInfo
	Hits    int64
	Best    float64 // the best hit's score
	Last    *int64  // the time of its last hit
}

// ErrNoIndex is the error of a search in a database without the index.
var ErrNoIndex = errors.New("no search index")

func limitOf(o SearchOptions) int {
	if o.Limit <= 0 {
		return 20
	}
	return o.Limit
}

// The session and time of a document h, from its rowid (see docRowid): a
// message's time, or a tool call's, of its tool_use for its input and of
// its tool_result for its output. The rows are main's, by rowid: in the
// archive, sessions, messages and tool_calls are views of one folder's
// rows (see scopeViews), and a view has no rowid; the join with sessions
// keeps to the folder.
var (
	docJoin = fmt.Sprintf(`
	LEFT JOIN main.messages m ON ((h.rowid >> %[1]d) & 1) = %[3]d AND m.rowid = h.rowid >> %[2]d
	LEFT JOIN main.tool_calls t ON ((h.rowid >> %[1]d) & 1) = %[4]d AND t.rowid = h.rowid >> %[2]d
	JOIN sessions s ON s.id = coalesce(m.session_id, t.session_id)`, partBits, partBits+1, fromMessage, fromToolCall)
	docTime = fmt.Sprintf(`coalesce(m.timestamp, CASE WHEN (h.rowid & %d) = %d THEN coalesce(t.completed_at, t.timestamp) ELSE t.timestamp END)`,
		maxParts-1, PartOutput)
)

// where is the SQL condition of the options and session filters, and its
// arguments.
func where(ctx context.Context, db Reader, q *SearchQuery, o SearchOptions) (string, []any, error) {
	var conds []string
	var args []any
	anyOf := func(col string, vals []string) {
		var or []string
		for _, v := range vals {
			or = append(or, "instr(lower("+col+"), lower(?)) > 0")
			args = append(args, v)
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if len(q.Models) > 0 {
		anyOf("coalesce(s.model, '')", q.Models)
	}
	if len(q.Agents) > 0 {
		col, err := agentColumn(ctx, db)
		if err != nil {
			return "", nil, err
		}
		anyOf(col, q.Agents)
	}
	if o.Since != 0 {
		conds = append(conds, docTime+" >= ?")
		args = append(args, o.Since)
	}
	if o.Until != 0 {
		conds = append(conds, docTime+" < ?")
		args = append(args, o.Until)
	}
	if o.CWD != "" {
		dir := strings.TrimRight(o.CWD, "/")
		conds = append(conds, "(s.cwd = ? OR substr(s.cwd, 1, ?) = ?)")
		args = append(args, cmp.Or(dir, "/"), len(dir)+1, dir+"/")
	}
	if len(conds) == 0 {
		return "1", nil, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

// agentColumn is the SQL of a session's agent: the column sessions.agent
// where the schema has it, else claude, the only agent before it.
func agentColumn(ctx context.Context, db Reader) (string, error) {
	rows, err := db.QueryContext(ctx, "SELECT agent FROM sessions LIMIT 0")
	if err != nil {
		if strings.Contains(err.Error(), "no such column") {
			return "'claude'", nil
		}
		return "", err
	}
	rows.Close()
	return "coalesce(s.agent, 'claude')", nil
}

type scored struct {
	rowid int64
	score float64
}

// Search runs q and returns its best hits, most relevant first and, among
// equally relevant ones, newest first.
func Search(ctx context.Context, db Reader, q *SearchQuery, o SearchOptions) ([]Hit, error) {
	n := limitOf(o)
	cond, args, err := where(ctx, db, q, o)
	if err != nil {
		return nil, err
	}
	// Fetch one more than asked: when it ties with the last, fetch more
	// until the tie is whole, so that the newest of the tied come first.
	var found []scored
	for want := n + 1; ; want *= 4 {
		found, err = topDocs(ctx, db, q, cond, args, want)
		if err != nil {
			return nil, err
		}
		if len(found) < want || found[n-1].score != found[len(found)-1].score {
			break
		}
	}
	d := newDetails(db)
	defer d.close()
	hits := make([]Hit, 0, len(found))
	for _, f := range found {
		h, err := d.hit(ctx, f)
		if err != nil {
			return nil, err
		}
		if h != nil {
			hits = append(hits, *h)
		}
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		if c := cmp.Compare(a.Score, b.Score); c != 0 {
			return c
		}
		return cmp.Compare(deref64(b.Time), deref64(a.Time))
	})
	if len(hits) > n {
		hits = hits[:n]
	}
	return hits, nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// topDocs is the n best documents, by score.
func topDocs(ctx context.Context, db Reader, q *SearchQuery, cond string, args []any, n int) ([]scored, error) {
	// Without conditions, ORDER BY +rank, not rank: the plus hides the
	// order from FTS5, which would otherwise sort every match itself, limit
	// or not; SQLite's own sorter keeps only the best n. A word in 36,000
	// documents of 1 GB of sessions: 61 ms against 92 ms. With them, FTS5's
	// order is the faster: the join then stops at the nth row that passes,
	// where the plus would join every match first.
	var query string
	qargs := []any{q.Match}
	if cond == "1" && !narrowed(ctx, db) {
		query = "SELECT rowid, rank FROM " + SearchTable + " WHERE " + SearchTable + " MATCH ? ORDER BY +rank LIMIT ?"
	} else {
		query = "SELECT h.rowid, h.rank FROM (SELECT rowid, rank FROM " + SearchTable + " WHERE " + SearchTable + " MATCH ?) h" +
			docJoin + " WHERE " + cond + " ORDER BY h.rank LIMIT ?"
		qargs = append(qargs, args...)
	}
	rows, err := db.QueryContext(ctx, query, append(qargs, n)...)
	if err != nil {
		return nil, searchError(err)
	}
	defer rows.Close()
	var found []scored
	for rows.Next() {
		var s scored
		if err := rows.Scan(&s.rowid, &s.score); err != nil {
			return nil, err
		}
		found = append(found, s)
	}
	return found, searchError(rows.Err())
}

// SearchSessions runs q and returns the sessions with hits, the one with
// the most relevant hit first, with their numbers of hits.
func SearchSessions(ctx context.Context, db Reader, q *SearchQuery, o SearchOptions) ([]SessionHits, error) {
	cond, args, err := where(ctx, db, q, o)
	if err != nil {
		return nil, err
	}
	query := "SELECT s.id, count(*), min(h.rank), max(" + docTime + ") FROM (SELECT rowid, rank FROM " + SearchTable +
		" WHERE " + SearchTable + " MATCH ?) h" + docJoin + " WHERE " + cond +
		" GROUP BY s.id ORDER BY min(h.rank), max(" + docTime + ") DESC LIMIT ?"
	rows, err := db.QueryContext(ctx, query, append(append([]any{q.Match}, args...), limitOf(o))...)
	if err != nil {
		return nil, searchError(err)
	}
	var out []SessionHits
	for rows.Next() {
		var id string
		var sh SessionHits
		var last sql.NullInt64
		if err := rows.Scan(&id, &sh.Hits, &sh.Best, &last); err != nil {
			rows.Close()
			return nil, err
		}
		if last.Valid {
			sh.Last = &last.Int64
		}
		sh.Session = &SessionInfo{ID: id}
		out = append(out, sh)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, searchError(err)
	}
	d := newDetails(db)
	defer d.close()
	for i := range out {
		if out[i].Session, err = d.session(ctx, out[i].Session.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// searchError words the errors of a search.
func searchError(err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "no such table: "+SearchTable) {
		return ErrNoIndex
	}
	return err
}

// details reads what a hit shows, with statements prepared once for all
// the hits.
type details struct {
	db       Reader
	sessions map[string]*SessionInfo
	stmts    map[string]*sql.Stmt
	agent    string // the SQL of a session's agent
}

func newDetails(db Reader) *details {
	return &details{db: db, sessions: map[string]*SessionInfo{}, stmts: map[string]*sql.Stmt{}}
}

func (d *details) close() {
	for _, st := range d.stmts {
		st.Close()
	}
}

// row runs query, prepared the first time.
func (d *details) row(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, ok := d.stmts[query]
	if !ok {
		var err error
		if st, err = d.db.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		d.stmts[query] = st
	}
	return st.QueryRowContext(ctx, args...), nil
}

func (d *details) session(ctx context.Context, id string) (*SessionInfo, error) {
	if s, ok := d.sessions[id]; ok {
		return s, nil
	}
	if d.agent == "" {
		col, err := agentColumn(ctx, d.db)
		if err != nil {
			return nil, err
		}
		d.agent = strings.ReplaceAll(col, "s.", "")
	}
	s := &SessionInfo{ID: id}
	var agent sql.NullString
	var aid, cwd, model sql.NullString
	var started sql.NullInt64
	// main.sessions, not the folder's view of it (as main.messages above):
	// the id came from a hit already in scope, and the view's IN (SELECT …)
	// is built afresh on every run, a third of a warm search's time over
	// 600 sessions.
	row, err := d.row(ctx, "SELECT agent_session_id, cwd, model, started_at, "+d.agent+" FROM main.sessions WHERE id = ?", id)
	if err == nil {
		err = row.Scan(&aid, &cwd, &model, &started, &agent)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	s.AgentSessionID, s.CWD, s.Model = nullStr(aid), nullStr(cwd), nullStr(model)
	if started.Valid {
		s.StartedAt = &started.Int64
	}
	s.Agent = agent.String
	d.sessions[id] = s
	return s, nil
}

func nullStr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

// hit reads the document of f from its row; nil when the row no longer
// makes it.
func (d *details) hit(ctx context.Context, f scored) (*Hit, error) {
	rowid, table, part := splitRowid(f.rowid)
	h := &Hit{Score: f.score}
	var sessionID string
	var docs []Doc
	if table == fromMessage {
		var typ, subtype sql.NullString
		var seq, ts sql.NullInt64
		var raw []byte
		row, err := d.row(ctx, "SELECT session_id, sequence, timestamp, type, subtype, raw_message FROM main.messages WHERE rowid = ?", rowid)
		if err == nil {
			err = row.Scan(&sessionID, &seq, &ts, &typ, &subtype, &raw)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		h.Sequence, h.Time = nullInt(seq), nullInt(ts)
		docs = MessageDocs(typ.String, subtype.String, raw)
	} else {
		var name, input, output, status, errText, msgID, resultID sql.NullString
		var ts, done sql.NullInt64
		row, err := d.row(ctx, `SELECT session_id, message_id, result_message_id, timestamp, completed_at,
			tool_name, tool_input, tool_output, status, error FROM main.tool_calls WHERE rowid = ?`, rowid)
		if err == nil {
			err = row.Scan(&sessionID, &msgID, &resultID, &ts, &done, &name, &input, &output, &status, &errText)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		docs = ToolCallDocs(name.String, input.String, output.String, status.String, errText.String)
		msg := msgID
		h.Time = nullInt(ts)
		if part == PartOutput {
			if resultID.Valid {
				msg = resultID
			}
			if done.Valid {
				h.Time = &done.Int64
			}
		}
		if msg.Valid {
			var seq int64
			row, err := d.row(ctx, "SELECT sequence FROM main.messages WHERE id = ?", msg.String)
			if err == nil {
				err = row.Scan(&seq)
			}
			if err == nil {
				h.Sequence = &seq
			} else if !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
		}
	}
	doc := DocAt(docs, part)
	if doc == nil {
		return nil, nil
	}
	h.Doc = *doc
	s, err := d.session(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	h.Session = s
	return h, nil
}

// narrowed says whether sessions is the archive's view of one folder's
// rows (a temporary view) that leaves some of the archive's sessions out,
// so that every search must join it to keep to the folder. An archive of
// one folder, the usual one, needs no join.
// Without the view, sessions is main.sessions and the counts are equal.
func narrowed(ctx context.Context, db Reader) bool {
	var whole bool
	if err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM main.sessions) = (SELECT count(*) FROM sessions)").Scan(&whole); err != nil {
		return true
	}
	return !whole
}
