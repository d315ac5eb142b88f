package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"

	"github.com/convlog/convlog/report"
)

// SQLCmd is `convlog sql`: one read-only query over every local session
// (the archive), or over the synced database with --url.
type SQLCmd struct {
	Query string `arg:"" optional:"" help:"One query: SELECT, WITH, VALUES, EXPLAIN, or a PRAGMA that reads (PRAGMA table_info(sessions)). Without it, or with -, the query is read from stdin (convlog sql < scripts/analytics/tool_usage.sql)."`
	JSON  bool   `name:"json" xor:"format" help:"Print a JSON array of objects, one per row."`
	CSV   bool   `name:"csv" xor:"format" help:"Print CSV with a header line."`
	TSV   bool   `name:"tsv" xor:"format" help:"Print tab-separated values with a header line (the default when stdout is not a terminal)."`

	AcrossFlags `embed:""`
}

// tableCell is how many characters of a value the terminal table shows;
// the other formats have values whole.
const tableCell = 60

// Run implements `convlog sql`.
func (c *SQLCmd) Run(env *Env) error {
	q := c.Query
	if q == "" || q == "-" {
		b, err := io.ReadAll(env.Stdin)
		if err != nil {
			return fmt.Errorf("read the query from stdin: %w", err)
		}
		q = string(b)
	}
	if err := checkQuery(q); err != nil {
		return err
	}
	db, err := c.open(env)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := db.ctx(env.Ctx)
	defer cancel()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return db.wrap(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return db.wrap(err)
	}

	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	var w report.Rows
	switch {
	case c.JSON:
		w = report.NewJSONRows(out)
	case c.CSV:
		w = report.NewCSVRows(out)
	case c.TSV || !isTerminal(env.Stdout):
		w = report.NewTSVRows(out)
	default:
		w = report.NewTableRows(out, tableCell)
	}
	if err := w.Header(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return db.wrap(err)
		}
		if err := w.Row(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return db.wrap(err)
	}
	if err := w.Close(); err != nil {
		return err
	}
	return out.Flush()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// queryWords are the statements convlog sql runs.
var queryWords = map[string]bool{"SELECT": true, "WITH": true, "VALUES": true, "EXPLAIN": true}

// writeWords are words that only a statement that changes a database (or
// the connection) holds outside quotes. REPLACE is also a function; it
// counts only when no "(" follows.
var writeWords = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true, "UPSERT": true,
	"CREATE": true, "DROP": true, "ALTER": true, "ATTACH": true, "DETACH": true,
	"VACUUM": true, "REINDEX": true, "ANALYZE": true, "PRAGMA": true,
	"BEGIN": true, "COMMIT": true, "ROLLBACK": true, "SAVEPOINT": true, "RELEASE": true,
}

// notQuery ends every refusal: what convlog sql runs.
const notQuery = "convlog sql runs one read-only query: SELECT, WITH, VALUES, EXPLAIN, or a PRAGMA that reads"

// readPragmas are the pragmas convlog sql runs, and whether each takes an
// argument in parentheses. Only pragmas whose argument names what to read
// (a table, an index, a number of errors) may have one: for a setting,
// PRAGMA name(value) sets it as PRAGMA name = value does.
var readPragmas = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`table_info table_xinfo table_list index_list index_info index_xinfo
		foreign_key_list foreign_key_check integrity_check quick_check`) {
		m[p] = true
	}
	for _, p := range strings.Fields(`database_list collation_list function_list module_list pragma_list
		compile_options user_version schema_version application_id page_size page_count freelist_count
		encoding journal_mode data_version auto_vacuum`) {
		m[p] = false
	}
	return m
}()

// checkPragma accepts PRAGMA [schema.]name [(argument)] [;] for a pragma that
// only reads.
func checkPragma(toks []sqlToken) error {
	rest := toks[1:]
	if len(rest) > 0 && rest[len(rest)-1].text == ";" {
		rest = rest[:len(rest)-1]
	}
	if len(rest) >= 2 && rest[1].text == "." {
		rest = rest[2:] // the schema: main, temp, …
	}
	if len(rest) == 0 || !rest[0].word {
		return fmt.Errorf("refused: PRAGMA without a name; %s", notQuery)
	}
	name := strings.ToLower(rest[0].text)
	for _, t := range rest {
		if t.text == "=" {
			return fmt.Errorf("refused: PRAGMA %s = … changes the database; %s", name, notQuery)
		}
	}
	takesArg, ok := readPragmas[name]
	if !ok {
		return fmt.Errorf("refused: PRAGMA %s is not one that convlog sql knows to only read; %s", name, notQuery)
	}
	switch {
	case len(rest) == 1:
		return nil
	case takesArg && len(rest) == 4 && rest[1].text == "(" && rest[3].text == ")":
		return nil
	case !takesArg && len(rest) > 1 && rest[1].text == "(":
		return fmt.Errorf("refused: PRAGMA %s(…) sets it; %s", name, notQuery)
	}
	return fmt.Errorf("refused: PRAGMA %s takes at most one argument in parentheses; %s", name, notQuery)
}

// checkQuery refuses what is not one read-only query, before anything is
// opened. On local files SQLite refuses writes in any case (the archive is
// opened read-only); this check gives a clear message, and is the guard
// for a remote database, which has no read-only mode.
func checkQuery(q string) error {
	toks, err := sqlTokens(q)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return errors.New("no query given; " + notQuery)
	}
	first := strings.ToUpper(toks[0].text)
	if toks[0].word && first == "PRAGMA" {
		return checkPragma(toks)
	}
	if !toks[0].word || !queryWords[first] {
		if toks[0].word && writeWords[first] {
			return fmt.Errorf("refused: %s changes the database; %s", first, notQuery)
		}
		if first == "." {
			return fmt.Errorf("refused: sqlite3 dot-commands are not SQL; %s", notQuery)
		}
		return fmt.Errorf("refused: the query starts with %q; %s", toks[0].text, notQuery)
	}
	for i, t := range toks {
		if t.text == ";" {
			if i+1 < len(toks) {
				return fmt.Errorf("refused: more than one statement; %s", notQuery)
			}
			continue
		}
		if !t.word {
			continue
		}
		w := strings.ToUpper(t.text)
		if w == "REPLACE" && i+1 < len(toks) && toks[i+1].text == "(" {
			continue // the replace() function
		}
		if writeWords[w] {
			return fmt.Errorf("refused: %s changes the database; %s", w, notQuery)
		}
	}
	return nil
}

// sqlToken is a word (keyword or bare name) or a single punctuation
// character; quoted strings, quoted names, numbers and comments are left
// out, since no keyword hides in them.
type sqlToken struct {
	text string
	word bool
}

// sqlTokens splits SQL text as SQLite's tokenizer does, as far as telling
// keywords from quoted text goes.
func sqlTokens(q string) ([]sqlToken, error) {
	var toks []sqlToken
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return toks, nil
			}
			i += j + 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return toks, nil // SQLite ends an open comment at the end
			}
			i += j + 4
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := i + 1
			for {
				k := strings.IndexByte(q[j:], end)
				if k < 0 {
					return nil, errors.New("the query has an unterminated quote")
				}
				j += k + 1
				// A doubled quote is a quote inside the string.
				if end != ']' && j < len(q) && q[j] == end {
					j++
					continue
				}
				break
			}
			if c != '\'' {
				toks = append(toks, sqlToken{text: "name"}) // a quoted name is never a keyword
			} else {
				toks = append(toks, sqlToken{text: "'…'"})
			}
			i = j
		case isWordStart(c):
			j := i + 1
			for j < len(q) && isWordPart(q[j]) {
				j++
			}
			toks = append(toks, sqlToken{text: q[i:j], word: true})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(q) && (isWordPart(q[j]) || q[j] == '.') {
				j++
			}
			toks = append(toks, sqlToken{text: q[i:j]})
			i = j
		default:
			toks = append(toks, sqlToken{text: q[i : i+1]})
			i++
		}
	}
	return toks, nil
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isWordPart(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' || c == '$' }
