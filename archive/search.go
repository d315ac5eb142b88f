package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// The search index is an FTS5 table in the archive, kept by triggers and a
// queue so that it can never silently fall behind the rows it indexes:
//
//   - Triggers on messages and tool_calls put the key of every new or
//     changed row in table search_queue, and take the documents of a
//     changed or removed row out of the index, in the same transaction as
//     the change. Whoever writes the archive (this convlog, an older one,
//     sqlite3), the queue and the index together always cover every row.
//   - After each archive update, the queue is drained: the rows it names
//     are read, their documents made in Go (see MessageDocs) and added to
//     the index, and their keys taken off the queue, in transactions of a
//     few MB. A crash loses at most the batch under way, whose keys stay
//     queued; the next update drains them.
//   - The full-text table is contentless (content=”): it keeps the words,
//     not the text, so that it is a fraction of the text's size. Snippets
//     are made at query time from the stored row, which the document's
//     rowid names (see docRowid).
//
// An archive without the index (new, or made by an older convlog), or
// whose index is of another version or lacks a trigger, gets it built from
// all its rows at its next update.

// searchVersion changes when the documents or the tables change; an index
// of another version is rebuilt.
const searchVersion = "4"

// Names of the search index's tables.
const (
	SearchTable = "search_fts"   // the FTS5 table of documents
	QueueTable  = "search_queue" // keys of rows not yet indexed
	metaTable   = "search_meta"  // the index's version
)

// searchTokenizer: unicode61 folds case and (with remove_diacritics 2)
// accents, and splits at anything but letters and digits, so that
// run_migration holds the word migration.
const searchTokenizer = "unicode61 remove_diacritics 2"

func searchDDL() []string {
	types := "'" + strings.Join(indexedTypes, "', '") + "'"
	span := func(row string, table int) string { // the rowids of one row's documents
		lo := fmt.Sprintf("(%s.rowid * 2 + %d) * %d", row, table, maxParts)
		return fmt.Sprintf("rowid BETWEEN %s AND %s + %d", lo, lo, maxParts-1)
	}
	return []string{
		`CREATE VIRTUAL TABLE ` + SearchTable + ` USING fts5(body, kind, tool, status,
			content='', contentless_delete=1, tokenize='` + searchTokenizer + `')`,
		// Only the text counts towards relevance; kind, tool and status are
		// for filters.
		`INSERT INTO ` + SearchTable + `(` + SearchTable + `, rank) VALUES ('rank', 'bm25(1.0, 0.0, 0.0, 0.0)')`,
		// Merging segments once 16 wait at a level, not 4: a fifth less
		// time to index 1 GB of sessions, with no measurable cost to queries.
		`INSERT INTO ` + SearchTable + `(` + SearchTable + `, rank) VALUES ('automerge', 16)`,
		`CREATE TABLE ` + QueueTable + ` (key INTEGER PRIMARY KEY) -- rowid * 2 + table (0 messages, 1 tool_calls)`,
		`CREATE TABLE ` + metaTable + ` (key TEXT PRIMARY KEY, value TEXT)`,

		`CREATE TRIGGER search_messages_insert AFTER INSERT ON messages WHEN new.type IN (` + types + `) BEGIN
			INSERT OR IGNORE INTO ` + QueueTable + ` (key) VALUES (new.rowid * 2);
		END`,
		`CREATE TRIGGER search_messages_update AFTER UPDATE ON messages
		WHEN old.raw_message IS NOT new.raw_message OR old.type IS NOT new.type OR old.subtype IS NOT new.subtype OR old.rowid IS NOT new.rowid BEGIN
			DELETE FROM ` + SearchTable + ` WHERE ` + span("old", fromMessage) + `;
			DELETE FROM ` + QueueTable + ` WHERE key = old.rowid * 2;
			INSERT OR IGNORE INTO ` + QueueTable + ` (key) SELECT new.rowid * 2 WHERE new.type IN (` + types + `);
		END`,
		`CREATE TRIGGER search_messages_delete AFTER DELETE ON messages BEGIN
			DELETE FROM ` + SearchTable + ` WHERE ` + span("old", fromMessage) + `;
			DELETE FROM ` + QueueTable + ` WHERE key = old.rowid * 2;
		END`,
		`CREATE TRIGGER search_tool_calls_insert AFTER INSERT ON tool_calls BEGIN
			INSERT OR IGNORE INTO ` + QueueTable + ` (key) VALUES (new.rowid * 2 + 1);
		END`,
		`CREATE TRIGGER search_tool_calls_update AFTER UPDATE ON tool_calls
		WHEN old.tool_name IS NOT new.tool_name OR old.tool_input IS NOT new.tool_input OR old.tool_output IS NOT new.tool_output
			OR old.status IS NOT new.status OR old.error IS NOT new.error OR old.rowid IS NOT new.rowid BEGIN
			DELETE FROM ` + SearchTable + ` WHERE ` + span("old", fromToolCall) + `;
			DELETE FROM ` + QueueTable + ` WHERE key = old.rowid * 2 + 1;
			INSERT OR IGNORE INTO ` + QueueTable + ` (key) VALUES (new.rowid * 2 + 1);
		END`,
		`CREATE TRIGGER search_tool_calls_delete AFTER DELETE ON tool_calls BEGIN
			DELETE FROM ` + SearchTable + ` WHERE ` + span("old", fromToolCall) + `;
			DELETE FROM ` + QueueTable + ` WHERE key = old.rowid * 2 + 1;
		END`,

		// Every row there is, for the first drain.
		`INSERT INTO ` + QueueTable + ` (key) SELECT rowid * 2 FROM messages WHERE type IN (` + types + `)`,
		`INSERT INTO ` + QueueTable + ` (key) SELECT rowid * 2 + 1 FROM tool_calls`,
		`INSERT INTO ` + metaTable + ` (key, value) VALUES ('version', '` + searchVersion + `')`,
	}
}

var searchTriggers = []string{
	"search_messages_insert", "search_messages_update", "search_messages_delete",
	"search_tool_calls_insert", "search_tool_calls_update", "search_tool_calls_delete",
}

// searchState is what an archive has of the search index.
type searchState int

const (
	searchNone   searchState = iota // no rows to index: no messages table yet
	searchBroken                    // missing, of another version, or lacking a part
	searchReady
)

// querier is what reading the index's state needs.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func stateOfSearch(ctx context.Context, db querier) (searchState, error) {
	names := append([]string{SearchTable, QueueTable, metaTable, "messages", "tool_calls"}, searchTriggers...)
	var n, base int
	err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name IN ('messages', 'tool_calls'))
		FROM sqlite_master WHERE name IN ('`+strings.Join(names, "', '")+`')`).Scan(&n, &base)
	if err != nil {
		return 0, err
	}
	switch {
	case base < 2:
		return searchNone, nil
	case n < len(names):
		return searchBroken, nil
	}
	var v string
	err = db.QueryRowContext(ctx, "SELECT value FROM "+metaTable+" WHERE key = 'version'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && v != searchVersion) {
		return searchBroken, nil
	}
	if err != nil {
		return 0, err
	}
	return searchReady, nil
}

// withoutSearch, set at link time (-ldflags "-X
// github.com/convlog/convlog/archive.withoutSearch=1"), leaves the search
// index out of archive updates: scripts/bench.sh builds such a binary to
// measure what the index adds to an update.
var withoutSearch string

// mendSearch, before an update writes the archive, makes the search index
// anew if a part of it is missing: a trigger that wrote to a table that is
// gone would fail every write.
func mendSearch(ctx context.Context, db *sql.DB) error {
	if withoutSearch != "" {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := stateOfSearch(ctx, conn)
	if err == nil && st == searchBroken {
		err = buildSearch(ctx, conn)
	}
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// keepSearch makes the search index if the archive lacks it, and indexes
// the rows in the queue, telling progress (when not nil) how many of them
// are done.
func keepSearch(ctx context.Context, db *sql.DB, progress func(done, total int)) error {
	if withoutSearch != "" {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := stateOfSearch(ctx, conn)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	switch st {
	case searchNone:
		return nil
	case searchBroken:
		if err := buildSearch(ctx, conn); err != nil {
			return fmt.Errorf("make the search index: %w", err)
		}
	}
	if err := drainSearch(ctx, conn, progress); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// buildSearch drops what there is of the index and makes it anew, with
// every row queued.
func buildSearch(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var drops []string
	for _, t := range searchTriggers {
		drops = append(drops, "DROP TRIGGER IF EXISTS "+t)
	}
	drops = append(drops, "DROP TABLE IF EXISTS "+SearchTable, "DROP TABLE IF EXISTS "+QueueTable, "DROP TABLE IF EXISTS "+metaTable)
	for _, q := range append(drops, searchDDL()...) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// addTextBytes counts the text indexed, for IndexStats.
const addTextBytes = `INSERT INTO ` + metaTable + ` (key, value) VALUES ('text_bytes', ?)
	ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`

// testHookBatch, when set, runs before each batch of the drain commits.
var testHookBatch func()

// batchBytes is how much text one transaction of the drain indexes at
// most: a crash loses no more work than that.
var batchBytes = 16 << 20

// drainSearch indexes the rows in the queue, a batch a transaction, until
// it is empty, telling progress (when not nil) how many rows are done.
func drainSearch(ctx context.Context, conn *sql.Conn, progress func(done, total int)) error {
	var queued int
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+QueueTable+")").Scan(&queued); err != nil || queued == 0 {
		return err
	}
	total := 0
	if progress != nil {
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+QueueTable).Scan(&total); err != nil {
			return err
		}
	}
	d, err := newDrainer(ctx, conn)
	if err != nil {
		return err
	}
	defer d.close()
	done := 0
	if progress != nil {
		// Told as rows are read, not as batches commit: a batch of 16 MB
		// of text takes a second or two.
		d.onRows = func(n int) {
			done += n
			progress(min(done, total), total)
		}
	}
	for {
		more, err := d.batch(ctx)
		if err != nil {
			return err
		}
		if !more {
			if progress != nil && done < total {
				progress(total, total) // rows removed meanwhile
			}
			return nil
		}
	}
}

type drainer struct {
	conn      *sql.Conn
	next, ins *sql.Stmt
	del       *sql.Stmt
	onRows    func(n int) // when set, told of the rows each read takes in
	titles    titles
}

// queuedRows reads the rows of the next keys of the queue, whichever
// table they are in; a key whose row is gone reads as NULLs.
const queuedRows = `SELECT q.key, m.type, m.subtype, m.raw_message, t.tool_name, t.tool_input, t.tool_output, t.status, t.error, m.session_id
	FROM ` + QueueTable + ` q
	LEFT JOIN messages m ON (q.key & 1) = 0 AND m.rowid = q.key >> 1
	LEFT JOIN tool_calls t ON (q.key & 1) = 1 AND t.rowid = q.key >> 1
	WHERE q.key > ? ORDER BY q.key LIMIT 256`

func newDrainer(ctx context.Context, conn *sql.Conn) (*drainer, error) {
	d := &drainer{conn: conn, titles: titles{}}
	for _, s := range []struct {
		stmt **sql.Stmt
		q    string
	}{
		{&d.next, queuedRows},
		{&d.ins, "INSERT INTO " + SearchTable + " (rowid, body, kind, tool, status) VALUES (?, ?, ?, ?, ?)"},
		{&d.del, "DELETE FROM " + QueueTable + " WHERE key <= ?"},
	} {
		st, err := conn.PrepareContext(ctx, s.q)
		if err != nil {
			d.close()
			return nil, err
		}
		*s.stmt = st
	}
	return d, nil
}

func (d *drainer) close() {
	for _, s := range []*sql.Stmt{d.next, d.ins, d.del} {
		if s != nil {
			s.Close()
		}
	}
}

// batch indexes queued rows in one transaction, up to batchBytes of text,
// and says whether there may be more.
func (d *drainer) batch(ctx context.Context) (more bool, err error) {
	if _, err := d.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			d.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	size, indexed := 0, 0
	after := int64(-1)
	for size < batchBytes {
		docs, last, err := d.read(ctx, after, &size)
		if err != nil {
			return false, err
		}
		if last == after {
			break
		}
		if d.onRows != nil {
			d.onRows(len(docs))
		}
		for _, kd := range docs {
			for _, doc := range kd.docs {
				body := spaceIdeographs(indexedPart(doc.Text))
				indexed += len(body)
				if _, err := d.ins.ExecContext(ctx, docRowid(kd.key, doc.Part), body, ftsKind(doc), ToolToken(doc.Tool), doc.Status); err != nil {
					return false, err
				}
			}
		}
		after = last
	}
	if _, err := d.conn.ExecContext(ctx, addTextBytes, indexed); err != nil {
		return false, err
	}
	if testHookBatch != nil {
		testHookBatch()
	}
	if after >= 0 {
		// The keys are read in order: all up to the last are done.
		if _, err := d.del.ExecContext(ctx, after); err != nil {
			return false, err
		}
	}
	if _, err := d.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return false, err
	}
	return after >= 0, nil
}

type keyDocs struct {
	key  int64
	docs []Doc
}

// read makes the documents of the queued rows after key after, adding
// their size to size until it reaches batchBytes, and returns the last key
// read (after, when none).
func (d *drainer) read(ctx context.Context, after int64, size *int) ([]keyDocs, int64, error) {
	rows, err := d.next.QueryContext(ctx, after)
	if err != nil {
		return nil, after, err
	}
	return readQueued(rows, after, size, batchBytes, d.titles)
}

// titles are the session titles a drain has indexed, by session and
// kind of title line. Claude Code writes a session's title line again and
// again (390 times in one transcript of 9,864 lines): a title line is
// indexed only when its title differs from the last one of its session
// and kind in the same drain, so that one session's title cannot fill a
// search's hits. (A later update that brings the same title again indexes
// it once more.)
type titles map[string]string

// repeated says whether the documents of a message line of session are a
// title the drain indexed last for the session, and notes them otherwise.
func (t titles) repeated(typ, session string, docs []Doc) bool {
	if (typ != "ai-title" && typ != "custom-title") || len(docs) != 1 {
		return false
	}
	k := session + "\x00" + typ
	if last, ok := t[k]; ok && last == docs[0].Text {
		return true
	}
	t[k] = docs[0].Text
	return false
}

// readQueued makes the documents of rows of queuedRows, until their size
// reaches limit, and closes rows.
func readQueued(rows *sql.Rows, after int64, size *int, limit int, seen titles) ([]keyDocs, int64, error) {
	defer rows.Close()
	var out []keyDocs
	last := after
	for *size < limit && rows.Next() {
		var key int64
		var typ, subtype, name, input, output, status, errText, session sql.NullString
		var raw sql.RawBytes
		if err := rows.Scan(&key, &typ, &subtype, &raw, &name, &input, &output, &status, &errText, &session); err != nil {
			return nil, after, err
		}
		var docs []Doc
		if key&1 == fromMessage {
			if docs = MessageDocs(typ.String, subtype.String, raw); seen.repeated(typ.String, session.String, docs) {
				docs = nil
			}
		} else if name.Valid || status.Valid {
			docs = ToolCallDocs(name.String, input.String, output.String, status.String, errText.String)
		}
		for _, doc := range docs {
			*size += min(len(doc.Text), indexedHead+indexedTail)
		}
		out = append(out, keyDocs{key, docs})
		last = key
	}
	return out, last, rows.Err()
}

// Of a long document (a tool's output, mostly), the beginning and the end
// are indexed: indexing costs time in proportion to the words, and past a
// few pages an output is a file read whole or a log, whose first lines
// and last lines (the error, the summary) are what is searched for.
var (
	indexedHead = 48 << 10
	indexedTail = 16 << 10
)

// indexedPart is the part of a document's text that is indexed.
func indexedPart(s string) string {
	if len(s) <= indexedHead+indexedTail {
		return s
	}
	head := s[:indexedHead]
	for len(head) > 0 && !utf8.RuneStart(s[len(head)]) {
		head = head[:len(head)-1]
	}
	tail := s[len(s)-indexedTail:]
	for len(tail) > 0 && !utf8.RuneStart(tail[0]) {
		tail = tail[1:]
	}
	return head + "\n…\n" + tail
}

// ftsKind is what the kind column holds of a document: its kind, and for
// a failed tool's output also "error", so that in:output and in:error
// both find it.
func ftsKind(d Doc) string {
	if d.Kind == KindOutput && d.Status == "error" {
		return KindOutput + " " + KindError
	}
	return d.Kind
}

// ToolToken is a tool's name as the index keeps it: one word of its
// letters and digits, lower case, so that tool:mcp__github__get_issue
// matches that tool and no other.
func ToolToken(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if isWordRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IndexStats is the size of a search index.
type IndexStats struct {
	Documents  int64 // documents in the index
	TextBytes  int64 // the text indexed since the index was made
	IndexBytes int64 // the pages of the full-text table
}

// StatsOf measures the search index of db.
func StatsOf(ctx context.Context, db querier) (*IndexStats, error) {
	st := &IndexStats{}
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+SearchTable+"_docsize").Scan(&st.Documents)
	if err == nil {
		err = db.QueryRowContext(ctx, "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM "+metaTable+" WHERE key = 'text_bytes'), 0)").Scan(&st.TextBytes)
	}
	if err == nil {
		err = db.QueryRowContext(ctx, "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE '"+SearchTable+"%'").Scan(&st.IndexBytes)
	}
	return st, err
}

// QueueLength is the number of rows the index does not hold yet.
func QueueLength(ctx context.Context, db querier) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+QueueTable).Scan(&n)
	return n, err
}

// SearchReady says whether db holds a search index of this version.
func SearchReady(ctx context.Context, db querier) (bool, error) {
	st, err := stateOfSearch(ctx, db)
	return st == searchReady, err
}

// Reindex builds the search index anew, as the archive is brought up to
// date: every row is indexed again.
func (a *Archive) Reindex(ctx context.Context) (*Updated, error) {
	if _, err := os.Stat(a.Path); err == nil {
		db, err := openRW(a.Path, false)
		if err != nil {
			return nil, err
		}
		// Without its version, the index is rebuilt by the update.
		_, err = db.ExecContext(ctx, "DROP TABLE IF EXISTS "+metaTable)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("archive %s: %w", a.Path, err)
		}
	}
	return a.Update(ctx)
}
