package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// Source reads the rows of one session: from its own file, or from a
// database of many sessions (the archive, or the synced database).
type Source interface {
	Session(ctx context.Context) (*record.Session, error)
	Messages(ctx context.Context, fn func(*record.Message) error) error
	ToolCalls(ctx context.Context, fn func(*record.ToolCall) error) error
	Close() error
}

// FileSource reads a session file through record.Reader: one read
// transaction, so that a session that convlog tee is writing is seen as it
// was at one moment.
type FileSource struct {
	r  *record.Reader
	id string
}

// OpenFile opens a session file for reading.
func OpenFile(ctx context.Context, path string) (*FileSource, error) {
	r, err := record.OpenReader(ctx, path)
	if err != nil {
		return nil, err
	}
	return &FileSource{r: r}, nil
}

// Session reads the session row.
func (f *FileSource) Session(ctx context.Context) (*record.Session, error) {
	s, err := f.r.Session(ctx)
	if err == nil {
		f.id = s.ID
		if rows, uerr := f.r.Usage(ctx, s.ID); uerr == nil && s.TotalCostUSD == nil {
			s.EstimatedCostUSD, _ = report.EstimateCost(rows)
		}
	}
	return s, err
}

// Messages hands fn the messages in sequence order; Session must have been
// read first.
func (f *FileSource) Messages(ctx context.Context, fn func(*record.Message) error) error {
	return f.r.Messages(ctx, f.id, fn)
}

// ToolCalls hands fn the tool calls in order.
func (f *FileSource) ToolCalls(ctx context.Context, fn func(*record.ToolCall) error) error {
	return f.r.ToolCalls(ctx, f.id, fn)
}

// Close ends the read.
func (f *FileSource) Close() error { return f.r.Close() }

// DBSource reads one session of a database that holds many (the archive, a
// synced libSQL database), by column name, so that a database of an older or
// newer schema is read as far as it goes.
type DBSource struct {
	db querier
	id string
}

// querier is a database, or one read transaction on it.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// NewDBSource reads session id from db; Close does not close db.
func NewDBSource(db *sql.DB, id string) *DBSource { return &DBSource{db: db, id: id} }

// ErrNoSession is a session that the database does not hold.
var ErrNoSession = errors.New("no such session")

// Session reads the session row.
func (d *DBSource) Session(ctx context.Context) (*record.Session, error) {
	var found *record.Session
	err := scanRows(ctx, d.db, "SELECT * FROM sessions WHERE id = ?", []any{d.id}, func(cols []string, vals []any) error {
		s := &record.Session{}
		for i, c := range cols {
			if set := sessionSetters[strings.ToLower(c)]; set != nil {
				set(s, vals[i])
			}
		}
		found = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("session %s: %w", d.id, ErrNoSession)
	}
	// A database of an older schema has no usage rows: CostOf then prices
	// the session's totals.
	if found.TotalCostUSD == nil {
		if rows, err := record.ReadUsage(ctx, d.db, d.id); err == nil {
			found.EstimatedCostUSD, _ = report.EstimateCost(rows)
		}
	}
	return found, nil
}

// Messages hands fn the messages in sequence order.
func (d *DBSource) Messages(ctx context.Context, fn func(*record.Message) error) error {
	return d.messagesAfter(ctx, -1, fn)
}

func (d *DBSource) messagesAfter(ctx context.Context, after int64, fn func(*record.Message) error) error {
	return scanRows(ctx, d.db, "SELECT * FROM messages WHERE session_id = ? AND sequence > ? ORDER BY sequence",
		[]any{d.id, after}, func(cols []string, vals []any) error {
			m := &record.Message{}
			for i, c := range cols {
				if set := messageSetters[strings.ToLower(c)]; set != nil {
					set(m, vals[i])
				}
			}
			return fn(m)
		})
}

// ToolCalls hands fn the tool calls in order.
func (d *DBSource) ToolCalls(ctx context.Context, fn func(*record.ToolCall) error) error {
	return d.toolCallsWhere(ctx, "", nil, fn)
}

func (d *DBSource) toolCallsWhere(ctx context.Context, cond string, args []any, fn func(*record.ToolCall) error) error {
	q := "SELECT * FROM tool_calls WHERE session_id = ?"
	if cond != "" {
		q += " AND (" + cond + ")"
	}
	return scanRows(ctx, d.db, q+" ORDER BY sequence, id", append([]any{d.id}, args...), func(cols []string, vals []any) error {
		t := &record.ToolCall{}
		for i, c := range cols {
			if set := toolCallSetters[strings.ToLower(c)]; set != nil {
				set(t, vals[i])
			}
		}
		return fn(t)
	})
}

// Close does nothing: the database belongs to the caller.
func (d *DBSource) Close() error { return nil }

// scanRows runs q and hands each row's column names and values to fn.
func scanRows(ctx context.Context, db querier, q string, args []any, fn func(cols []string, vals []any) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(cols, vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Values are read leniently, as record reads them: SQLite keeps whatever
// type was stored, and a value that does not fit is unknown.
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
		n = int64(v)
	case string:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return nil
		}
	case []byte:
		return asInt(string(v))
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
	case []byte:
		return asReal(string(v))
	default:
		return nil
	}
	return &f
}

func asBool(v any) *bool {
	n := asInt(v)
	if n == nil {
		return nil
	}
	b := *n != 0
	return &b
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

var sessionSetters = map[string]func(*record.Session, any){
	"id":                          func(s *record.Session, v any) { s.ID = deref(asText(v)) },
	"started_at":                  func(s *record.Session, v any) { s.StartedAt = asInt(v) },
	"ended_at":                    func(s *record.Session, v any) { s.EndedAt = asInt(v) },
	"duration_ms":                 func(s *record.Session, v any) { s.DurationMS = asInt(v) },
	"model":                       func(s *record.Session, v any) { s.Model = asText(v) },
	"mode":                        func(s *record.Session, v any) { s.Mode = asText(v) },
	"prompt_length":               func(s *record.Session, v any) { s.PromptLength = asInt(v) },
	"cwd":                         func(s *record.Session, v any) { s.CWD = asText(v) },
	"github_run_id":               func(s *record.Session, v any) { s.GitHubRunID = asText(v) },
	"github_repository":           func(s *record.Session, v any) { s.GitHubRepository = asText(v) },
	"github_ref":                  func(s *record.Session, v any) { s.GitHubRef = asText(v) },
	"result_type":                 func(s *record.Session, v any) { s.ResultType = asText(v) },
	"result_subtype":              func(s *record.Session, v any) { s.ResultSubtype = asText(v) },
	"total_messages":              func(s *record.Session, v any) { s.TotalMessages = asInt(v) },
	"total_tool_calls":            func(s *record.Session, v any) { s.TotalToolCalls = asInt(v) },
	"agent_session_id":            func(s *record.Session, v any) { s.AgentSessionID = asText(v) },
	"agent_version":               func(s *record.Session, v any) { s.AgentVersion = asText(v) },
	"git_branch":                  func(s *record.Session, v any) { s.GitBranch = asText(v) },
	"source":                      func(s *record.Session, v any) { s.Source = asText(v) },
	"source_format":               func(s *record.Session, v any) { s.SourceFormat = asText(v) },
	"source_path":                 func(s *record.Session, v any) { s.SourcePath = asText(v) },
	"source_size":                 func(s *record.Session, v any) { s.SourceSize = asInt(v) },
	"source_mtime":                func(s *record.Session, v any) { s.SourceMtime = asInt(v) },
	"is_error":                    func(s *record.Session, v any) { s.IsError = asBool(v) },
	"num_turns":                   func(s *record.Session, v any) { s.NumTurns = asInt(v) },
	"total_cost_usd":              func(s *record.Session, v any) { s.TotalCostUSD = asReal(v) },
	"input_tokens":                func(s *record.Session, v any) { s.InputTokens = asInt(v) },
	"output_tokens":               func(s *record.Session, v any) { s.OutputTokens = asInt(v) },
	"cache_creation_input_tokens": func(s *record.Session, v any) { s.CacheCreationInputTokens = asInt(v) },
	"cache_read_input_tokens":     func(s *record.Session, v any) { s.CacheReadInputTokens = asInt(v) },
	"lines_dropped":               func(s *record.Session, v any) { s.LinesDropped = asInt(v) },
	"redactions":                  func(s *record.Session, v any) { s.Redactions = asInt(v) },
}

var messageSetters = map[string]func(*record.Message, any){
	"id":                 func(m *record.Message, v any) { m.ID = deref(asText(v)) },
	"sequence":           func(m *record.Message, v any) { m.Sequence = derefInt(asInt(v)) },
	"timestamp":          func(m *record.Message, v any) { m.Timestamp = asInt(v) },
	"type":               func(m *record.Message, v any) { m.Type = asText(v) },
	"subtype":            func(m *record.Message, v any) { m.Subtype = asText(v) },
	"raw_message":        func(m *record.Message, v any) { m.Raw = asBytes(v) },
	"parent_tool_use_id": func(m *record.Message, v any) { m.ParentToolUseID = asText(v) },
	"api_message_id":     func(m *record.Message, v any) { m.APIMessageID = asText(v) },
	"is_sidechain":       func(m *record.Message, v any) { m.IsSidechain = asBool(v) },
}

var toolCallSetters = map[string]func(*record.ToolCall, any){
	"id": func(t *record.ToolCall, v any) { t.ID = deref(asText(v)) },
	// The archive and synced databases key tool calls by session; the
	// agent's own id is tool_use_id, a later column than id.
	"tool_use_id": func(t *record.ToolCall, v any) {
		if id := deref(asText(v)); id != "" {
			t.ID = id
		}
	},
	"message_id":         func(t *record.ToolCall, v any) { t.MessageID = asText(v) },
	"sequence":           func(t *record.ToolCall, v any) { t.Sequence = asInt(v) },
	"timestamp":          func(t *record.ToolCall, v any) { t.Timestamp = asInt(v) },
	"tool_name":          func(t *record.ToolCall, v any) { t.ToolName = asText(v) },
	"tool_input":         func(t *record.ToolCall, v any) { t.ToolInput = asText(v) },
	"tool_output":        func(t *record.ToolCall, v any) { t.ToolOutput = asText(v) },
	"status":             func(t *record.ToolCall, v any) { t.Status = asText(v) },
	"duration_ms":        func(t *record.ToolCall, v any) { t.DurationMS = asInt(v) },
	"error":              func(t *record.ToolCall, v any) { t.Error = asText(v) },
	"parent_tool_use_id": func(t *record.ToolCall, v any) { t.ParentToolUseID = asText(v) },
	"result_message_id":  func(t *record.ToolCall, v any) { t.ResultMessageID = asText(v) },
	"completed_at":       func(t *record.ToolCall, v any) { t.CompletedAt = asInt(v) },
}

func derefInt(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}
