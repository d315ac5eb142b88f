package record

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"modernc.org/sqlite"
)

// Session is a row of the sessions table. A nil pointer is a value that is
// not known: NULL, or a column that the file's (older) schema lacks.
type Session struct {
	ID                       string
	StartedAt                *int64 // Unix ms
	EndedAt                  *int64 // Unix ms; nil while running or when the logger was killed
	DurationMS               *int64
	Model                    *string
	Mode                     *string
	PromptLength             *int64
	CWD                      *string
	GitHubRunID              *string
	GitHubRepository         *string
	GitHubRef                *string
	ResultType               *string
	ResultSubtype            *string
	TotalMessages            *int64
	TotalToolCalls           *int64
	AgentSessionID           *string
	AgentVersion             *string
	GitBranch                *string
	Source                   *string
	SourceFormat             *string
	SourcePath               *string
	SourceSize               *int64 // bytes of the imported file
	SourceMtime              *int64 // Unix ms, the imported file's modification time
	IsError                  *bool
	NumTurns                 *int64
	TotalCostUSD             *float64
	InputTokens              *int64
	OutputTokens             *int64
	CacheCreationInputTokens *int64
	CacheReadInputTokens     *int64
	LinesDropped             *int64
	Redactions               *int64
	Agent                    *string // "claude-code", "gemini-cli", "codex", "cursor", "opencode"

	// Not columns: set by the commands that show them.
	// EstimatedCostUSD prices the session's tokens when it reported no cost
	// (nil otherwise, or when no token could be priced).
	EstimatedCostUSD *float64
	// Linked are the other sessions that log the same agent session.
	Linked []string
}

// Incomplete says whether the session has no recorded end: its logger is
// still running, or was killed (the seed's "ended_at IS NULL").
func (s *Session) Incomplete() bool { return s.EndedAt == nil }

// Message is a row of the messages table.
type Message struct {
	ID              string
	Sequence        int64
	Timestamp       *int64 // Unix ms
	Type            *string
	Subtype         *string
	Raw             []byte // the line as stored; not necessarily UTF-8
	ParentToolUseID *string
	APIMessageID    *string
	IsSidechain     *bool
}

// ToolCall is a row of the tool_calls table.
type ToolCall struct {
	ID              string
	MessageID       *string
	Sequence        *int64
	Timestamp       *int64 // Unix ms of the tool_use
	ToolName        *string
	ToolInput       *string // JSON
	ToolOutput      *string
	Status          *string
	DurationMS      *int64
	Error           *string
	ParentToolUseID *string
	ResultMessageID *string
	CompletedAt     *int64 // Unix ms of the tool_result
}

// column maps one column to a field of T. Values are converted leniently,
// since SQLite keeps whatever type was stored: a value that does not fit
// the field is read as unknown rather than failing the whole file.
type column[T any] struct {
	name string
	set  func(row *T, v any)
}

func textCol[T any](name string, f func(*T) **string) column[T] {
	return column[T]{name, func(r *T, v any) { *f(r) = asText(v) }}
}

func intCol[T any](name string, f func(*T) **int64) column[T] {
	return column[T]{name, func(r *T, v any) { *f(r) = asInt(v) }}
}

func boolCol[T any](name string, f func(*T) **bool) column[T] {
	return column[T]{name, func(r *T, v any) {
		if n := asInt(v); n != nil {
			b := *n != 0
			*f(r) = &b
		}
	}}
}

var sessionColumns = []column[Session]{
	{"id", func(s *Session, v any) { s.ID = deref(asText(v)) }},
	intCol("started_at", func(s *Session) **int64 { return &s.StartedAt }),
	intCol("ended_at", func(s *Session) **int64 { return &s.EndedAt }),
	intCol("duration_ms", func(s *Session) **int64 { return &s.DurationMS }),
	textCol("model", func(s *Session) **string { return &s.Model }),
	textCol("mode", func(s *Session) **string { return &s.Mode }),
	intCol("prompt_length", func(s *Session) **int64 { return &s.PromptLength }),
	textCol("cwd", func(s *Session) **string { return &s.CWD }),
	textCol("github_run_id", func(s *Session) **string { return &s.GitHubRunID }),
	textCol("github_repository", func(s *Session) **string { return &s.GitHubRepository }),
	textCol("github_ref", func(s *Session) **string { return &s.GitHubRef }),
	textCol("result_type", func(s *Session) **string { return &s.ResultType }),
	textCol("result_subtype", func(s *Session) **string { return &s.ResultSubtype }),
	intCol("total_messages", func(s *Session) **int64 { return &s.TotalMessages }),
	intCol("total_tool_calls", func(s *Session) **int64 { return &s.TotalToolCalls }),
	textCol("agent_session_id", func(s *Session) **string { return &s.AgentSessionID }),
	textCol("agent_version", func(s *Session) **string { return &s.AgentVersion }),
	textCol("git_branch", func(s *Session) **string { return &s.GitBranch }),
	textCol("source", func(s *Session) **string { return &s.Source }),
	textCol("source_format", func(s *Session) **string { return &s.SourceFormat }),
	textCol("source_path", func(s *Session) **string { return &s.SourcePath }),
	intCol("source_size", func(s *Session) **int64 { return &s.SourceSize }),
	intCol("source_mtime", func(s *Session) **int64 { return &s.SourceMtime }),
	boolCol("is_error", func(s *Session) **bool { return &s.IsError }),
	intCol("num_turns", func(s *Session) **int64 { return &s.NumTurns }),
	{"total_cost_usd", func(s *Session, v any) { s.TotalCostUSD = asReal(v) }},
	intCol("input_tokens", func(s *Session) **int64 { return &s.InputTokens }),
	intCol("output_tokens", func(s *Session) **int64 { return &s.OutputTokens }),
	intCol("cache_creation_input_tokens", func(s *Session) **int64 { return &s.CacheCreationInputTokens }),
	intCol("cache_read_input_tokens", func(s *Session) **int64 { return &s.CacheReadInputTokens }),
	intCol("lines_dropped", func(s *Session) **int64 { return &s.LinesDropped }),
	intCol("redactions", func(s *Session) **int64 { return &s.Redactions }),
	textCol("agent", func(s *Session) **string { return &s.Agent }),
}

var messageColumns = []column[Message]{
	{"id", func(m *Message, v any) { m.ID = deref(asText(v)) }},
	{"sequence", func(m *Message, v any) { m.Sequence = derefInt(asInt(v)) }},
	intCol("timestamp", func(m *Message) **int64 { return &m.Timestamp }),
	textCol("type", func(m *Message) **string { return &m.Type }),
	textCol("subtype", func(m *Message) **string { return &m.Subtype }),
	{"raw_message", func(m *Message, v any) { m.Raw = asBytes(v) }},
	textCol("parent_tool_use_id", func(m *Message) **string { return &m.ParentToolUseID }),
	textCol("api_message_id", func(m *Message) **string { return &m.APIMessageID }),
	boolCol("is_sidechain", func(m *Message) **bool { return &m.IsSidechain }),
}

var toolCallColumns = []column[ToolCall]{
	{"id", func(t *ToolCall, v any) { t.ID = deref(asText(v)) }},
	// The archive and synced databases key tool calls by session
	// ({session}-tool-{id}); tool_use_id is the id the agent gave.
	{"tool_use_id", func(t *ToolCall, v any) {
		if s := deref(asText(v)); s != "" {
			t.ID = s
		}
	}},
	textCol("message_id", func(t *ToolCall) **string { return &t.MessageID }),
	intCol("sequence", func(t *ToolCall) **int64 { return &t.Sequence }),
	intCol("timestamp", func(t *ToolCall) **int64 { return &t.Timestamp }),
	textCol("tool_name", func(t *ToolCall) **string { return &t.ToolName }),
	textCol("tool_input", func(t *ToolCall) **string { return &t.ToolInput }),
	textCol("tool_output", func(t *ToolCall) **string { return &t.ToolOutput }),
	textCol("status", func(t *ToolCall) **string { return &t.Status }),
	intCol("duration_ms", func(t *ToolCall) **int64 { return &t.DurationMS }),
	textCol("error", func(t *ToolCall) **string { return &t.Error }),
	textCol("parent_tool_use_id", func(t *ToolCall) **string { return &t.ParentToolUseID }),
	textCol("result_message_id", func(t *ToolCall) **string { return &t.ResultMessageID }),
	intCol("completed_at", func(t *ToolCall) **int64 { return &t.CompletedAt }),
}

// Why a file cannot be read as a session; FileError wraps one of these.
var (
	ErrNotSessionFile = errors.New("not a convlog database")
	ErrCorrupt        = errors.New("corrupt database")
	ErrLocked         = errors.New("locked by another process")
)

// FileError is a session file that could not be read. Kind is one of
// ErrNotSessionFile, ErrCorrupt, ErrLocked, or nil for any other failure.
type FileError struct {
	Path string
	Kind error
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Reason() }

// Reason is the error without the file's path.
func (e *FileError) Reason() string {
	msg := e.Err.Error()
	var se *sqlite.Error
	if errors.As(e.Err, &se) {
		// The driver appends the numeric result code, "(26)"; Kind says it
		// in words.
		msg = strings.TrimSpace(sqliteCode.ReplaceAllString(msg, ""))
	}
	if e.Kind == nil {
		return msg
	}
	return fmt.Sprintf("%v (%s)", e.Kind, msg)
}

var sqliteCode = regexp.MustCompile(` \(\d+\)$`)

func (e *FileError) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// SQLite's primary result codes that say what is wrong with a file.
const (
	sqliteBusy    = 5
	sqliteLocked  = 6
	sqliteCorrupt = 11
	sqliteNotADB  = 26
)

func fileError(path string, err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	if odd := oddCompanion(path); odd != "" {
		// SQLite says only "unable to open database file".
		err = fmt.Errorf("%s, which SQLite does not follow: remove it to read this session (%w)", odd, err)
	}
	fe = &FileError{Path: path, Err: err}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteNotADB:
			fe.Kind = ErrNotSessionFile
		case sqliteCorrupt:
			fe.Kind = ErrCorrupt
		case sqliteBusy, sqliteLocked:
			fe.Kind = ErrLocked
		}
	}
	return fe
}

// Reader reads one session file. All its reads see the file as it was at
// OpenReader, even while a `convlog tee` goes on writing it: a read
// transaction on a WAL file does not hold up the writer.
type Reader struct {
	Path string

	db   *sql.DB
	tx   *sql.Tx
	cols map[string]map[string]bool // table → columns the file has
}

// OpenReader opens a session file read-only. It never changes the file: a
// file of an older schema is read as it is, its missing columns as unknown.
// Errors are *FileError.
func OpenReader(ctx context.Context, path string) (*Reader, error) {
	db, err := OpenReadOnly(ctx, path)
	if err != nil {
		return nil, fileError(path, err)
	}
	r := &Reader{Path: path, db: db, cols: map[string]map[string]bool{}}
	if err := r.start(ctx); err != nil {
		db.Close()
		return nil, fileError(path, err)
	}
	return r, nil
}

func (r *Reader) start(ctx context.Context) error {
	tx, err := r.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	r.tx = tx
	for _, table := range []string{"sessions", "messages", "tool_calls"} {
		cols, err := TableColumns(ctx, tx, table)
		if err != nil {
			return err
		}
		have := make(map[string]bool, len(cols))
		for _, c := range cols {
			have[strings.ToLower(c.Name)] = true
		}
		r.cols[table] = have
	}
	if !r.cols["sessions"]["id"] {
		return &FileError{Path: r.Path, Kind: ErrNotSessionFile, Err: errors.New("no sessions table")}
	}
	return nil
}

// Close ends the read and closes the file.
func (r *Reader) Close() error {
	if r.tx != nil {
		r.tx.Rollback()
	}
	return r.db.Close()
}

// selectList names the columns of cols that table has, in order, and
// returns them.
func selectList[T any](have map[string]bool, cols []column[T]) (string, []column[T]) {
	var names []string
	var present []column[T]
	for _, c := range cols {
		if have[c.name] {
			names = append(names, c.name)
			present = append(present, c)
		}
	}
	return strings.Join(names, ", "), present
}

// each runs query and hands each row, mapped onto a new T, to fn.
func each[T any](ctx context.Context, tx *sql.Tx, query string, cols []column[T], fn func(*T) error, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		var row T
		for i, c := range cols {
			c.set(&row, vals[i])
		}
		if err := fn(&row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Session reads the session row: the one whose id is the file's name, or
// else the file's only row (a renamed file).
func (r *Reader) Session(ctx context.Context) (*Session, error) {
	list, cols := selectList(r.cols["sessions"], sessionColumns)
	stem := strings.TrimSuffix(filepath.Base(r.Path), ".db")
	var found []*Session
	err := each(ctx, r.tx, "SELECT "+list+" FROM sessions ORDER BY id = ? DESC LIMIT 2", cols,
		func(s *Session) error { found = append(found, s); return nil }, stem)
	if err != nil {
		return nil, fileError(r.Path, err)
	}
	switch {
	case len(found) > 0 && found[0].ID == stem, len(found) == 1:
		return found[0], nil
	case len(found) == 0:
		return nil, &FileError{Path: r.Path, Kind: ErrNotSessionFile, Err: errors.New("no session row")}
	default:
		return nil, &FileError{Path: r.Path, Kind: ErrNotSessionFile, Err: fmt.Errorf("several session rows, none with id %q", stem)}
	}
}

// Messages hands the session's messages to fn in sequence order, stopping
// at the first error fn returns. A file without a messages table has none.
func (r *Reader) Messages(ctx context.Context, sessionID string, fn func(*Message) error) error {
	have := r.cols["messages"]
	if !have["session_id"] {
		return nil
	}
	list, cols := selectList(have, messageColumns)
	order := "rowid"
	if have["sequence"] {
		order = "sequence, rowid"
	}
	return each(ctx, r.tx, "SELECT "+list+" FROM messages WHERE session_id = ? ORDER BY "+order, cols, fn, sessionID)
}

// ToolCalls hands the session's tool calls to fn in the order of their
// tool_use blocks.
func (r *Reader) ToolCalls(ctx context.Context, sessionID string, fn func(*ToolCall) error) error {
	have := r.cols["tool_calls"]
	if !have["session_id"] {
		return nil
	}
	list, cols := selectList(have, toolCallColumns)
	order := "rowid"
	if have["sequence"] {
		order = "sequence, rowid"
	}
	return each(ctx, r.tx, "SELECT "+list+" FROM tool_calls WHERE session_id = ? ORDER BY "+order, cols, fn, sessionID)
}

// ReadSession reads the session row of one file.
func ReadSession(ctx context.Context, path string) (*Session, error) {
	r, err := OpenReader(ctx, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Session(ctx)
}

func asText(v any) *string {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case float64:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return nil
	}
	return &s
}

func asInt(v any) *int64 {
	var n int64
	switch v := v.(type) {
	case int64:
		n = v
	case float64:
		// A REAL beyond an int64 (an older convlog stored 1e19 tokens
		// so) has no value as one.
		if math.IsNaN(v) || v < -(1<<63) || v >= 1<<63 {
			return nil
		}
		n = int64(v)
	case string:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return nil
		}
	default:
		return nil
	}
	return &n
}

func asReal(v any) *float64 {
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case int64:
		f = float64(v)
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return nil
		}
	default:
		return nil
	}
	// +Inf (an older convlog stored a cost of 1e400 so) is no amount, and
	// JSON cannot say it.
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	return &f
}

func asBytes(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case []byte:
		return append([]byte(nil), v...)
	case nil:
		return nil
	default:
		return []byte(deref(asText(v)))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// oddCompanion names a file beside the database at path, where SQLite
// keeps its WAL, shared memory or journal, that is not a plain file (a
// symbolic link, planted or left by something else), which SQLite refuses
// to open; "" when there is none.
func oddCompanion(path string) string {
	for _, sfx := range []string{"-wal", "-shm", "-journal"} {
		st, err := os.Lstat(path + sfx)
		if err != nil || st.Mode().IsRegular() {
			continue
		}
		what := "not a plain file"
		if st.Mode()&os.ModeSymlink != 0 {
			what = "a symbolic link"
		}
		return filepath.Base(path+sfx) + " beside it is " + what
	}
	return ""
}
