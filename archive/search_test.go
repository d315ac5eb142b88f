package archive

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/record"
)

// Lines of the searched sessions, shaped as Claude Code prints them.
func initLine(agentID, model, cwd string) string {
	return fmt.Sprintf(`{"type":"system","subtype":"init","session_id":%q,"model":%q,"cwd":%q,"tools":["Bash","Read"]}`, agentID, model, cwd)
}

func userText(text string) string {
	return fmt.Sprintf(`{"type":"user","message":{"role":"user","content":%q}}`, text)
}

func thinking(text string) string {
	return fmt.Sprintf(`{"type":"assistant","message":{"id":"msg_t","model":"m","role":"assistant","content":[{"type":"thinking","thinking":%q,"signature":"c2ln"}]}}`, text)
}

func toolUse(id, name, input string) string {
	return fmt.Sprintf(`{"type":"assistant","message":{"id":"msg_%s","model":"m","role":"assistant","content":[{"type":"tool_use","id":%q,"name":%q,"input":%s}]}}`, id, id, name, input)
}

// The sessions of the search tests, with the sequence of each line that
// a test looks for.
const (
	sessFix   = "11111111-0000-4000-8000-000000000001" // where the flaky migration test was fixed
	sessOther = "22222222-0000-4000-8000-000000000002" // the same words, scattered
	sessError = "33333333-0000-4000-8000-000000000003" // an error line, a summary, CJK
)

// writeSearchSessions writes the three sessions into dir.
func writeSearchSessions(t *testing.T, dir string) {
	t.Helper()
	testkit.NewSession(t, dir, sessFix).
		Line(initLine("agent-fix", "claude-opus-4-1", "/home/dev/billing")).                                                                               // 0
		Line(userText("Please fix the flaky migration test in billing")).                                                                                  // 1
		Line(thinking("The quarantine clock drifts during the migration")).                                                                                // 2
		Line(testkit.AssistantText(3, "I pinned the clock, so the flaky migration test passes now")).                                                      // 3
		Line(toolUse("toolu_a", "Bash", `{"command":"go test ./billing -run TestMigrate -count=50","description":"Run the migration test fifty times"}`)). // 4
		Line(testkit.ToolResult("toolu_a", "ok  billing 4.12s (all fifty runs)", false)).                                                                  // 5
		Line(toolUse("toolu_b", "Read", `{"file_path":"/home/dev/billing/zebra.yaml"}`)).                                                                  // 6
		Line(testkit.ToolResult("toolu_b", "open zebra.yaml: no such file or directory", true)).                                                           // 7
		Line(testkit.ResultLine).                                                                                                                          // 8
		Finish()
	testkit.NewSession(t, dir, sessOther).
		Line(initLine("agent-other", "claude-sonnet-4-5", "/home/dev/web")).                                                    // 0
		Line(testkit.AssistantText(1, "The test suite is slow; a migration ran for minutes, and one check looked flaky once")). // 1
		Line(toolUse("toolu_c", "Bash", `{"command":"npm run migrate","description":"Apply the quarantine migration"}`)).       // 2
		Line(testkit.ToolResult("toolu_c", "migrated 3 tables", false)).                                                        // 3
		Finish()
	testkit.NewSession(t, dir, sessError).
		Line("Error: Invalid API key · Please run /login").                                   // 0
		Line(`{"type":"summary","summary":"Webhook retries for the ledger","leafUuid":"x"}`). // 1
		Line(userText("请确认配置文件中的端口号是否正确")).                                                   // 2
		Finish()
}

// searchArchive is an archive of the search sessions, brought up to date.
type searchArchive struct {
	dir, path string
	arch      *Archive
}

func newSearchArchive(t *testing.T) *searchArchive {
	t.Helper()
	work := t.TempDir()
	a := &searchArchive{dir: filepath.Join(work, "sessions"), path: filepath.Join(work, Name)}
	writeSearchSessions(t, a.dir)
	a.arch = Open(a.dir, a.path, testkit.Schema(t))
	return a
}

// hit is a hit as the tests compare them: session, sequence, where.
func (h Hit) key() string {
	seq := int64(-1)
	if h.Sequence != nil {
		seq = *h.Sequence
	}
	w := h.Doc.Kind
	if h.Doc.Tool != "" {
		w += " " + h.Doc.Tool
	}
	return fmt.Sprintf("%s#%d %s", h.Session.ID[:1], seq, w)
}

// search brings the archive up to date and runs query; the hits are
// returned in their order.
func (a *searchArchive) search(t *testing.T, query string, o SearchOptions) []string {
	t.Helper()
	q, err := ParseQuery(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	db, err := a.arch.Query(t.Context(), func(err error) { t.Errorf("left out: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(t.Context(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	hits, err := Search(t.Context(), tx, q, o)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.key())
	}
	return got
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// Every place a word can be, and every form of the query language, finds
// exactly the documents that hold it.
func TestSearchQueryForms(t *testing.T) {
	t.Parallel()
	a := newSearchArchive(t)
	for _, c := range []struct {
		query string
		want  []string // in any order
	}{
		// Where words are found.
		{"billing", []string{"1#1 user", "1#4 input Bash", "1#5 output Bash", "1#6 input Read"}},
		{"quarantine", []string{"1#2 thinking", "2#2 input Bash"}},
		{"pinned", []string{"1#3 assistant"}},
		{"fifty", []string{"1#4 input Bash", "1#5 output Bash"}},
		{"zebra", []string{"1#6 input Read", "1#7 output Read"}},
		{"login", []string{"3#0 error"}},
		{"ledger", []string{"3#1 summary"}},
		{"端口", []string{"3#2 user"}},
		// Case and accents do not matter.
		{"BILLING Zébra", []string{"1#6 input Read"}},
		// Phrases, prefixes, operators.
		{`"flaky migration test"`, []string{"1#1 user", "1#3 assistant"}},
		{`"migration flaky"`, nil},
		{"migrat*", []string{"1#1 user", "1#2 thinking", "1#3 assistant", "1#4 input Bash", "2#1 assistant", "2#2 input Bash", "2#3 output Bash"}},
		{"quarantine OR pinned", []string{"1#2 thinking", "2#2 input Bash", "1#3 assistant"}},
		{"quarantine AND migration", []string{"1#2 thinking", "2#2 input Bash"}},
		{"migration NOT flaky", []string{"1#2 thinking", "1#4 input Bash", "2#2 input Bash"}},
		{"(pinned OR login) clock", []string{"1#3 assistant"}},
		// Filters.
		{"billing tool:Bash", []string{"1#4 input Bash", "1#5 output Bash"}},
		{"billing tool:bash in:output", []string{"1#5 output Bash"}},
		{"status:error", []string{"1#6 input Read", "1#7 output Read", "3#0 error"}},
		{"zebra in:error", []string{"1#7 output Read"}},
		{"zebra in:tool", []string{"1#6 input Read", "1#7 output Read"}},
		{"in:thinking", []string{"1#2 thinking"}},
		{"migration model:sonnet", []string{"2#1 assistant", "2#2 input Bash"}},
		{"migration model:OPUS model:nothing", []string{"1#1 user", "1#2 thinking", "1#3 assistant", "1#4 input Bash"}},
		{"migration agent:claude tool:Bash", []string{"1#4 input Bash", "2#2 input Bash"}},
		{"migration agent:codex", nil},
		// Punctuation is not a word.
		{"zebra.yaml", []string{"1#6 input Read", "1#7 output Read"}},
		{"billing -- →", []string{"1#1 user", "1#4 input Bash", "1#5 output Bash", "1#6 input Read"}},
	} {
		got := a.search(t, c.query, SearchOptions{Limit: 50})
		if !slices.Equal(sorted(got), sorted(c.want)) {
			t.Errorf("%s:\n got %q\nwant %q", c.query, sorted(got), sorted(c.want))
		}
	}
}

// --since, --until and --cwd narrow the hits; --limit cuts them.
func TestSearchOptions(t *testing.T) {
	t.Parallel()
	a := newSearchArchive(t)
	// testkit.Session times line n at 1_700_000_000_000 + 7(n+1) ms.
	at := func(seq int64) int64 { return 1_700_000_000_000 + 7*(seq+1) }
	for _, c := range []struct {
		name string
		o    SearchOptions
		want []string
	}{
		{"since", SearchOptions{Since: at(4)}, []string{"1#4 input Bash", "1#5 output Bash", "1#6 input Read"}},
		{"until", SearchOptions{Until: at(4)}, []string{"1#1 user"}},
		{"cwd", SearchOptions{CWD: "/home/dev/billing/"}, []string{"1#1 user", "1#4 input Bash", "1#5 output Bash", "1#6 input Read"}},
		{"cwd above", SearchOptions{CWD: "/home/dev"}, []string{"1#1 user", "1#4 input Bash", "1#5 output Bash", "1#6 input Read"}},
		{"cwd prefix of a name", SearchOptions{CWD: "/home/dev/bill"}, nil},
	} {
		got := a.search(t, "billing", c.o)
		if !slices.Equal(sorted(got), sorted(c.want)) {
			t.Errorf("%s: got %q, want %q", c.name, sorted(got), sorted(c.want))
		}
	}
	if got := a.search(t, "billing", SearchOptions{Limit: 2}); len(got) != 2 {
		t.Errorf("limit 2: %d hits", len(got))
	}
}

// The documents where the words stand together in the order given rank
// above those where they are scattered, though the scattered ones also
// match; among equally relevant hits the newest comes first.
func TestSearchRanking(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	dir := filepath.Join(work, "sessions")
	// Texts of the same length, with the same words: one holds the phrase.
	together := "notes: the flaky migration test failed again on main today"
	scattered := "notes: the test failed, flaky again, migration on main today"
	s := testkit.NewSession(t, dir, "a").Line(testkit.InitLine)
	s.Line(testkit.AssistantText(1, scattered)).Line(testkit.AssistantText(2, together)).Line(testkit.AssistantText(3, scattered))
	s.Finish()
	a := &searchArchive{dir: dir, path: filepath.Join(work, Name)}
	a.arch = Open(dir, a.path, testkit.Schema(t))
	got := a.search(t, "flaky migration test", SearchOptions{})
	want := []string{"a#2 assistant", "a#3 assistant", "a#1 assistant"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q: the phrase first, then the scattered ones newest first", got, want)
	}
}

// Each update indexes only what it took in; a session file that grows is
// found with its new lines, and its old ones are not indexed twice.
func TestSearchIncremental(t *testing.T) {
	t.Parallel()
	a := newSearchArchive(t)
	before := a.search(t, "billing", SearchOptions{})
	docs := a.indexed(t)

	s := testkit.NewSession(t, a.dir, "44444444-0000-4000-8000-000000000004").Line(testkit.InitLine)
	s.Line(testkit.AssistantText(1, "a walrus in billing")).Commit()
	if got := a.search(t, "walrus", SearchOptions{}); !slices.Equal(got, []string{"4#1 assistant"}) {
		t.Errorf("walrus in a running session: %q", got)
	}
	s.Line(testkit.AssistantText(2, "a second walrus")).Finish()
	if got := a.search(t, "walrus", SearchOptions{}); !slices.Equal(sorted(got), []string{"4#1 assistant", "4#2 assistant"}) {
		t.Errorf("walrus after the session ended: %q", got)
	}
	if got := a.search(t, "billing", SearchOptions{}); len(got) != len(before)+1 {
		t.Errorf("billing: %q, was %q", got, before)
	}
	after := a.indexed(t)
	for id := range docs {
		if !after[id] {
			t.Errorf("document %d lost", id)
		}
	}
	if len(after) != len(docs)+2 {
		t.Errorf("%d documents, was %d: want 2 more", len(after), len(docs))
	}
	a.checkWhole(t)
}

// indexed is the rowids of the documents in the index.
func (a *searchArchive) indexed(t *testing.T) map[int64]bool {
	t.Helper()
	db := testkit.OpenDB(t, a.path)
	rows, err := db.Query("SELECT rowid FROM " + SearchTable)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	return ids
}

// checkWhole checks that the index holds exactly the documents of the
// archive's rows, each once, that its queue is empty and that FTS5 finds
// it sound.
func (a *searchArchive) checkWhole(t *testing.T) {
	t.Helper()
	db := testkit.OpenDB(t, a.path)
	want := map[int64]bool{}
	rows, err := db.Query("SELECT rowid, type, subtype, raw_message FROM messages")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var typ, sub sql.NullString
		var raw []byte
		if err := rows.Scan(&id, &typ, &sub, &raw); err != nil {
			t.Fatal(err)
		}
		for _, d := range MessageDocs(typ.String, sub.String, raw) {
			want[docRowid(sourceKey(id, fromMessage), d.Part)] = true
		}
	}
	rows.Close()
	rows, err = db.Query("SELECT rowid, tool_name, tool_input, tool_output, status, error FROM tool_calls")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var n, in, out, st, e sql.NullString
		if err := rows.Scan(&id, &n, &in, &out, &st, &e); err != nil {
			t.Fatal(err)
		}
		for _, d := range ToolCallDocs(n.String, in.String, out.String, st.String, e.String) {
			want[docRowid(sourceKey(id, fromToolCall), d.Part)] = true
		}
	}
	rows.Close()
	got := a.indexed(t)
	for id := range want {
		if !got[id] {
			row, table, part := splitRowid(id)
			t.Errorf("not indexed: row %d of table %d, part %d", row, table, part)
		}
	}
	for id := range got {
		if !want[id] {
			row, table, part := splitRowid(id)
			t.Errorf("indexed, but no such document: row %d of table %d, part %d", row, table, part)
		}
	}
	var queued int
	testkit.QueryRow(t, db, "SELECT count(*) FROM "+QueueTable, &queued)
	if queued != 0 {
		t.Errorf("%d rows still queued", queued)
	}
	db.Close()
	w := writable(t, a.path)
	defer w.Close()
	if _, err := w.Exec("INSERT INTO " + SearchTable + "(" + SearchTable + ") VALUES ('integrity-check')"); err != nil {
		t.Errorf("integrity-check: %v", err)
	}
}

// writable opens the archive for writing, as another program would.
func writable(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := openRW(path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Rows removed from the archive, or changed in it, leave the index with
// them, whoever changes them (here sqlite3's way: plain SQL).
func TestSearchFollowsChangedRows(t *testing.T) {
	t.Parallel()
	a := newSearchArchive(t)
	if got := a.search(t, "zebra", SearchOptions{}); len(got) != 2 {
		t.Fatalf("zebra: %q", got)
	}
	db := writable(t, a.path)
	for _, q := range []string{
		"DELETE FROM tool_calls WHERE tool_name = 'Read'",
		"DELETE FROM messages WHERE raw_message LIKE '%pinned the clock%'",
		"UPDATE messages SET raw_message = replace(raw_message, 'quarantine', 'lighthouse') WHERE raw_message LIKE '%quarantine%'",
		"UPDATE tool_calls SET tool_output = 'migrated 4 tables', status = 'error', error = 'lock timeout' WHERE tool_name = 'Bash' AND tool_output LIKE 'migrated%'",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"zebra", nil},
		{"pinned", nil},
		// The tool's input is read from tool_calls, which this did not change.
		{"quarantine", []string{"2#2 input Bash"}},
		{"lighthouse", []string{"1#2 thinking"}},
		{"lock timeout", []string{"2#3 output Bash"}},
		{"migrated", nil},
		{"status:error tool:Bash", []string{"2#2 input Bash", "2#3 output Bash"}},
	} {
		if got := a.search(t, c.query, SearchOptions{}); !slices.Equal(sorted(got), sorted(c.want)) {
			t.Errorf("%s: got %q, want %q", c.query, got, c.want)
		}
	}
	a.checkWhole(t)
}

// A session whose file was removed (convlog prune) stays in the archive,
// and so in the index.
func TestSearchFindsPrunedSessions(t *testing.T) {
	t.Parallel()
	a := newSearchArchive(t)
	a.search(t, "pinned", SearchOptions{})
	if err := os.Remove(filepath.Join(a.dir, sessFix+".db")); err != nil {
		t.Fatal(err)
	}
	if got := a.search(t, "pinned", SearchOptions{}); !slices.Equal(got, []string{"1#3 assistant"}) {
		t.Errorf("pinned, after its file was removed: %q", got)
	}
}

// An archive whose index is missing, of another version, or lacks a
// trigger is given a whole new one at its next update; so is one after
// Reindex.
func TestSearchRepairsTheIndex(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, sql string }{
		{"no index", "DROP TABLE " + SearchTable + "; DROP TABLE " + QueueTable + "; DROP TABLE " + metaTable},
		// An older convlog's index, which lacks what this one indexes.
		{"other version", "UPDATE " + metaTable + " SET value = '0'; DELETE FROM " + SearchTable},
		{"no trigger", "DROP TRIGGER search_messages_insert"},
		{"no queue", "DROP TABLE " + QueueTable},
		{"reindex", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := newSearchArchive(t)
			a.search(t, "pinned", SearchOptions{})
			if c.sql != "" {
				db := writable(t, a.path)
				if _, err := db.Exec(c.sql); err != nil {
					t.Fatal(err)
				}
				db.Close()
			} else if _, err := a.arch.Reindex(t.Context()); err != nil {
				t.Fatal(err)
			}
			// With no file changed, a search mends the index first.
			if got := a.search(t, "pinned", SearchOptions{}); !slices.Equal(got, []string{"1#3 assistant"}) {
				t.Errorf("got %q", got)
			}
			a.checkWhole(t)
			// A row that comes while the index is broken is in it too.
			testkit.NewSession(t, a.dir, "55555555-0000-4000-8000-000000000005").
				Line(testkit.InitLine).Line(testkit.AssistantText(1, "an okapi")).Finish()
			if got := a.search(t, "pinned OR okapi", SearchOptions{}); !slices.Equal(sorted(got), []string{"1#3 assistant", "5#1 assistant"}) {
				t.Errorf("got %q", got)
			}
			a.checkWhole(t)
		})
	}
}

// The child of TestSearchSurvivesKill: it brings the archive up to date
// with batches of a few documents, and stops for good in the middle of
// its third, before it commits, for the test to kill it there.
func crashChild(dir, path string) {
	batchBytes = 64
	n := 0
	testHookBatch = func() {
		n++
		if n == 3 {
			fmt.Println("stopped")
			select {}
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "schema.sql"))
	if err != nil {
		fmt.Println("schema:", err)
		return
	}
	schema, err := record.ParseSchema(string(b))
	if err != nil {
		fmt.Println("schema:", err)
		return
	}
	_, err = Open(dir, path, schema).Update(context.Background())
	fmt.Println("ended:", err)
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("CONVLOG_SEARCH_CRASH_DIR"); dir != "" {
		crashChild(dir, os.Getenv("CONVLOG_SEARCH_CRASH_ARCHIVE"))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A process killed in the middle of indexing leaves an index that the
// next update completes: searchable, whole and correct.
func TestSearchSurvivesKill(t *testing.T) {
	t.Parallel()
	a := newSearchArchive(t)
	a.search(t, "pinned", SearchOptions{})
	for i := range 4 {
		testkit.BigSession(t, a.dir, fmt.Sprintf("66666666-0000-4000-8000-00000000000%d", i), 40, 300)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CONVLOG_SEARCH_CRASH_DIR="+a.dir, "CONVLOG_SEARCH_CRASH_ARCHIVE="+a.path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "stopped\n" {
		cmd.Wait()
		t.Fatalf("the child did not stop in the middle of indexing: %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	// Two batches are in, the rest is queued, nothing is half done.
	db := testkit.OpenDB(t, a.path)
	var queued int
	testkit.QueryRow(t, db, "SELECT count(*) FROM "+QueueTable, &queued)
	db.Close()
	if queued == 0 {
		t.Fatal("nothing queued after the kill: the child indexed everything")
	}
	resumed := a.scores(t, "lorem")
	if len(resumed) != 4*38 {
		t.Errorf("lorem: %d hits, want %d", len(resumed), 4*38)
	}
	a.checkWhole(t)
	// The same as an index made in one go: no document was indexed
	// twice, which would count its words twice.
	if _, err := a.arch.Reindex(t.Context()); err != nil {
		t.Fatal(err)
	}
	whole := a.scores(t, "lorem")
	for k, s := range whole {
		if resumed[k] != s {
			t.Errorf("%s: score %v after the kill, %v in a new index", k, resumed[k], s)
		}
	}
}

// scores is the score of each hit of query.
func (a *searchArchive) scores(t *testing.T, query string) map[string]float64 {
	t.Helper()
	q, err := ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	db, err := a.arch.Query(t.Context(), func(err error) { t.Errorf("left out: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hits, err := Search(t.Context(), db, q, SearchOptions{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, h := range hits {
		out[h.Session.ID+" "+h.key()] = h.Score
	}
	return out
}

// Two processes updating the archive at once both end with the whole
// index.
func TestSearchConcurrentUpdates(t *testing.T) {
	t.Parallel()
	a := newSearchArchive(t)
	a.search(t, "pinned", SearchOptions{})
	for i := range 3 {
		testkit.BigSession(t, a.dir, fmt.Sprintf("77777777-0000-4000-8000-00000000000%d", i), 30, 200)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := Open(a.dir, a.path, testkit.Schema(t)).Update(t.Context())
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	a.checkWhole(t)
}

func TestSearchSessions(t *testing.T) {
	t.Parallel()
	a := newSearchArchive(t)
	q, err := ParseQuery("migration OR quarantine")
	if err != nil {
		t.Fatal(err)
	}
	db, err := a.arch.Query(t.Context(), func(error) {})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found, err := SearchSessions(t.Context(), db, q, SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range found {
		got = append(got, s.Session.ID[:1]+" "+strconv.FormatInt(s.Hits, 10)+" "+deref(s.Session.AgentSessionID))
	}
	want := []string{"1 4 agent-fix", "2 2 agent-other"}
	if !slices.Equal(sorted(got), want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// An image or a document in a tool's output (base64, in a block of its
// own) is not searched: its place is named, and its words are not in the
// index.
func TestSearchLeavesOutImages(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	a := &searchArchive{dir: filepath.Join(work, "sessions"), path: filepath.Join(work, Name)}
	data := "iVBORw0KGgo/" + "zebramarker/" + strings.Repeat("QUJDRA", 200)
	result := func(id, blocks string) string {
		return `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"` + id + `","content":[` + blocks + `]}]}}`
	}
	testkit.NewSession(t, a.dir, "44444444-0000-4000-8000-000000000004").
		Line(initLine("agent-img", "claude-sonnet-4-5", "/home/dev/web")).
		Line(toolUse("toolu_i", "Read", `{"file_path":"/home/dev/web/login.png"}`)).
		Line(result("toolu_i", `{"type":"text","text":"the login page"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"`+data+`"}}`)).
		Line(toolUse("toolu_m", "mcp__browser__screenshot", `{}`)).
		Line(result("toolu_m", `{"type":"image","data":"`+data+`","mimeType":"image/jpeg"}`)).
		Line(toolUse("toolu_p", "Read", `{"file_path":"/home/dev/web/spec.pdf"}`)).
		Line(result("toolu_p", `{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"`+data+`"}}`)).
		Finish()
	a.arch = Open(a.dir, a.path, testkit.Schema(t))
	if got := a.search(t, "zebramarker", SearchOptions{}); len(got) != 0 {
		t.Errorf("a word of the base64 data found: %q", got)
	}
	if got := a.search(t, "login page", SearchOptions{}); !slices.Equal(got, []string{"4#2 output Read"}) {
		t.Errorf("the output's text: %q", got)
	}
	db, err := a.arch.Query(t.Context(), func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var texts []string
	rows, err := db.Query("SELECT tool_name, tool_input, tool_output, status, error FROM tool_calls ORDER BY sequence")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n, in, out, st, e sql.NullString
		if err := rows.Scan(&n, &in, &out, &st, &e); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String, data) {
			t.Errorf("%s: the stored output lacks the data", n.String)
		}
		for _, d := range ToolCallDocs(n.String, in.String, out.String, st.String, e.String) {
			if d.Kind == KindOutput {
				texts = append(texts, d.Text)
			}
		}
	}
	rows.Close()
	want := []string{"the login page\nimage (image/png)", "image (image/jpeg)", "document (application/pdf)"}
	if !slices.Equal(texts, want) {
		t.Errorf("documents %q, want %q", texts, want)
	}
	stats, err := StatsOf(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if stats.TextBytes >= int64(len(data)) {
		t.Errorf("%d bytes of text indexed, for outputs whose data alone is %d", stats.TextBytes, len(data))
	}
}

// The titles of Claude Code 2.x sessions (ai-title and custom-title lines,
// each written again and again) are found as the session's summary, each
// title once.
func TestSearchSessionTitles(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	a := &searchArchive{dir: filepath.Join(work, "sessions"), path: filepath.Join(work, Name)}
	const id = "55555555-0000-4000-8000-000000000005"
	title := func(kind, field, text string) string {
		return `{"type":"` + kind + `","` + field + `":"` + text + `","sessionId":"` + id + `"}`
	}
	s := testkit.NewSession(t, a.dir, id).Line(userText("the checkout page times out"))
	for range 5 {
		s.Line(title("ai-title", "aiTitle", "Fix the checkout timeout"))
	}
	s.Line(testkit.AssistantText(7, "raised the gateway timeout"))
	for range 3 {
		s.Line(title("ai-title", "aiTitle", "Raise the gateway timeout"))
		s.Line(title("custom-title", "customTitle", "okapi release"))
	}
	s.Finish()
	a.arch = Open(a.dir, a.path, testkit.Schema(t))
	for q, want := range map[string][]string{
		"checkout":         {"5#0 user", "5#1 summary"},
		"gateway":          {"5#6 assistant", "5#7 summary"},
		"okapi":            {"5#8 summary"},
		"in:summary okapi": {"5#8 summary"},
	} {
		if got := a.search(t, q, SearchOptions{}); !slices.Equal(sorted(got), want) {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
}
