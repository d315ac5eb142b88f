package archive

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The query language of `convlog search`, read here and turned into an FTS5
// query in which every word is quoted, so that nothing the user types is
// read as FTS5 syntax and every mistake is reported in the user's terms:
//
//	flaky migration          both words (AND is implied)
//	"flaky migration test"   the words in this order
//	migrat*                  words that start with migrat
//	a OR b, a AND b, a NOT b, ( … )
//	tool:Bash in:output status:error     where the words are
//	model:opus agent:claude  sessions of that model or agent
//
// NOT binds tighter than AND, and AND tighter than OR, so `a b NOT c OR d`
// is ((a AND (b NOT c)) OR d).

// QueryError is a query that cannot be read; its text says why in the
// query language's terms.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

func queryErr(format string, args ...any) error {
	return &QueryError{Msg: fmt.Sprintf(format, args...)}
}

// SearchQuery is a parsed search query.
type SearchQuery struct {
	// Match is the FTS5 query over SearchTable.
	Match string
	// Models and Agents, when set, keep the sessions whose model (agent)
	// contains one of them, in any case.
	Models, Agents []string
	// Words are the words and phrases to highlight in snippets, each as
	// its folded words; a phrase's last word may be a prefix.
	Words []Term
	// Unknown are the name: prefixes of words that look like filters but
	// are not, to mention when nothing is found.
	Unknown []string
}

// Term is a word or phrase of the query, as its folded words.
type Term struct {
	Words  []string
	Prefix bool
}

// Filters are the names that may precede a colon.
var Filters = []string{"tool", "in", "status", "model", "agent"}

// InValues are the places in:… takes; "tool" is input and output.
var InValues = []string{KindUser, KindAssistant, KindThinking, KindInput, KindOutput, KindError, KindSummary, "tool"}

// StatusValues are the values status:… takes.
var StatusValues = []string{"success", "error", "pending"}

type tokKind int

const (
	tWord tokKind = iota
	tLParen
	tRParen
	tAnd
	tOr
	tNot
)

type token struct {
	kind   tokKind
	text   string // the word, phrase or filter value, as typed
	field  string // for a filter: its name
	quoted bool
	prefix bool
	src    string // as typed, for messages
}

// lex splits a query into tokens.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += n
		case r == '(':
			toks = append(toks, token{kind: tLParen, src: "("})
			i++
		case r == ')':
			toks = append(toks, token{kind: tRParen, src: ")"})
			i++
		case r == '"':
			t, next, err := lexPhrase(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = next
		default:
			j := i
			for j < len(s) {
				r, n := utf8.DecodeRuneInString(s[j:])
				if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' {
					break
				}
				j += n
			}
			word := s[i:j]
			i = j
			switch word {
			case "AND":
				toks = append(toks, token{kind: tAnd, src: word})
				continue
			case "OR":
				toks = append(toks, token{kind: tOr, src: word})
				continue
			case "NOT":
				toks = append(toks, token{kind: tNot, src: word})
				continue
			}
			if strings.EqualFold(word, "NEAR") && i < len(s) && s[i] == '(' {
				return nil, queryErr(`NEAR(…) is not supported: search for a "phrase", or for words joined by AND`)
			}
			t := token{kind: tWord, text: word, src: word}
			if name, value, ok := strings.Cut(word, ":"); ok && slices.Contains(Filters, strings.ToLower(name)) {
				t.field = strings.ToLower(name)
				if value == "" && i < len(s) && s[i] == '"' {
					p, next, err := lexPhrase(s, i)
					if err != nil {
						return nil, err
					}
					i = next
					value, t.quoted, t.prefix = p.text, true, p.prefix
					t.src = word + p.src
				}
				if value == "" {
					return nil, queryErr("%s: needs a value, as in %s", name, filterExample(t.field))
				}
				t.text = value
			}
			if !t.quoted && strings.HasSuffix(t.text, "*") {
				stem := strings.TrimRight(t.text, "*")
				if !hasWordRune(stem) {
					return nil, queryErr("%q: a * goes at the end of a word, to find the words that start with it, as in migrat*", t.src)
				}
				t.text, t.prefix = stem, true
			}
			toks = append(toks, t)
		}
	}
	return toks, nil
}

// lexPhrase reads the phrase whose opening quote is at s[i].
func lexPhrase(s string, i int) (token, int, error) {
	end := strings.IndexByte(s[i+1:], '"')
	if end < 0 {
		return token{}, 0, queryErr("a quote is not closed: %s; close it with \", or leave it out", clipQuery(s[i:]))
	}
	t := token{kind: tWord, text: s[i+1 : i+1+end], quoted: true}
	next := i + 2 + end
	if next < len(s) && s[next] == '*' {
		t.prefix = true
		next++
	}
	t.src = s[i:next]
	return t, next, nil
}

func clipQuery(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}

func filterExample(field string) string {
	switch field {
	case "tool":
		return "tool:Bash"
	case "in":
		return "in:output"
	case "status":
		return "status:error"
	case "model":
		return "model:opus"
	}
	return "agent:claude"
}

// node is a part of the parsed query.
type node struct {
	op   tokKind // tWord (a word, phrase or filter), tAnd, tOr, tNot
	tok  token
	kids []*node
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

// ParseQuery reads a query of the search language.
func ParseQuery(s string) (*SearchQuery, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	// Words with nothing to search for (a lone -, →) are left out.
	kept := toks[:0]
	for _, t := range toks {
		if t.kind == tWord && t.field == "" && !hasWordRune(t.text) {
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == 0 {
		return nil, queryErr("nothing to search for: give a word, as in convlog search flaky")
	}
	p := &parser{toks: kept}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t != nil {
		if t.kind == tRParen {
			return nil, queryErr("a ) has no ( before it")
		}
		return nil, queryErr("cannot read the query from %q on", t.src)
	}
	return compile(root)
}

func (p *parser) or() (*node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t != nil && t.kind == tOr; t = p.peek() {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		if right == nil {
			return nil, queryErr("OR needs words on both sides, as in: flaky OR intermittent")
		}
		left = &node{op: tOr, kids: []*node{left, right}}
	}
	return left, nil
}

func (p *parser) and() (*node, error) {
	var kids []*node
	for {
		t := p.peek()
		if t == nil || t.kind == tOr || t.kind == tRParen {
			break
		}
		if t.kind == tAnd {
			p.pos++
			if len(kids) == 0 {
				return nil, queryErr("AND needs words on both sides, as in: flaky AND test")
			}
			if n := p.peek(); n == nil || n.kind == tOr || n.kind == tRParen || n.kind == tAnd {
				return nil, queryErr("AND needs words on both sides, as in: flaky AND test")
			}
			continue
		}
		if t.kind == tNot && len(kids) == 0 {
			return nil, queryErr("NOT needs words before it and after it, as in: test NOT flaky")
		}
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	switch len(kids) {
	case 0:
		if t := p.peek(); t != nil && t.kind == tOr {
			return nil, queryErr("OR needs words on both sides, as in: flaky OR intermittent")
		}
		return nil, nil
	case 1:
		return kids[0], nil
	}
	return &node{op: tAnd, kids: kids}, nil
}

func (p *parser) not() (*node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t != nil && t.kind == tNot; t = p.peek() {
		p.pos++
		if n := p.peek(); n == nil || (n.kind != tWord && n.kind != tLParen) {
			return nil, queryErr("NOT needs words before it and after it, as in: test NOT flaky")
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &node{op: tNot, kids: []*node{left, right}}
	}
	return left, nil
}

func (p *parser) unary() (*node, error) {
	t := p.peek()
	switch {
	case t == nil:
		return nil, queryErr("the query ends too early")
	case t.kind == tWord:
		p.pos++
		return &node{op: tWord, tok: *t}, nil
	case t.kind == tLParen:
		p.pos++
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		if inner == nil {
			if c := p.peek(); c != nil && c.kind == tRParen {
				return nil, queryErr("( ) holds nothing to search for")
			}
		}
		c := p.peek()
		if c == nil || c.kind != tRParen {
			return nil, queryErr("a ( is not closed: add a ) after what it groups")
		}
		p.pos++
		if inner == nil {
			return nil, queryErr("( ) holds nothing to search for")
		}
		return inner, nil
	case t.kind == tRParen:
		return nil, queryErr("a ) has no ( before it")
	}
	return nil, queryErr("%s needs words before it and after it", t.src)
}

// sessionFilter says whether n filters whole sessions (model:, agent:).
func sessionFilter(n *node) bool {
	return n.op == tWord && (n.tok.field == "model" || n.tok.field == "agent")
}

// compile turns the parsed query into FTS5 and session filters.
func compile(root *node) (*SearchQuery, error) {
	q := &SearchQuery{}
	// model: and agent: may only stand beside the rest of the query.
	top := []*node{root}
	if root.op == tAnd {
		top = root.kids
	}
	var rest []*node
	for _, n := range top {
		if sessionFilter(n) {
			v := strings.TrimSpace(n.tok.text)
			if n.tok.field == "model" {
				q.Models = append(q.Models, v)
			} else {
				q.Agents = append(q.Agents, v)
			}
			continue
		}
		rest = append(rest, n)
	}
	for _, n := range rest {
		if err := checkNoSessionFilter(n); err != nil {
			return nil, err
		}
	}
	if len(rest) == 0 {
		return nil, queryErr("model: and agent: choose sessions, but there is nothing to search for in them: add a word, as in flaky model:opus")
	}
	var b strings.Builder
	var plain []string // the words of the top level, for the phrase bonus
	for i, n := range rest {
		if i > 0 {
			b.WriteString(" AND ")
		}
		if err := q.write(&b, n, true); err != nil {
			return nil, err
		}
		if n.op == tWord && n.tok.field == "" && !n.tok.quoted && !n.tok.prefix {
			plain = append(plain, n.tok.text)
		}
	}
	// A hit where the words stand together, in the order given, ranks
	// above one where they are scattered: the phrase adds to the score of
	// the documents that hold it, and the OR keeps the others.
	if len(plain) >= 2 {
		phrase := strings.Join(plain, " ")
		fmt.Fprintf(&b, " AND (body : %s OR body : %s)", ftsString(phrase), ftsString(plain[0]))
		q.Words = append(q.Words, Term{Words: foldWords(phrase)})
	}
	q.Match = b.String()
	return q, nil
}

func checkNoSessionFilter(n *node) error {
	if sessionFilter(n) {
		return queryErr("model: and agent: choose whole sessions, so they cannot be used with OR, NOT or ( ): put them beside the words, as in: flaky test model:opus")
	}
	for _, k := range n.kids {
		if err := checkNoSessionFilter(k); err != nil {
			return err
		}
	}
	return nil
}

// write writes n as FTS5; positive is false under the right side of NOT,
// whose words are not highlighted.
func (q *SearchQuery) write(b *strings.Builder, n *node, positive bool) error {
	switch n.op {
	case tAnd, tOr, tNot:
		op := map[tokKind]string{tAnd: " AND ", tOr: " OR ", tNot: " NOT "}[n.op]
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(op)
			}
			if err := q.write(b, k, positive && !(n.op == tNot && i > 0)); err != nil {
				return err
			}
		}
		b.WriteByte(')')
		return nil
	}
	t := n.tok
	star := ""
	if t.prefix {
		star = " *"
	}
	switch t.field {
	case "":
		fmt.Fprintf(b, "body : %s%s", ftsString(t.text), star)
		if positive {
			q.Words = append(q.Words, Term{Words: foldWords(t.text), Prefix: t.prefix})
		}
		if name, _, ok := strings.Cut(t.text, ":"); ok && !t.quoted && name != "" && isLetters(name) && !slices.Contains(q.Unknown, name+":") {
			q.Unknown = append(q.Unknown, name+":")
		}
	case "tool":
		tok := ToolToken(t.text)
		if tok == "" {
			return queryErr("tool:%s names no tool: give its name, as in tool:Bash", t.text)
		}
		fmt.Fprintf(b, "tool : %s%s", ftsString(tok), star)
	case "in":
		v := strings.ToLower(t.text)
		switch {
		case v == "tool":
			b.WriteString(`(kind : "input" OR kind : "output")`)
		case slices.Contains(InValues, v):
			fmt.Fprintf(b, "kind : %s", ftsString(v))
		default:
			return queryErr("in:%s is not a place to search: use in:%s", t.text, strings.Join(InValues, ", in:"))
		}
	case "status":
		v := strings.ToLower(t.text)
		if !slices.Contains(StatusValues, v) {
			return queryErr("status:%s is not a tool call's status: use status:%s", t.text, strings.Join(StatusValues, ", status:"))
		}
		fmt.Fprintf(b, "status : %s", ftsString(v))
	}
	return nil
}

// ftsString is s as an FTS5 string, whose words the table's tokenizer
// splits as it split the text.
func ftsString(s string) string {
	// FTS5 ends a string at a NUL; no control character is part of a word.
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return `"` + strings.ReplaceAll(spaceIdeographs(s), `"`, `""`) + `"`
}

func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// isWordRune says whether the tokenizer keeps r in a word: letters,
// digits, and private-use characters (unicode61's default categories
// L*, N* and Co).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

func hasWordRune(s string) bool {
	for _, r := range s {
		if isWordRune(r) {
			return true
		}
	}
	return false
}

// foldWords splits s into words as the index does, folded.
func foldWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range s {
		switch {
		case isIdeo(r):
			flush()
			words = append(words, string(r))
		case isWordRune(r):
			cur = append(cur, fold(r))
		default:
			flush()
		}
	}
	flush()
	return words
}

// fold is r in lower case without its accent, near enough to the
// tokenizer's folding for highlighting: Latin letters with diacritics
// lose them.
func fold(r rune) rune {
	r = unicode.ToLower(r)
	if r >= 0xE0 && r <= 0x17F {
		if b := latinBase[r-0xE0]; b != '.' {
			return rune(b)
		}
	}
	return r
}

// latinBase is the letter under each of U+00E0…U+017F, or '.' for none
// (lower case only: fold lowers first).
const latinBase = "" +
	"aaaaaaaceeeeiiii" + // E0-EF
	".nooooo.ouuuuy.y" + // F0-FF
	"aaaaaaccccccccdd" + // 100-10F
	"ddeeeeeeeeeegggg" + // 110-11F
	"gggghhhhiiiiiiii" + // 120-12F
	"i...jjkk.lllllll" + // 130-13F
	"l..nnnnnn...oooo" + // 140-14F
	"oo..rrrrrrssssss" + // 150-15F
	"sstttt..uuuuuuuu" + // 160-16F
	"uuuuwwyyyzzzzzz." // 170-17F
