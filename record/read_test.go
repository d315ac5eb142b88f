package record

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/stream"
)

// readSchema is schema.sql, which the root package embeds for the binary.
func readSchema(t testing.TB) *Schema {
	t.Helper()
	b, err := os.ReadFile("../schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSchema(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readFixture is a small stream-json session: init, a tool use and its
// error result, a line that is not JSON, one that is not UTF-8, a result.
var readFixture = []string{
	`{"type":"system","subtype":"init","cwd":"/work/p","session_id":"agent-1","model":"claude-test-1","tools":["Bash"],"claude_code_version":"2.1.0","timestamp":"2026-01-02T03:04:05.000Z"}`,
	`{"type":"assistant","message":{"id":"msg_1","model":"claude-test-1","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"false"}}],"usage":{"input_tokens":3,"output_tokens":4}},"session_id":"agent-1","timestamp":"2026-01-02T03:04:06.000Z"}`,
	`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"exit 1","is_error":true}]},"session_id":"agent-1","timestamp":"2026-01-02T03:04:06.250Z"}`,
	`>>> not json`,
	"{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"caf\xe9\"}}",
	`{"type":"result","subtype":"success","is_error":false,"num_turns":1,"duration_ms":1500,"total_cost_usd":0.25,"usage":{"input_tokens":3,"output_tokens":4,"cache_creation_input_tokens":5,"cache_read_input_tokens":6},"session_id":"agent-1","result":"done","timestamp":"2026-01-02T03:04:07.000Z"}`,
}

const (
	fixtureStart = 1767323045000 // 2026-01-02T03:04:05.000Z
	fixtureEnd   = 1767323047500
)

// writeSession writes lines as session id into dir through the real Writer,
// with the lines' own times; ended 0 leaves it incomplete, as a killed
// logger does.
func writeSession(t testing.TB, dir, id string, started, ended int64, lines []string) string {
	t.Helper()
	ctx := context.Background()
	w, err := Create(ctx, dir, readSchema(t), Meta{ID: id, StartedAt: started, Mode: "auto", PromptLength: -1, Source: "tee", SourceFormat: "stream-json"})
	if err != nil {
		t.Fatal(err)
	}
	p := stream.NewProcessor(w)
	p.LineTimes = true
	for _, l := range lines {
		p.Line([]byte(l), 0)
	}
	if ended == 0 {
		w.Commit(p.Totals())
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	} else if err := w.Finish(p.Totals(), ended); err != nil {
		t.Fatal(err)
	}
	return w.Path
}

func TestReaderReadsWhatTheWriterWrote(t *testing.T) {
	dir := t.TempDir()
	path := writeSession(t, dir, "s1", fixtureStart, fixtureEnd, readFixture)
	ctx := t.Context()
	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "s1" || *s.Model != "claude-test-1" || *s.CWD != "/work/p" || *s.StartedAt != fixtureStart ||
		*s.EndedAt != fixtureEnd || *s.DurationMS != fixtureEnd-fixtureStart || s.Incomplete() {
		t.Errorf("session: %+v", s)
	}
	if *s.ResultType != "result" || *s.ResultSubtype != "success" || *s.IsError || *s.TotalCostUSD != 0.25 ||
		*s.InputTokens != 3 || *s.CacheReadInputTokens != 6 || *s.TotalMessages != 6 || *s.TotalToolCalls != 1 {
		t.Errorf("session figures: %+v", s)
	}
	if s.GitHubRunID != nil || s.SourcePath != nil {
		t.Errorf("NULL columns read as set: %+v", s)
	}

	var msgs []*Message
	if err := r.Messages(ctx, s.ID, func(m *Message) error { msgs = append(msgs, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(readFixture) {
		t.Fatalf("%d messages, want %d", len(msgs), len(readFixture))
	}
	for i, m := range msgs {
		if m.Sequence != int64(i) || m.ID != "s1-msg-"+string(rune('0'+i)) || string(m.Raw) != readFixture[i] {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	if *msgs[3].Type != "error" || *msgs[3].Subtype != "invalid_json" || msgs[3].Timestamp != nil {
		t.Errorf("non-JSON line: %+v", msgs[3])
	}
	if *msgs[1].Timestamp != fixtureStart+1000 || *msgs[1].APIMessageID != "msg_1" {
		t.Errorf("assistant line: %+v", msgs[1])
	}

	var calls []*ToolCall
	if err := r.ToolCalls(ctx, s.ID, func(c *ToolCall) error { calls = append(calls, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 {
		t.Fatalf("%d tool calls", len(calls))
	}
	c := calls[0]
	if c.ID != "toolu_1" || *c.ToolName != "Bash" || *c.Status != "error" || *c.DurationMS != 250 ||
		*c.ToolInput != `{"command":"false"}` || *c.Error != "exit 1" || *c.MessageID != "s1-msg-1" || *c.ResultMessageID != "s1-msg-2" {
		t.Errorf("tool call: %+v", c)
	}
}

func TestReaderStopsAtCallbackError(t *testing.T) {
	path := writeSession(t, t.TempDir(), "s1", fixtureStart, fixtureEnd, readFixture)
	r, err := OpenReader(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := errors.New("stop")
	n := 0
	err = r.Messages(t.Context(), "s1", func(*Message) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d messages", err, n)
	}
}

// seedSchema is the seed's three tables and nothing else: a file written
// before convlog added its columns.
const seedSchema = `
CREATE TABLE sessions (id TEXT PRIMARY KEY, started_at INTEGER, ended_at INTEGER, duration_ms INTEGER,
  model TEXT, mode TEXT, prompt_length INTEGER, cwd TEXT, github_run_id TEXT, github_repository TEXT,
  github_ref TEXT, result_type TEXT, result_subtype TEXT, total_messages INTEGER, total_tool_calls INTEGER);
CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), sequence INTEGER NOT NULL,
  timestamp INTEGER, type TEXT, subtype TEXT, raw_message TEXT);
CREATE TABLE tool_calls (id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), message_id TEXT,
  sequence INTEGER, timestamp INTEGER, tool_name TEXT, tool_input TEXT, tool_output TEXT, status TEXT,
  duration_ms INTEGER, error TEXT);
INSERT INTO sessions VALUES ('old', 1000, 5000, 4000, 'claude-old', 'auto', 12, '/old', NULL, NULL, NULL, 'result', 'success', 2, 1);
INSERT INTO messages VALUES ('old-msg-1', 'old', 1, 2000, 'user', NULL, '{"type":"user"}');
INSERT INTO messages VALUES ('old-msg-0', 'old', 0, 1000, 'assistant', NULL, '{"type":"assistant"}');
INSERT INTO tool_calls VALUES ('t1', 'old', 'old-msg-0', 0, 1000, 'Read', '{}', 'ok', 'success', 7, NULL);
`

// writeSQLite makes a plain SQLite file with script, as another program
// would.
func writeSQLite(t testing.TB, path, script string) {
	t.Helper()
	db, err := sql.Open("sqlite", DSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(script); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA journal_mode=DELETE"); err != nil {
		t.Fatal(err)
	}
}

func TestReaderOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	writeSQLite(t, path, seedSchema)
	before, _ := os.ReadFile(path)
	ctx := t.Context()
	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if *s.Model != "claude-old" || *s.DurationMS != 4000 || s.TotalCostUSD != nil || s.IsError != nil || s.LinesDropped != nil {
		t.Errorf("session: %+v", s)
	}
	var seqs []int64
	r.Messages(ctx, "old", func(m *Message) error { seqs = append(seqs, m.Sequence); return nil })
	if len(seqs) != 2 || seqs[0] != 0 || seqs[1] != 1 {
		t.Errorf("messages out of order: %v", seqs)
	}
	var calls []*ToolCall
	r.ToolCalls(ctx, "old", func(c *ToolCall) error { calls = append(calls, c); return nil })
	if len(calls) != 1 || *calls[0].DurationMS != 7 || calls[0].CompletedAt != nil {
		t.Errorf("tool calls: %+v", calls)
	}
	r.Close()
	// Reading is not migrating: the file is as it was.
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("reading changed the file")
	}
	var version int64
	db, _ := OpenReadOnly(ctx, path)
	defer db.Close()
	db.QueryRow("PRAGMA user_version").Scan(&version)
	if version != 0 {
		t.Errorf("user_version %d after reading", version)
	}
}

func TestReaderLenientTypes(t *testing.T) {
	// SQLite keeps what it is given; a value of the wrong type reads as
	// unknown instead of failing the file.
	path := filepath.Join(t.TempDir(), "odd.db")
	writeSQLite(t, path, seedSchema+`UPDATE sessions SET duration_ms = 'soon', total_messages = '2', started_at = 1000.0;`)
	s, err := ReadSession(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if s.DurationMS != nil || *s.TotalMessages != 2 || *s.StartedAt != 1000 {
		t.Errorf("session: %+v", s)
	}
}

func TestReaderRenamedFile(t *testing.T) {
	dir := t.TempDir()
	path := writeSession(t, dir, "orig", fixtureStart, fixtureEnd, readFixture[:2])
	moved := filepath.Join(dir, "renamed.db")
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSession(t.Context(), moved)
	if err != nil || s.ID != "orig" {
		t.Fatalf("%+v, %v", s, err)
	}
}

func TestReaderBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeSession(t, dir, "good", fixtureStart, fixtureEnd, readFixture)
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), goodBytes...)
	for i := 4096; i < 8192 && i < len(corrupt); i++ {
		corrupt[i] = 0xab
	}
	files := map[string][]byte{
		"text.db":    []byte(strings.Repeat("not a database\n", 100)),
		"empty.db":   nil,
		"corrupt.db": corrupt,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeSQLite(t, filepath.Join(dir, "other.db"), `CREATE TABLE notes (x TEXT)`)
	writeSQLite(t, filepath.Join(dir, "two.db"), seedSchema+`INSERT INTO sessions (id) VALUES ('another');`)

	cases := []struct {
		name string
		kind error
		says string
	}{
		{"text.db", ErrNotSessionFile, "file is not a database"},
		{"empty.db", ErrNotSessionFile, "no sessions table"},
		{"other.db", ErrNotSessionFile, "no sessions table"},
		{"corrupt.db", ErrCorrupt, "malformed"},
		{"two.db", ErrNotSessionFile, "several session rows"},
		{"missing.db", nil, "unable to open"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadSession(t.Context(), filepath.Join(dir, c.name))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *FileError", err, err)
			}
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Errorf("error %v is not %v", err, c.kind)
			}
			if !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), c.name) {
				t.Errorf("error %q does not name the file and say %q", err, c.says)
			}
			if strings.Contains(fe.Reason(), c.name) {
				t.Errorf("Reason %q names the file", fe.Reason())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Error("reading a missing file created it")
	}
}

func TestReaderLockedFile(t *testing.T) {
	path := writeSession(t, t.TempDir(), "busy", fixtureStart, fixtureEnd, readFixture)
	// A finished session is in rollback-journal mode, where a writer's
	// exclusive lock keeps readers out.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = ReadSession(t.Context(), path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("error %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited < BusyTimeout/2 {
		t.Errorf("gave up after %v, before the busy timeout", waited)
	}
	conn.ExecContext(t.Context(), "ROLLBACK")
	if _, err := ReadSession(t.Context(), path); err != nil {
		t.Fatalf("after the lock is released: %v", err)
	}
}

func TestReaderSeesOneSnapshot(t *testing.T) {
	// A reader opened while the writer is between commits sees the file as
	// it was at OpenReader, whatever is committed later.
	dir := t.TempDir()
	ctx := t.Context()
	w, err := Create(ctx, dir, readSchema(t), Meta{ID: "live", StartedAt: fixtureStart, PromptLength: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p := stream.NewProcessor(w)
	p.Line([]byte(readFixture[0]), fixtureStart)
	w.Commit(p.Totals())

	r, err := OpenReader(ctx, w.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range readFixture[1:] {
		p.Line([]byte(l), fixtureStart+1)
	}
	w.Commit(p.Totals())

	n := 0
	r.Messages(ctx, s.ID, func(*Message) error { n++; return nil })
	if *s.TotalMessages != 1 || n != 1 || !s.Incomplete() {
		t.Errorf("snapshot: total_messages %d, %d rows, incomplete %v", *s.TotalMessages, n, s.Incomplete())
	}
	later, err := ReadSession(ctx, w.Path)
	if err != nil {
		t.Fatal(err)
	}
	if *later.TotalMessages != int64(len(readFixture)) {
		t.Errorf("a new reader sees %d messages", *later.TotalMessages)
	}
}

func TestReaderInvalidUTF8IsKeptExactly(t *testing.T) {
	path := writeSession(t, t.TempDir(), "bytes", fixtureStart, fixtureEnd, readFixture)
	r, err := OpenReader(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var raw []byte
	r.Messages(t.Context(), "bytes", func(m *Message) error {
		if m.Sequence == 4 {
			raw = m.Raw
		}
		return nil
	})
	if string(raw) != readFixture[4] {
		t.Errorf("raw %q, want %q", raw, readFixture[4])
	}
}
