// Package report renders sessions read from their files: plain text for
// people and JSON for machines. The JSON shape is a documented contract
// (see the README); its tests pin it with golden files.
package report

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convlog/convlog/record"
)

// ISOTime is a Unix ms time as ISO 8601 in UTC with milliseconds, as
// JavaScript's toISOString writes it.
func ISOTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

func isoPtr(ms *int64) *string {
	if ms == nil {
		return nil
	}
	s := ISOTime(*ms)
	return &s
}

// Session is the JSON form of a session row: every column under its own
// name, each time also as an ISO 8601 string beside its Unix ms, and
// whether the session is incomplete. Unknown values are null; keys are
// always present.
type Session struct {
	ID                       string   `json:"id"`
	StartedAt                *int64   `json:"started_at"`
	Started                  *string  `json:"started"`
	EndedAt                  *int64   `json:"ended_at"`
	Ended                    *string  `json:"ended"`
	DurationMS               *int64   `json:"duration_ms"`
	Incomplete               *bool    `json:"incomplete"`
	Agent                    *string  `json:"agent"`
	Model                    *string  `json:"model"`
	Mode                     *string  `json:"mode"`
	PromptLength             *int64   `json:"prompt_length"`
	CWD                      *string  `json:"cwd"`
	GitHubRunID              *string  `json:"github_run_id"`
	GitHubRepository         *string  `json:"github_repository"`
	GitHubRef                *string  `json:"github_ref"`
	ResultType               *string  `json:"result_type"`
	ResultSubtype            *string  `json:"result_subtype"`
	IsError                  *bool    `json:"is_error"`
	NumTurns                 *int64   `json:"num_turns"`
	TotalMessages            *int64   `json:"total_messages"`
	TotalToolCalls           *int64   `json:"total_tool_calls"`
	TotalCostUSD             *float64 `json:"total_cost_usd"`
	InputTokens              *int64   `json:"input_tokens"`
	OutputTokens             *int64   `json:"output_tokens"`
	CacheCreationInputTokens *int64   `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64   `json:"cache_read_input_tokens"`
	LinesDropped             *int64   `json:"lines_dropped"`
	Redactions               *int64   `json:"redactions"`
	AgentSessionID           *string  `json:"agent_session_id"`
	AgentVersion             *string  `json:"agent_version"`
	GitBranch                *string  `json:"git_branch"`
	Source                   *string  `json:"source"`
	SourceFormat             *string  `json:"source_format"`
	SourcePath               *string  `json:"source_path"`
	SourceSize               *int64   `json:"source_size"`
	SourceMtime              *int64   `json:"source_mtime"`
	SourceModified           *string  `json:"source_modified"`
	// EstimatedCostUSD: see record.Session.
	EstimatedCostUSD *float64 `json:"estimated_cost_usd"`
	LinkedSessions   []string `json:"linked_sessions"`
}

// SessionOf is the JSON form of s.
func SessionOf(s *record.Session) *Session {
	incomplete := s.Incomplete()
	return &Session{
		ID: s.ID, StartedAt: s.StartedAt, Started: isoPtr(s.StartedAt), EndedAt: s.EndedAt, Ended: isoPtr(s.EndedAt),
		DurationMS: s.DurationMS, Incomplete: &incomplete, Agent: s.Agent, Model: s.Model, Mode: s.Mode, PromptLength: s.PromptLength,
		CWD: s.CWD, GitHubRunID: s.GitHubRunID, GitHubRepository: s.GitHubRepository, GitHubRef: s.GitHubRef,
		ResultType: s.ResultType, ResultSubtype: s.ResultSubtype, IsError: s.IsError, NumTurns: s.NumTurns,
		TotalMessages: s.TotalMessages, TotalToolCalls: s.TotalToolCalls, TotalCostUSD: s.TotalCostUSD,
		InputTokens: s.InputTokens, OutputTokens: s.OutputTokens,
		CacheCreationInputTokens: s.CacheCreationInputTokens, CacheReadInputTokens: s.CacheReadInputTokens,
		LinesDropped: s.LinesDropped, Redactions: s.Redactions, AgentSessionID: s.AgentSessionID, AgentVersion: s.AgentVersion,
		GitBranch: s.GitBranch, Source: s.Source, SourceFormat: s.SourceFormat, SourcePath: s.SourcePath,
		SourceSize: s.SourceSize, SourceMtime: s.SourceMtime, SourceModified: isoPtr(s.SourceMtime),
		EstimatedCostUSD: s.EstimatedCostUSD, LinkedSessions: append([]string{}, s.Linked...),
	}
}

// Message is the JSON form of a message row. RawMessage is the stored line
// as a JSON value when it is a JSON object, else as a string; RawUTF8 is
// false when the line was not valid UTF-8 and its bad bytes were replaced
// by U+FFFD to make it JSON.
type Message struct {
	ID              string          `json:"id"`
	Sequence        int64           `json:"sequence"`
	Timestamp       *int64          `json:"timestamp"`
	Time            *string         `json:"time"`
	Type            *string         `json:"type"`
	Subtype         *string         `json:"subtype"`
	ParentToolUseID *string         `json:"parent_tool_use_id"`
	APIMessageID    *string         `json:"api_message_id"`
	IsSidechain     *bool           `json:"is_sidechain"`
	RawUTF8         bool            `json:"raw_utf8"`
	RawMessage      json.RawMessage `json:"raw_message"`
}

// MessageOf is the JSON form of m.
func MessageOf(m *record.Message) *Message {
	raw, ok := validUTF8(m.Raw)
	j := &Message{
		ID: m.ID, Sequence: m.Sequence, Timestamp: m.Timestamp, Time: isoPtr(m.Timestamp),
		Type: m.Type, Subtype: m.Subtype, ParentToolUseID: m.ParentToolUseID, APIMessageID: m.APIMessageID,
		IsSidechain: m.IsSidechain, RawUTF8: ok,
	}
	if isJSONObject(raw) {
		j.RawMessage = raw
	} else {
		j.RawMessage, _ = marshalNoEscape(string(raw))
	}
	return j
}

// ToolCall is the JSON form of a tool call row. ToolInput is the input as
// a JSON value (as a string when what is stored is not JSON).
type ToolCall struct {
	ID              string          `json:"id"`
	Sequence        *int64          `json:"sequence"`
	ToolName        *string         `json:"tool_name"`
	Status          *string         `json:"status"`
	Timestamp       *int64          `json:"timestamp"`
	Time            *string         `json:"time"`
	CompletedAt     *int64          `json:"completed_at"`
	Completed       *string         `json:"completed"`
	DurationMS      *int64          `json:"duration_ms"`
	MessageID       *string         `json:"message_id"`
	ResultMessageID *string         `json:"result_message_id"`
	ParentToolUseID *string         `json:"parent_tool_use_id"`
	ToolInput       json.RawMessage `json:"tool_input"`
	ToolOutput      *string         `json:"tool_output"`
	Error           *string         `json:"error"`
}

// ToolCallOf is the JSON form of c.
func ToolCallOf(c *record.ToolCall) *ToolCall {
	j := &ToolCall{
		ID: c.ID, Sequence: c.Sequence, ToolName: c.ToolName, Status: c.Status,
		Timestamp: c.Timestamp, Time: isoPtr(c.Timestamp), CompletedAt: c.CompletedAt, Completed: isoPtr(c.CompletedAt),
		DurationMS: c.DurationMS, MessageID: c.MessageID, ResultMessageID: c.ResultMessageID,
		ParentToolUseID: c.ParentToolUseID, ToolOutput: c.ToolOutput, Error: c.Error,
	}
	switch {
	case c.ToolInput == nil:
		j.ToolInput = json.RawMessage("null")
	default:
		in, _ := validUTF8([]byte(*c.ToolInput))
		if json.Valid(in) {
			j.ToolInput = in
		} else {
			j.ToolInput, _ = marshalNoEscape(string(in))
		}
	}
	return j
}

// ListEntry is one element of `convlog list --json`: the session's fields,
// the id as the list prints it, the file (null for a session whose file was
// pruned: the archive keeps it), and why the file could not be read (null
// when it could). For an unreadable file only id (the file's name without
// .db), short_id, file and error are set; the other keys are there, null.
type ListEntry struct {
	Session
	ShortID string  `json:"short_id"`
	File    *string `json:"file"`
	Pruned  bool    `json:"pruned"`
	Error   *string `json:"error"`
}

// ListEntryOf is the JSON form of e, short its id as the list prints it.
func ListEntryOf(e *record.Entry, short string) *ListEntry {
	j := &ListEntry{ShortID: short, Pruned: e.Pruned}
	if !e.Pruned {
		j.File = &e.Path
	}
	if e.Session != nil {
		j.Session = *SessionOf(e.Session)
	} else {
		j.ID = e.ID
	}
	if e.Err != nil {
		msg := FileProblem(e.Err)
		j.Error = &msg
	}
	return j
}

// Doc writes one JSON object member by member, so that a session's
// messages go out as they are read instead of being held in memory.
type Doc struct {
	w       io.Writer
	buf     bytes.Buffer
	enc     *json.Encoder
	members int
	items   int // in the open array; -1 when none is open
	err     error
}

// NewDoc starts a JSON object on w.
func NewDoc(w io.Writer) *Doc {
	d := &Doc{w: w, items: -1}
	d.enc = json.NewEncoder(&d.buf)
	// The stored lines go out as they came: no \u003c for '<'.
	d.enc.SetEscapeHTML(false)
	d.write("{")
	return d
}

func (d *Doc) write(s string) {
	if d.err == nil {
		_, d.err = io.WriteString(d.w, s)
	}
}

// encode writes v indented for the given depth, without Encode's newline.
func (d *Doc) encode(v any, depth int) {
	if d.err != nil {
		return
	}
	d.buf.Reset()
	d.enc.SetIndent(strings.Repeat("  ", depth), "  ")
	if d.err = d.enc.Encode(v); d.err != nil {
		return
	}
	_, d.err = d.w.Write(bytes.TrimSuffix(d.buf.Bytes(), []byte("\n")))
}

func (d *Doc) key(name string) {
	if d.members > 0 {
		d.write(",")
	}
	d.members++
	k, _ := json.Marshal(name)
	d.write("\n  " + string(k) + ": ")
}

// Member writes "name": v.
func (d *Doc) Member(name string, v any) error {
	d.key(name)
	d.encode(v, 1)
	return d.err
}

// Begin opens an array member; Item adds to it and End closes it.
func (d *Doc) Begin(name string) error {
	d.key(name)
	d.write("[")
	d.items = 0
	return d.err
}

// Item writes one element of the open array.
func (d *Doc) Item(v any) error {
	if d.items > 0 {
		d.write(",")
	}
	d.items++
	d.write("\n    ")
	d.encode(v, 2)
	return d.err
}

// End closes the open array.
func (d *Doc) End() error {
	if d.items > 0 {
		d.write("\n  ")
	}
	d.write("]")
	d.items = -1
	return d.err
}

// Close ends the object.
func (d *Doc) Close() error {
	if d.members > 0 {
		d.write("\n")
	}
	d.write("}\n")
	return d.err
}

// WriteJSON writes v as indented JSON followed by a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// validUTF8 returns b with invalid bytes replaced by U+FFFD, and whether b
// was valid already.
func validUTF8(b []byte) ([]byte, bool) {
	if utf8.Valid(b) {
		return b, true
	}
	return []byte(strings.ToValidUTF8(string(b), "\uFFFD")), false
}

// isJSONObject says whether b is one JSON object (surrounding white space,
// such as the \r of a CRLF line, allowed).
func isJSONObject(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && json.Valid(b)
}
