package archive

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// TestQuerySeesItsFolder: two session folders share the archive beside
// them. A query through each sees its own sessions, messages and tool
// calls, in every statement SQLite runs, and still after the files are
// removed; main's tables hold them all. The views write nothing.
func TestQuerySeesItsFolder(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	a, b := filepath.Join(work, "a"), filepath.Join(work, "b")
	for i := range 2 {
		testkit.BigSession(t, a, fmt.Sprintf("a%d", i), 10, 100)
	}
	for i := range 3 {
		testkit.BigSession(t, b, fmt.Sprintf("b%d", i), 4, 100)
	}
	// sessions, messages and tool calls seen; the folder's own in main;
	// every session in main.
	counts := func(dir, prefix string) string {
		t.Helper()
		db, err := Open(dir, "", testkit.Schema(t)).Query(t.Context(), func(err error) { t.Error(err) })
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var s string
		err = db.QueryRow(`SELECT (SELECT count(*) FROM sessions) || ' ' || (SELECT count(*) FROM messages) || ' ' ||
			(SELECT count(*) FROM tool_calls) || ' | ' ||
			(SELECT count(*) FROM main.sessions WHERE id LIKE ?1) || ' ' || (SELECT count(*) FROM main.messages WHERE session_id LIKE ?1) || ' ' ||
			(SELECT count(*) FROM main.tool_calls WHERE session_id LIKE ?1) || ' | ' || (SELECT count(*) FROM main.sessions)`, prefix+"%").Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("CREATE TEMP TABLE x (y)"); err == nil {
			t.Error("a temp table was made on the archive's connection")
		}
		return s
	}
	check := func(when string) {
		t.Helper()
		counts(a, "a") // both folders' files taken in
		counts(b, "b")
		for _, c := range []struct{ dir, prefix, want string }{{a, "a", "2 20 2 | 2 20 2 | 5"}, {b, "b", "3 12 3 | 3 12 3 | 5"}} {
			if got := counts(c.dir, c.prefix); got != c.want {
				t.Errorf("%s: %s: %s, want %s", when, c.prefix, got, c.want)
			}
		}
	}
	check("with the files")
	for _, dir := range []string{a, b} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	check("after the files were removed")

	if f, err := Open(a, "", nil).Folder(); err != nil || f != "a" {
		t.Errorf("Folder: %q, %v", f, err)
	}
	if f, err := Open(a, filepath.Join(work, "x", "arch.db"), nil).Folder(); err != nil || f != "../a" {
		t.Errorf("Folder of an archive elsewhere: %q, %v", f, err)
	}
}

// A search keeps to its folder: a word that both folders' sessions hold
// finds only the folder's own, with no filter and with one.
func TestSearchKeepsToItsFolder(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	a, b := filepath.Join(work, "a"), filepath.Join(work, "b")
	testkit.BigSession(t, a, "a0", 10, 100)
	for i := range 2 {
		testkit.BigSession(t, b, fmt.Sprintf("b%d", i), 10, 100)
	}
	q, err := ParseQuery("lorem")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir  string
		opts SearchOptions
		want string
	}{
		{a, SearchOptions{Limit: 100}, "a0"},
		{b, SearchOptions{Limit: 100}, "b0 b1"},
		{a, SearchOptions{Limit: 100, Since: 1}, "a0"},
	} {
		db, err := Open(c.dir, "", testkit.Schema(t)).Query(t.Context(), func(err error) { t.Error(err) })
		if err != nil {
			t.Fatal(err)
		}
		hits, err := Search(t.Context(), db, q, c.opts)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, h := range hits {
			seen[h.Session.ID] = true
		}
		var ids []string
		for id := range seen {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if got := strings.Join(ids, " "); got != c.want {
			t.Errorf("%s %+v: hits in %s, want %s", filepath.Base(c.dir), c.opts, got, c.want)
		}
	}
}
