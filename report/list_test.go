package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/convlog/convlog/record"
)

// TestListFits: the narrow list keeps to 100 columns with the longest
// values a session has (a long model, a long result, a pruned mark, ids of
// UUIDv7 sessions of the same millisecond), cutting models before results;
// --wide cuts nothing.
func TestListFits(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int64) *int64 { return &n }
	s := &record.Session{
		ID: "01a24d9e-8c1b-7d2e-9f00-0a1b2c3d4e5f", StartedAt: num(1766399400000), EndedAt: num(1766522856789), DurationMS: num(123_456_789),
		Model: str("claude-sonnet-4-5-20250929-with-a-longer-name"), ResultType: str("result"), ResultSubtype: str("error_during_execution"),
		TotalMessages: num(123456), TotalToolCalls: num(12345),
	}
	entries := []record.Entry{{ID: s.ID, Session: s, Pruned: true}, {ID: "01a24d9e-8c1b-7f00", Session: &record.Session{ID: "01a24d9e-8c1b-7f00"}}}
	short := []string{"01a24d9e-8c1b-7d", "01a24d9e-8c1b-7f"}
	var b bytes.Buffer
	if err := NewText(&b, false).List(entries, ListOptions{Short: short, Zone: time.UTC}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > ListWidth {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	if !strings.HasPrefix(lines[1], "01a24d9e-8c1b-7d  2025-12-22 10:30  claude-sonn…  34h18m    123456  12345  error_during_execution, …") {
		t.Errorf("line %q", lines[1])
	}
	b.Reset()
	if err := NewText(&b, false).List(entries, ListOptions{Wide: true, Short: short}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), s.ID+"  2025-12-22T10:30:00.000Z  -      "+*s.Model+"  34h18m    123456  12345  result (error_during_execution), pruned\n") {
		t.Errorf("wide:\n%s", b.String())
	}
}
