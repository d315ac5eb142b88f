package record

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/convlog/convlog/stream"
)

func testSchema(t *testing.T) *Schema {
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

// TestCreateWhileAReaderLooks: a reader that opens a session file the moment
// it appears (convlog list, an archive update) and holds a read transaction
// does not stop the writer from opening it and writing lines.
func TestCreateWhileAReaderLooks(t *testing.T) {
	ctx := context.Background()
	var reader *sql.Tx
	testHookLinked = func(path string) {
		db, err := sql.Open("sqlite", DSN(path, true))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if reader, err = db.BeginTx(ctx, nil); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := reader.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("the file appeared incomplete: %d sessions, %v", n, err)
		}
	}
	defer func() { testHookLinked = nil }()

	dir := t.TempDir()
	w, err := Create(ctx, dir, testSchema(t), Meta{ID: "s", PromptLength: -1})
	if err != nil {
		t.Fatalf("create with a reader looking: %v", err)
	}
	p := stream.NewProcessor(w)
	p.Line([]byte(`{"type":"x"}`), 1)
	w.Commit(p.Totals())
	if w.Err != nil || w.Messages != 1 {
		t.Fatalf("write while a reader looks: %v, %d messages", w.Err, w.Messages)
	}
	reader.Rollback()
	if err := w.Finish(p.Totals(), 2); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if _, err := Create(ctx, dir, testSchema(t), Meta{ID: "s", PromptLength: -1}); !errors.Is(err, ErrExists) {
		t.Fatalf("second create of one id: %v", err)
	}
}
