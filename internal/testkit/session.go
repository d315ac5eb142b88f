package testkit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/stream"
)

// Schema is the repository's schema.sql, as the root package embeds it,
// learnt once.
func Schema(t testing.TB) *record.Schema {
	t.Helper()
	s, err := schemaOnce()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var schemaOnce = sync.OnceValues(func() (*record.Schema, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, "schema.sql"))
	if err != nil {
		return nil, err
	}
	return record.ParseSchema(string(b))
})

// Session writes a real session file through record.Writer and the stream
// processor, as `convlog tee` does, with times that advance 7 ms a line.
type Session struct {
	t    testing.TB
	w    *record.Writer
	p    *stream.Processor
	now  int64
	Path string
	ID   string
}

// NewSession creates the session file of id in dir.
func NewSession(t testing.TB, dir, id string) *Session {
	t.Helper()
	w, err := record.Create(context.Background(), dir, Schema(t), record.Meta{
		ID: id, StartedAt: 1_700_000_000_000, Mode: "auto", PromptLength: -1, CWD: "/work",
		GitHubRunID: "42", GitHubRepo: "o/r", GitHubRef: "refs/heads/main", Source: "tee", SourceFormat: "stream-json",
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Warn = func(err error) { t.Errorf("session writer: %v", err) }
	s := &Session{t: t, w: w, p: stream.NewProcessor(w), now: 1_700_000_000_000, Path: w.Path, ID: id}
	t.Cleanup(func() {
		if s.w != nil {
			s.w.Close()
		}
	})
	return s
}

// Line logs one input line.
func (s *Session) Line(raw string) *Session {
	s.now += 7
	s.p.Line([]byte(raw), s.now)
	return s
}

// Commit commits what was logged, as tee's logger does every ~100 ms.
func (s *Session) Commit() *Session {
	s.w.Commit(s.p.Totals())
	return s
}

// Finish ends the session as at the end of tee's input.
func (s *Session) Finish() string {
	s.t.Helper()
	if err := s.w.Finish(s.p.Totals(), s.now+100); err != nil {
		s.t.Fatal(err)
	}
	s.w = nil
	return s.Path
}

// Lines shaped as Claude Code's stream-json (-p --output-format stream-json
// --verbose) prints them.
const (
	InitLine   = `{"type":"system","subtype":"init","session_id":"agent-1","model":"claude-test","cwd":"/work","tools":["Bash"]}`
	ResultLine = `{"type":"result","subtype":"success","is_error":false,"num_turns":3,"total_cost_usd":0.0123,"usage":{"input_tokens":10,"output_tokens":20}}`
)

// AssistantText is an assistant message of API message n with one text block.
func AssistantText(n int, text string) string {
	return fmt.Sprintf(`{"type":"assistant","message":{"id":"msg_%d","model":"claude-test","role":"assistant","content":[{"type":"text","text":%q}]}}`, n, text)
}

// ToolUse is an assistant message that calls Bash with cmd.
func ToolUse(id, cmd string) string {
	return fmt.Sprintf(`{"type":"assistant","message":{"id":"msg_%s","model":"claude-test","role":"assistant","content":[{"type":"tool_use","id":%q,"name":"Bash","input":{"command":%q}}]}}`, id, id, cmd)
}

// ToolResult is the user message that answers tool call id.
func ToolResult(id, out string, isErr bool) string {
	return fmt.Sprintf(`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":%q,"content":%q,"is_error":%v}]}}`, id, out, isErr)
}

// BigSession writes a finished session of n messages of about size bytes,
// with a tool call every tenth line.
func BigSession(t testing.TB, dir, id string, n, size int) string {
	t.Helper()
	s := NewSession(t, dir, id)
	s.Line(InitLine)
	filler := strings.Repeat("lorem ipsum ", size/12+1)[:size]
	for i := 1; i < n-1; i++ {
		switch {
		case i%10 == 1 && i+1 < n-1:
			s.Line(ToolUse(fmt.Sprintf("toolu_%s_%d", id, i), "echo "+filler[:size/4]))
		case i%10 == 2:
			s.Line(ToolResult(fmt.Sprintf("toolu_%s_%d", id, i-1), filler[:size/2], i%20 == 2))
		default:
			s.Line(AssistantText(i, filler))
		}
		if i%500 == 0 {
			s.Commit()
		}
	}
	s.Line(ResultLine)
	return s.Finish()
}
