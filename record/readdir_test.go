package record

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListSessions(t *testing.T) {
	dir := t.TempDir()
	writeSession(t, dir, "older", fixtureStart, fixtureEnd, readFixture)
	writeSession(t, dir, "newer", fixtureStart+60_000, 0, readFixture[:2])
	writeSession(t, dir, "unknown-start", 0, 0, readFixture[3:4])
	if err := os.WriteFile(filepath.Join(dir, "junk.db"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Not session files: companions, other names, folders.
	for _, name := range []string{"gone.db-wal", "gone.db-shm", "notes.txt", "old.db.bak"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600)
	}
	os.Mkdir(filepath.Join(dir, "sub.db"), 0o700)
	// A session without a start time sorts by its file's time.
	old := time.UnixMilli(fixtureStart - 60_000)
	os.Chtimes(filepath.Join(dir, "unknown-start.db"), old, old)

	entries, err := ListSessions(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	if got := strings.Join(ids, " "); got != "newer older unknown-start junk" {
		t.Fatalf("order: %s", got)
	}
	if !entries[0].Session.Incomplete() || entries[1].Session.Incomplete() {
		t.Error("incomplete flags wrong")
	}
	if !errors.Is(entries[3].Err, ErrNotSessionFile) || entries[3].Session != nil || entries[3].Path != filepath.Join(dir, "junk.db") {
		t.Errorf("junk entry: %+v", entries[3])
	}
}

func TestListSessionsMissingFolder(t *testing.T) {
	entries, err := ListSessions(t.Context(), filepath.Join(t.TempDir(), "none"))
	if err != nil || len(entries) != 0 {
		t.Fatalf("%v, %v", entries, err)
	}
}
