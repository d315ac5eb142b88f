package record

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
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

// fileState is what a finished or running session file says about itself.
func fileState(t *testing.T, path string) (pageSize int64, mode string, messages int64) {
	t.Helper()
	db, err := sql.Open("sqlite", DSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("%s: integrity check: %q, %v", path, ok, err)
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM messages").Scan(&messages); err != nil {
		t.Fatal(err)
	}
	return pageSize, mode, messages
}

// newStream creates the session file id in a fresh folder, as tee does, and
// a Processor that writes into it.
func newStream(t *testing.T, id string) (*Writer, *stream.Processor) {
	t.Helper()
	w, err := Create(context.Background(), t.TempDir(), testSchema(t), Meta{ID: id, PromptLength: -1})
	if err != nil {
		t.Fatal(err)
	}
	return w, stream.NewProcessor(w)
}

// writeLines logs n lines of about size bytes each and commits them.
func writeLines(w *Writer, p *stream.Processor, from, n, size int) {
	pad := make([]byte, size)
	for i := range pad {
		pad[i] = 'a' + byte(i%26)
	}
	for i := from; i < from+n; i++ {
		p.Line([]byte(`{"type":"assistant","n":`+strconv.Itoa(i)+`,"pad":"`+string(pad)+`"}`), int64(i))
	}
	w.Commit(p.Totals())
}

// TestSmallSessionStaysSmall: a short stream is written with small pages from
// the start and ends as one file in rollback mode, without a compaction.
func TestSmallSessionStaysSmall(t *testing.T) {
	w, p := newStream(t, "small")
	if size, mode, _ := fileState(t, w.Path); size != compactPageSize || mode != "wal" {
		t.Fatalf("new session file: %d-byte pages in %s mode, want %d in wal", size, mode, compactPageSize)
	}
	writeLines(w, p, 1, 10, 500)
	if err := w.Finish(p.Totals(), 2); err != nil || w.Err != nil {
		t.Fatal(err, w.Err)
	}
	size, mode, n := fileState(t, w.Path)
	if size != compactPageSize || mode != "delete" || n != 10 {
		t.Fatalf("finished: %d-byte pages, %s mode, %d messages; want %d, delete, 10", size, mode, n, compactPageSize)
	}
	st, err := os.Stat(w.Path)
	if err != nil || st.Size() > 128<<10 {
		t.Fatalf("a 10-line session takes %d bytes (%v)", st.Size(), err)
	}
	if extra, _ := filepath.Glob(w.Path + "-*"); len(extra) != 0 {
		t.Fatalf("left beside the finished file: %v", extra)
	}
}

// TestStreamGrowsToLargePages: once a stream has logged growAt, its file
// switches to large pages while it is being written, loses no line, and a
// session that ends below compactBelow is compacted back to small pages.
func TestStreamGrowsToLargePages(t *testing.T) {
	w, p := newStream(t, "grows")
	writeLines(w, p, 1, 100, 1000) // 100 KB: still small
	if size, _, n := fileState(t, w.Path); size != compactPageSize || n != 100 {
		t.Fatalf("after 100 KB: %d-byte pages, %d messages", size, n)
	}
	lines := int(growAt/4000) + 1
	writeLines(w, p, 101, lines, 4000) // past growAt
	if size, mode, n := fileState(t, w.Path); size != writePageSize || mode != "wal" || n != int64(100+lines) {
		t.Fatalf("past growAt: %d-byte pages in %s mode, %d messages; want %d in wal, %d",
			size, mode, n, writePageSize, 100+lines)
	}
	writeLines(w, p, 101+lines, 50, 2000) // the writer's new connection goes on
	if err := w.Finish(p.Totals(), 2); err != nil || w.Err != nil {
		t.Fatal(err, w.Err)
	}
	want := int64(150 + lines)
	if size, mode, n := fileState(t, w.Path); size != compactPageSize || mode != "delete" || n != want {
		t.Fatalf("finished below compactBelow: %d-byte pages, %s mode, %d messages; want %d, delete, %d",
			size, mode, n, compactPageSize, want)
	}
	if w.Messages != want || w.Dropped != 0 {
		t.Fatalf("writer counted %d messages, %d dropped; want %d, 0", w.Messages, w.Dropped, want)
	}
}

// TestGrowWhileAReaderHoldsTheFile: a reader in the middle of a read
// transaction keeps the file in WAL mode; the stream goes on with small
// pages and loses nothing.
func TestGrowWhileAReaderHoldsTheFile(t *testing.T) {
	ctx := context.Background()
	w, p := newStream(t, "held")
	db, err := sql.Open("sqlite", DSN(w.Path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow("SELECT count(*) FROM sessions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	lines := int(growAt/4000) + 1
	writeLines(w, p, 1, lines, 4000)
	if !w.grown || w.Err != nil || w.Messages != int64(lines) {
		t.Fatalf("grown %v, err %v, %d messages; want a tried switch, no error, %d", w.grown, w.Err, w.Messages, lines)
	}
	var size int64
	if err := tx.QueryRow("PRAGMA page_size").Scan(&size); err != nil || size != compactPageSize {
		t.Fatalf("with a reader in the file: %d-byte pages (%v), want %d", size, err, compactPageSize)
	}
	writeLines(w, p, lines+1, 10, 100)
	tx.Rollback()
	db.Close()
	if err := w.Finish(p.Totals(), 2); err != nil || w.Err != nil {
		t.Fatal(err, w.Err)
	}
	if size, mode, got := fileState(t, w.Path); size != compactPageSize || mode != "delete" || got != int64(lines+10) {
		t.Fatalf("finished: %d-byte pages, %s mode, %d messages; want %d, delete, %d", size, mode, got, compactPageSize, lines+10)
	}
}
