package archive

import (
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// counts are the rows the archive holds of each table.
type counts struct{ sessions, usage, tools, messages, calls int64 }

func countsOf(t *testing.T, db *sql.DB) counts {
	t.Helper()
	var c counts
	err := db.QueryRow(`SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM `+record.UsageTable+`),
		(SELECT count(*) FROM `+record.ToolsTable+`), (SELECT count(*) FROM messages), (SELECT count(*) FROM tool_calls)`).
		Scan(&c.sessions, &c.usage, &c.tools, &c.messages, &c.calls)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSummariesFirst: the statistics' update takes in the sessions, usage
// rows and tool figures of new files, not their lines and tool calls; a
// repeat opens no file; the whole update then takes in the rest; a file
// that changes is summarized again; one that is removed keeps its
// session.
func TestSummariesFirst(t *testing.T) {
	t.Parallel()
	f := newFolder(t)
	a := f.open(t)
	summarize := func() counts {
		t.Helper()
		db, err := a.QuerySummaries(t.Context(), func(err error) { t.Errorf("left out: %v", err) })
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return countsOf(t, db)
	}
	got := summarize()
	if got.sessions != 6 || got.usage == 0 || got.tools != 6 || got.messages != 0 || got.calls != 0 {
		t.Fatalf("after the statistics' update: %+v; want the six sessions' rows and figures only", got)
	}

	// Nothing changed: no file is opened (each is garbage now, of the same
	// size and time).
	saved := map[string][]byte{}
	for _, p := range f.files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		saved[p] = b
		corruptKeepingStat(t, p)
	}
	if again := summarize(); again != got {
		t.Errorf("repeat: %+v, want %+v", again, got)
	}
	for p, b := range saved {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
	}

	// The whole update takes in the lines and tool calls.
	n, problems := f.count(t)
	if n != 6*10 || len(problems) != 0 {
		t.Fatalf("whole update: %d messages, problems %v", n, problems)
	}
	whole := summarize()
	if whole.sessions != 6 || whole.tools != 6 || whole.messages != 60 || whole.calls == 0 {
		t.Errorf("after the whole update: %+v", whole)
	}

	// A new session and a grown one are summarized; the removed one stays.
	testkit.BigSession(t, f.dir, "s6", 10, 200)
	grown := f.files[1]
	later := time.Now().Add(3 * time.Second)
	if err := os.Chtimes(grown, later, later); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.files[0]); err != nil {
		t.Fatal(err)
	}
	after := summarize()
	if after.sessions != 7 || after.tools != 7 || after.messages != 60 {
		t.Errorf("after a new, a touched and a removed file: %+v", after)
	}
	db, err := a.QuerySummaries(t.Context(), func(err error) { t.Errorf("left out: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var summarized, taken int
	testkit.QueryRow(t, db, "SELECT (SELECT count(*) FROM archive_summaries), (SELECT count(*) FROM archive_sources)", &summarized, &taken)
	// The touched file is still recorded as taken whole as it was.
	if summarized != 2 || taken != 5 {
		t.Errorf("%d files summarized and %d taken whole, want the new and the touched one, and five", summarized, taken)
	}
}
