package archive

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Malformed queries get an error in the query language's own terms, never
// SQLite's.
func TestParseQueryErrors(t *testing.T) {
	for _, c := range []struct{ query, want string }{
		{``, "nothing to search for"},
		{`   `, "nothing to search for"},
		{`-- → ""`, "nothing to search for"},
		{`"unclosed`, `a quote is not closed: "unclosed`},
		{`flaky "migration test`, `a quote is not closed: "migration test`},
		{`AND`, "AND needs words on both sides"},
		{`flaky AND`, "AND needs words on both sides"},
		{`AND flaky`, "AND needs words on both sides"},
		{`flaky AND AND test`, "AND needs words on both sides"},
		{`flaky AND OR test`, "AND needs words on both sides"},
		{`OR`, "OR needs words on both sides"},
		{`flaky OR`, "OR needs words on both sides"},
		{`OR flaky`, "OR needs words on both sides"},
		{`NOT flaky`, "NOT needs words before it and after it"},
		{`flaky NOT`, "NOT needs words before it and after it"},
		{`flaky NOT OR test`, "NOT needs words before it and after it"},
		{`NEAR(`, "NEAR(…) is not supported"},
		{`NEAR(flaky test, 5)`, "NEAR(…) is not supported"},
		{`*`, "a * goes at the end of a word"},
		{`flaky **`, "a * goes at the end of a word"},
		{`(flaky`, "a ( is not closed"},
		{`(flaky OR (test)`, "a ( is not closed"},
		{`flaky)`, "a ) has no ( before it"},
		{`)`, "a ) has no ( before it"},
		{`()`, "( ) holds nothing to search for"},
		{`flaky ( )`, "( ) holds nothing to search for"},
		{`tool:`, "tool: needs a value, as in tool:Bash"},
		{`flaky in:`, "in: needs a value"},
		{`tool:__`, "names no tool"},
		{`flaky in:nowhere`, "in:nowhere is not a place to search: use in:user, in:assistant"},
		{`flaky status:maybe`, "status:maybe is not a tool call's status"},
		{`model:opus`, "add a word"},
		{`model:opus agent:claude`, "add a word"},
		{`flaky OR model:opus`, "cannot be used with OR, NOT or ( )"},
		{`flaky NOT agent:codex`, "cannot be used with OR, NOT or ( )"},
		{`(flaky model:opus) OR test`, "cannot be used with OR, NOT or ( )"},
	} {
		q, err := ParseQuery(c.query)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("%q: got %v, %v; want a QueryError", c.query, q, err)
			continue
		}
		if !strings.Contains(qe.Msg, c.want) {
			t.Errorf("%q: %q does not say %q", c.query, qe.Msg, c.want)
		}
		for _, w := range []string{"fts5", "FTS5", "syntax error", "SQL"} {
			if strings.Contains(qe.Msg, w) {
				t.Errorf("%q: %q speaks of %s", c.query, qe.Msg, w)
			}
		}
	}
}

// What the query asks about comes through: the words to highlight, the
// session filters, and the filter-like words that are no filters.
func TestParseQueryParts(t *testing.T) {
	q, err := ParseQuery(`Flaky "migration test" migrat* NOT skipped model:opus agent:Claude model:"sonnet 4" url:x`)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, w := range q.Words {
		s := strings.Join(w.Words, "+")
		if w.Prefix {
			s += "*"
		}
		got = append(got, s)
	}
	if strings.Join(got, " ") != "flaky migration+test migrat* url+x flaky+url+x" {
		t.Errorf("words %q", got)
	}
	if strings.Join(q.Models, ",") != "opus,sonnet 4" || strings.Join(q.Agents, ",") != "Claude" {
		t.Errorf("models %q, agents %q", q.Models, q.Agents)
	}
	if strings.Join(q.Unknown, ",") != "url:" {
		t.Errorf("unknown %q", q.Unknown)
	}
}

// ftsDB is an in-memory database with the search index's table.
func ftsDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(searchDDL()[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO "+SearchTable+" (rowid, body, kind, tool, status) VALUES (1, ?, 'output', 'bash', 'error')",
		spaceIdeographs(`flaky "migration" test: migrated * NEAR(a b) AND OR NOT 端口号 café`)); err != nil {
		t.Fatal(err)
	}
	return db
}

// Whatever the user types, the query is either refused in the user's
// terms or one that FTS5 runs: no input reaches SQLite as a syntax error.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		`flaky migration test`, `"flaky migration"`, `migrat*`, `a OR b`, `a AND b`, `a NOT b`, `(a OR b) c`,
		`tool:Bash in:output status:error`, `model:opus agent:claude x`, `"unclosed`, `AND`, `NEAR(`, `*`,
		`{body}: x`, `x^y`, `"a""b"`, `tool:"mcp__x"*`, `端口号`, `café -x +y`, `a:b:c`, `"" x`, `((a))`,
	} {
		f.Add(s)
	}
	db := ftsDB(f)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("%q: %v is not a QueryError", s, err)
			}
			return
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM "+SearchTable+" WHERE "+SearchTable+" MATCH ?", q.Match).Scan(&n); err != nil {
			t.Fatalf("%q became %q, which FTS5 refuses: %v", s, q.Match, err)
		}
		for _, w := range q.Words {
			for _, x := range w.Words {
				if !utf8.ValidString(x) || x == "" {
					t.Fatalf("%q: word %q", s, x)
				}
			}
		}
	})
}

// The words of a query find the words of the text whatever their case or
// accents, as the index does.
func TestParseQueryMatchesTheIndex(t *testing.T) {
	db := ftsDB(t)
	for _, query := range []string{`FLAKY`, `"migration test"`, `migra*`, `cafe`, `端口`, `端口号`, `near`, `flaky tool:BASH status:error in:output`} {
		q, err := ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM "+SearchTable+" WHERE "+SearchTable+" MATCH ?", q.Match).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d rows, %v", query, n, err)
		}
	}
	for _, query := range []string{`flaky tool:Read`, `flaky in:user`, `status:success`, `"test migration"`, `端号`} {
		q, err := ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM "+SearchTable+" WHERE "+SearchTable+" MATCH ?", q.Match).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows, %v; want none", query, n, err)
		}
	}
}
