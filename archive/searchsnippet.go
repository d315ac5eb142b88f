package archive

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is a piece of a snippet: the query's words are pieces of their own,
// with Match set.
type Span struct {
	Text  string
	Match bool
}

// Snippet is the place of text where the query's words are found (the
// window of about width characters that holds the most different ones),
// on one line, its cut ends marked with "…". Text without any of them
// (a hit on filters alone) gives its beginning.
func (q *SearchQuery) Snippet(text string, width int) []Span {
	if width <= 0 {
		width = 160
	}
	// Past a few MB, an output is shown from where its first hit lies in
	// that part, or from its beginning: snippets are for reading, and the
	// whole document is one query away (--around).
	const scanLimit = 4 << 20
	scan := text
	if len(scan) > scanLimit {
		scan = scan[:scanLimit]
	}
	matches := q.matches(scan, 512)
	start := 0
	if len(matches) > 0 {
		best, bestN := 0, 0
		for i, m := range matches {
			// The window's worth: the words of the different terms in it.
			seen := map[int]bool{}
			n := 0
			for _, o := range matches[i:] {
				if o.start-m.start > width*2 {
					break
				}
				if !seen[o.term] {
					seen[o.term] = true
					n += len(q.Words[o.term].Words)
				}
			}
			if n > bestN {
				best, bestN = i, n
			}
		}
		start = backUp(text, matches[best].start, width/4)
		matches = matches[best:]
	}
	var spans []Span
	var cur strings.Builder
	flush := func(match bool) {
		if cur.Len() > 0 {
			spans = append(spans, Span{Text: cur.String(), Match: match})
			cur.Reset()
		}
	}
	if start > 0 {
		cur.WriteString("…")
	}
	n := 0
	space := false
	i := start
	for i < len(text) && n < width {
		if len(matches) > 0 && i >= matches[0].start {
			m := matches[0]
			matches = matches[1:]
			if i == m.start {
				if space {
					cur.WriteByte(' ')
					space = false
				}
				flush(false)
				// A phrase may span a line break: its words are
				// shown on one line like the rest.
				words := strings.Join(strings.FieldsFunc(text[m.start:m.end], blank), " ")
				cur.WriteString(words)
				flush(true)
				n += utf8.RuneCountInString(words)
				i = m.end
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if blank(r) {
			space = cur.Len() > 0 || len(spans) > 0
			continue
		}
		if space {
			cur.WriteByte(' ')
			n++
			space = false
		}
		cur.WriteRune(r)
		n++
	}
	if i < len(text) && strings.TrimSpace(text[i:]) != "" {
		cur.WriteString("…")
	}
	flush(false)
	return spans
}

// blank is what a snippet shows as one space, however much of it there is:
// spaces, line breaks, tabs and other control characters.
func blank(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// backUp is a place up to about n characters before i, at the start of a
// word, so that a snippet begins with a little of what leads to its match.
func backUp(text string, i, n int) int {
	j := i
	for k := 0; k < n && j > 0; k++ {
		_, size := utf8.DecodeLastRuneInString(text[:j])
		j -= size
	}
	if j == 0 {
		return 0
	}
	// Forward to the next word's start.
	for j < i {
		r, size := utf8.DecodeRuneInString(text[j:])
		if unicode.IsSpace(r) {
			return j + size
		}
		j += size
	}
	return j
}

type match struct {
	start, end int // bytes of text
	term       int // which of q.Words
}

// word is a word of a text, as the tokenizer sees it.
type word struct {
	start, end int
	folded     string
}

// matches finds the query's words and phrases in text, in order, at most
// limit of them.
func (q *SearchQuery) matches(text string, limit int) []match {
	if len(q.Words) == 0 {
		return nil
	}
	var out []match
	// The last few words seen, enough for the longest phrase.
	longest := 1
	for _, t := range q.Words {
		longest = max(longest, len(t.Words))
	}
	// Phrases before words, so that a phrase is one match, not several.
	terms := make([]int, len(q.Words))
	for i := range terms {
		terms[i] = i
	}
	slices.SortStableFunc(terms, func(a, b int) int { return len(q.Words[b].Words) - len(q.Words[a].Words) })
	window := make([]word, 0, longest)
	var cur []rune
	curStart := -1
	check := func() {
		for _, ti := range terms {
			t := q.Words[ti]
			k := len(t.Words)
			if k == 0 || k > len(window) {
				continue
			}
			ws := window[len(window)-k:]
			ok := true
			for j, w := range t.Words {
				got := ws[j].folded
				if j == k-1 && t.Prefix {
					ok = strings.HasPrefix(got, w)
				} else {
					ok = got == w
				}
				if !ok {
					break
				}
			}
			if ok {
				m := match{start: ws[0].start, end: ws[k-1].end, term: ti}
				// A phrase replaces the words of it already matched alone.
				for len(out) > 0 && out[len(out)-1].start >= m.start {
					out = out[:len(out)-1]
				}
				out = append(out, m)
				return
			}
		}
	}
	push := func(w word) {
		if len(window) == cap(window) {
			copy(window, window[1:])
			window = window[:len(window)-1]
		}
		window = append(window, w)
		check()
	}
	end := func(at int) {
		if curStart >= 0 {
			push(word{start: curStart, end: at, folded: string(cur)})
			cur, curStart = cur[:0], -1
		}
	}
	for i, r := range text {
		switch {
		case isIdeo(r):
			end(i)
			push(word{start: i, end: i + utf8.RuneLen(r), folded: string(r)})
		case isWordRune(r):
			if curStart < 0 {
				curStart = i
			}
			cur = append(cur, fold(r))
		default:
			end(i)
		}
		if len(out) >= limit {
			return out
		}
	}
	end(len(text))
	return out
}
