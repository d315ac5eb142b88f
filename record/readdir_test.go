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

func TestFind(t *testing.T) {
	dir := t.TempDir()
	writeSession(t, dir, "0199aaaa-1111", fixtureStart, fixtureEnd, readFixture)
	writeSession(t, dir, "0199aaab-2222", fixtureStart+1, fixtureEnd, readFixture)
	writeSession(t, dir, "abc", fixtureStart-5, fixtureEnd, readFixture)
	writeSession(t, dir, "abcd", fixtureStart-10, fixtureEnd, readFixture)
	os.WriteFile(filepath.Join(dir, "zzz.db"), []byte("junk"), 0o600)

	for ref, want := range map[string]string{
		"0199aaaa-1111": "0199aaaa-1111",
		"0199aaaa":      "0199aaaa-1111",
		"0199aaab":      "0199aaab-2222",
		"abc":           "abc", // a full id beats the longer id it begins
		"abcd":          "abcd",
		"last":          "0199aaab-2222", // newest start; junk is skipped
	} {
		path, err := Find(t.Context(), dir, ref)
		if err != nil || path != filepath.Join(dir, want+".db") {
			t.Errorf("Find(%q) = %q, %v; want %s", ref, path, err, want)
		}
	}

	_, err := Find(t.Context(), dir, "0199")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || strings.Join(amb.Matches, ",") != "0199aaaa-1111,0199aaab-2222" {
		t.Errorf("ambiguous: %v", err)
	}
	if !strings.Contains(err.Error(), "0199aaaa-1111") || !strings.Contains(err.Error(), "0199aaab-2222") {
		t.Errorf("ambiguity does not list the candidates: %v", err)
	}

	_, err = Find(t.Context(), dir, "ffff")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.NoFolder || !strings.Contains(err.Error(), dir) {
		t.Errorf("unknown id: %v", err)
	}
	_, err = Find(t.Context(), filepath.Join(dir, "none"), "ffff")
	if !errors.As(err, &nf) || !nf.NoFolder || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing folder: %v", err)
	}
	_, err = Find(t.Context(), filepath.Join(dir, "none"), "last")
	if !errors.As(err, &nf) {
		t.Errorf("last in a missing folder: %v", err)
	}
}

func TestFindLastWithOnlyBadFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "junk.db"), []byte("junk"), 0o600)
	_, err := Find(t.Context(), dir, Last)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "no readable session") {
		t.Errorf("%v", err)
	}
}

func TestFindRefusesPaths(t *testing.T) {
	// Each of these would reach a file outside the folder, or a file that
	// is not a session, if it were joined to the folder's path.
	dir := t.TempDir()
	sessions := filepath.Join(dir, "sessions")
	writeSession(t, dir, "outside", fixtureStart, fixtureEnd, readFixture)
	os.Mkdir(sessions, 0o700)
	for _, ref := range []string{"../outside", "/etc/passwd", "a/b", "..", ".", "", "outside.db", " outside", "-x", "a\\b", "x\x00", strings.Repeat("a", 129), "_x", "caf\u00e9", "a b"} {
		_, err := Find(t.Context(), sessions, ref)
		if !errors.Is(err, ErrBadRef) {
			t.Errorf("Find(%q): %v, want ErrBadRef", ref, err)
		}
		if IsPlainID(ref) {
			t.Errorf("IsPlainID(%q)", ref)
		}
	}
	for _, ref := range []string{"0199abcd-ef01-7000-8000-000000000000", "a", "my_run-1", "Z9", strings.Repeat("a", 128)} {
		if !IsPlainID(ref) {
			t.Errorf("IsPlainID(%q) is false", ref)
		}
	}
}

// The agent's own session id names a session too, whole or by a unique
// prefix, when no convlog id matches.
func TestFindByAgentSessionID(t *testing.T) {
	dir := t.TempDir()
	writeSession(t, dir, "0199aaaa-1111", fixtureStart, fixtureEnd,
		[]string{`{"type":"thread.started","thread_id":"019c8a31-5e2b-7d40-b1f3-6a9e0c2d4f18"}`})
	writeSession(t, dir, "0199aaab-2222", fixtureStart+1, fixtureEnd,
		[]string{`{"type":"init","timestamp":"2026-01-01T00:00:00Z","session_id":"5b0e7c1a-2f4d-4c8e-9a61-7d3e2b9f0c14","model":"auto"}`})
	writeSession(t, dir, "0199aaac-3333", fixtureStart+2, fixtureEnd,
		[]string{`{"type":"init","timestamp":"2026-01-01T00:00:00Z","session_id":"5b0e7c1a-ffff-4c8e-9a61-7d3e2b9f0c14","model":"auto"}`})
	for ref, want := range map[string]string{
		"019c8a31-5e2b-7d40-b1f3-6a9e0c2d4f18": "0199aaaa-1111",
		"019c8a31":                             "0199aaaa-1111",
		"5b0e7c1a-2f4d":                        "0199aaab-2222",
		"0199aaac":                             "0199aaac-3333", // convlog's ids first
	} {
		path, err := Find(t.Context(), dir, ref)
		if err != nil || path != filepath.Join(dir, want+".db") {
			t.Errorf("Find(%q) = %q, %v; want %s", ref, path, err, want)
		}
	}
	_, err := Find(t.Context(), dir, "5b0e7c1a")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Matches) != 2 || !strings.Contains(err.Error(), "agent session 5b0e7c1a-ffff") {
		t.Errorf("ambiguous agent prefix: %v", err)
	}
	var nf *NotFoundError
	if _, err := Find(t.Context(), dir, "ffff"); !errors.As(err, &nf) {
		t.Errorf("unknown: %v", err)
	}
}
