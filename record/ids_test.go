package record

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewSessionIDsDifferEarly: sessions started in the same moment differ
// in their first 8 characters. With UUIDv7 ids, all of these would share
// them (the time in milliseconds comes first). Among 2,000 random 32-bit
// prefixes a clash is a 1-in-2,000 event, two clashes one in millions: at
// most one is allowed.
func TestNewSessionIDsDifferEarly(t *testing.T) {
	const n = 2000
	prefixes := map[string]bool{}
	for range n {
		id := NewSessionID()
		if len(id) != 36 || !IsPlainID(id) || id[14] != '4' {
			t.Fatalf("not a UUIDv4 that names a file: %q", id)
		}
		prefixes[id[:MinShortID]] = true
	}
	if len(prefixes) < n-1 {
		t.Fatalf("%d ids made at once share their first %d characters in %d cases", n, MinShortID, n-len(prefixes))
	}
}

// entry is a session of id with agent session id agent (none when ""),
// started at start.
func entry(id, agent string, start int64) Entry {
	s := &Session{ID: id, StartedAt: &start}
	if agent != "" {
		s.AgentSessionID = &agent
	}
	return Entry{ID: id, Path: id + ".db", Session: s}
}

func ids(found []*Entry) string {
	var out []string
	for _, e := range found {
		out = append(out, e.ID)
	}
	return strings.Join(out, " ")
}

func TestResolve(t *testing.T) {
	entries := []Entry{
		entry("0199aaab-2222", "", 9),
		entry("0199aaaa-1111", "agent-x", 8),
		entry("abc", "", 7),
		entry("abcd", "", 6),
		entry("tee-run", "5c0f9e2a-aaaa", 5), // a tee and an import of the same agent session,
		entry("import-run", "5c0f9e2a-aaaa", 4),
		entry("resumed-run", "5c0f9e2a-aaaa", 3), // and an earlier run of it
		entry("other", "5c0fffff-bbbb", 2),
		{ID: "zzz", Path: "zzz.db", Err: &FileError{Path: "zzz.db", Kind: ErrNotSessionFile, Err: errors.New("junk")}},
	}
	for ref, want := range map[string]string{
		"0199aaaa-1111": "0199aaaa-1111",
		"0199aaaa":      "0199aaaa-1111",
		"0199aaab":      "0199aaab-2222",
		"abc":           "abc", // a full id beats the longer id it begins
		"abcd":          "abcd",
		"last":          "0199aaab-2222", // the newest start
		"agent-x":       "0199aaaa-1111", // an agent session id
		"agent":         "0199aaaa-1111", // and a prefix of one
		"5c0f9e2a-aaaa": "tee-run import-run resumed-run",
		"5c0f9e":        "tee-run import-run resumed-run", // a prefix of one agent session's id only
		"tee":           "tee-run",
		"zz":            "zzz", // an unreadable file is still named, to say why it cannot be read
	} {
		found, err := Resolve(entries, ref)
		if err != nil || ids(found) != want {
			t.Errorf("Resolve(%q) = %q, %v; want %s", ref, ids(found), err, want)
		}
	}

	for ref, want := range map[string]string{
		"0199": "0199aaab-2222 0199aaaa-1111",
		"5c0f": "tee-run import-run resumed-run other", // two agent sessions
		"a":    "0199aaaa-1111 abc abcd",               // ids and an agent session id
	} {
		_, err := Resolve(entries, ref)
		var amb *AmbiguousError
		if !errors.As(err, &amb) || ids(amb.Candidates) != want {
			t.Errorf("Resolve(%q): %v; want ambiguous among %s", ref, err, want)
			continue
		}
		for _, id := range strings.Fields(want) {
			if !strings.Contains(err.Error(), "\n  "+id) {
				t.Errorf("Resolve(%q): the error does not list %s:\n%v", ref, id, err)
			}
		}
	}

	_, err := Resolve(entries, "ffff")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Count != len(entries) {
		t.Errorf("unknown id: %v", err)
	}
	_, err = Resolve(entries[8:], Last)
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "no readable session") {
		t.Errorf("last among unreadable files only: %v", err)
	}
}

func TestResolveRefusesPaths(t *testing.T) {
	entries := []Entry{entry("outside", "", 1)}
	for _, ref := range []string{"../outside", "/etc/passwd", "a/b", "..", ".", "", "outside.db", " outside", "-x", "a\\b", "x\x00", strings.Repeat("a", 129), "_x", "caf\u00e9", "a b", "../convlog"} {
		_, err := Resolve(entries, ref)
		if !errors.Is(err, ErrBadRef) {
			t.Errorf("Resolve(%q): %v, want ErrBadRef", ref, err)
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

func TestShortIDs(t *testing.T) {
	entries := []Entry{
		// UUIDv7 ids of sessions started 1 ms apart share 12 characters.
		entry("019b4a6e-0c2d-7a10-8000-000000000001", "", 3),
		entry("019b4a6e-0c2e-7b20-8000-000000000002", "", 2),
		entry("5f3a9c01-aaaa-4000-8000-000000000000", "5f3a9c01-bbbb-4000-8000-000000000000", 1), // its own agent id is no clash
		entry("7e11d2c4-0000-4000-8000-000000000000", "", 1),
		entry("9d8e7f60-1111-4000-8000-000000000000", "", 1),
		entry("9d8e7f6a-2222-4000-8000-000000000000", "", 1),
		entry("c0ffee00-3333-4000-8000-000000000000", "", 1),
		entry("c0ffee00-3333-4000", "", 1), // begins another id: only whole
		entry("d00d0000-1111-4000-8000-000000000000", "", 1),
		entry("short", "d00d0000-2222-4000-8000-000000000000", 1), // another's agent id clashes
	}
	want := []string{
		"019b4a6e-0c2d", "019b4a6e-0c2e", "5f3a9c01", "7e11d2c4", "9d8e7f60", "9d8e7f6a",
		"c0ffee00-3333-4000-", "c0ffee00-3333-4000", "d00d0000-1", "short",
	}
	got := ShortIDs(entries)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ShortIDs:\n got %v\nwant %v", got, want)
	}
	// Each short id names its session.
	for i, s := range got {
		found, err := Resolve(entries, s)
		if err != nil || len(found) != 1 || found[0].ID != entries[i].ID {
			t.Errorf("Resolve(%q) = %q, %v; want %s", s, ids(found), err, entries[i].ID)
		}
	}
}

// TestShortIDsOfV7Sessions: session files named by the UUIDv7 ids of
// earlier versions, written within one minute, keep working: each short id
// `list` would print names its session.
func TestShortIDsOfV7Sessions(t *testing.T) {
	dir := t.TempDir()
	v7 := []string{
		"01a24d9e-8c1b-7d2e-9f00-0a1b2c3d4e5f",
		"01a24d9e-8c1b-7f00-8000-111111111111",
		"01a24d9e-9a00-7000-8000-222222222222",
		"01a24d9f-0001-7000-8000-333333333333",
	}
	for i, id := range v7 {
		writeSession(t, dir, id, fixtureStart+int64(i)*1000, fixtureEnd+int64(i)*1000, readFixture)
	}
	entries, err := ListSessions(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	short := ShortIDs(entries)
	for i, s := range short {
		found, err := Resolve(entries, s)
		if err != nil || len(found) != 1 || found[0].ID != entries[i].ID || found[0].Path != filepath.Join(dir, entries[i].ID+".db") {
			t.Errorf("short id %q: %q, %v; want %s", s, ids(found), err, entries[i].ID)
		}
	}
	if got := fmt.Sprint(short); got != "[01a24d9f 01a24d9e-9 01a24d9e-8c1b-7f 01a24d9e-8c1b-7d]" {
		t.Errorf("short ids %s", got)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	writeSession(t, dir, "0199aaaa-1111", fixtureStart, fixtureEnd, readFixture)
	writeSession(t, dir, "0199aaab-2222", fixtureStart+1, fixtureEnd, readFixture)
	for ref, want := range map[string]string{"0199aaaa": "0199aaaa-1111", "last": "0199aaab-2222", "agent-1": "0199aaab-2222"} {
		if p, err := Find(t.Context(), dir, ref); err != nil || p != filepath.Join(dir, want+".db") {
			t.Errorf("Find(%q) = %q, %v; want %s", ref, p, err, want)
		}
	}
	_, err := Find(t.Context(), dir, "0199")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || strings.Join(amb.Matches, ",") != "0199aaaa-1111,0199aaab-2222" {
		t.Errorf("ambiguous: %v", err)
	}
	_, err = Find(t.Context(), dir, "ffff")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), dir) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := Find(t.Context(), dir, "../x"); !errors.Is(err, ErrBadRef) {
		t.Errorf("a path: %v", err)
	}
}

// FuzzShortIDs: whatever the ids and agent session ids of a folder, the
// id list prints for each session names that session, and nothing else.
func FuzzShortIDs(f *testing.F) {
	f.Add("01a24d9e-8c1b-7d2e 01a24d9e-8c1b-7f00 01a24d9e-9a00,01a24d9e-8c1b-7f00-x abc abcd")
	f.Add("a,ab b,a c")
	f.Fuzz(func(t *testing.T, spec string) {
		var entries []Entry
		seen := map[string]bool{}
		for i, f := range strings.Fields(spec) {
			id, agent, _ := strings.Cut(f, ",")
			if !IsPlainID(id) || id == Last || seen[id] || (agent != "" && !IsPlainID(agent)) {
				continue
			}
			seen[id] = true
			entries = append(entries, entry(id, agent, int64(i)))
		}
		for i, s := range ShortIDs(entries) {
			if !strings.HasPrefix(entries[i].ID, s) || len(s) < min(MinShortID, len(entries[i].ID)) {
				t.Fatalf("short id %q of %q", s, entries[i].ID)
			}
			found, err := Resolve(entries, s)
			if err != nil || len(found) != 1 || found[0].ID != entries[i].ID {
				t.Fatalf("Resolve(%q) = %q, %v; want %s (entries %v)", s, ids(found), err, entries[i].ID, spec)
			}
		}
	})
}
