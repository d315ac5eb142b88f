// Package redact replaces secrets in text before it is stored, so that API
// keys, tokens and private keys seen in a session do not land on disk.
//
// A secret is replaced with a marker naming its kind, "[REDACTED:github]".
// The same Redactor handles plain text (a tool's output), JSON documents (a
// tool's input) and whole stream-json lines, where the secret sits inside a
// JSON string with its newlines and quotes escaped: a replacement never
// splits an escape sequence or crosses a string's quotes, so valid JSON stays
// valid JSON.
//
// Two matchers find secrets. A hand-written scanner (this file) takes the
// formats met most often, by kind:
//
//	anthropic     sk-ant-… API, admin and OAuth keys
//	openai        sk-…, sk-proj-…, sk-svcacct-…, sk-admin-… (32+ bytes mixing
//	              digits, capitals and small letters, unlike "sk-" in words)
//	github        ghp_, gho_, ghu_, ghs_, ghr_ and 36+ base62; github_pat_…
//	gitlab        glpat-…
//	aws           access key ids AKIA, ASIA, ABIA and 16 more; the 40-byte
//	              value assigned to aws_secret_access_key, SecretAccessKey,
//	              secret_key …
//	google        AIza and 35 more
//	slack         xoxb-, xoxp-, xoxa-, xoxe-, … and xapp- tokens; the secret
//	              part of a hooks.slack.com/services/ webhook
//	stripe        sk_live_, rk_live_, sk_test_, rk_test_, whsec_
//	npm           npm_ and 36 base62
//	huggingface   hf_ and 34 letters
//	jwt           eyJ… header, payload and signature (or five JWE parts)
//	private-key   a -----BEGIN … PRIVATE KEY----- block to its END line
//	basic         the credentials of "Authorization: Basic …"
//	bearer        the token of "Bearer …" when it looks random
//	url-password  the password of scheme://user:password@host, even with
//	              '/', '#' or '?' in it, and of user:password@tcp(…)
//	custom        a match of a user pattern, or its first group
//
// Tokens must start at a word's start and have their format's length, so
// git hashes, UUIDs, base64 data and identifiers in code are left alone.
//
// Rules (rules.go) take the rest: those of gitleaks' default configuration
// (gitleaks_rules.go), marked with the vendor's name ("sendgrid",
// "twilio", "gitlab" …), and a few of convlog's own (local_rules.go).
// gitleaks' rule for generic assignments ("generic") is off unless
// WithGeneric asks for it.
//
// A secret found once is also replaced wherever else it appears in the
// same text.
//
// Redaction runs on every stored line, so it is built for speed: one pass
// over the text looks for a few anchor bytes ('-' of "sk-", '_' of "ghp_",
// 'J' of "eyJ" …) and for the rules' keywords, and the formats are checked
// by hand around each hit, the rules' patterns near each keyword. A line
// with nothing to replace is read once and allocates nothing. User
// patterns (New's extra) run with package regexp over the whole text.
package redact

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"regexp"
	"slices"
	"strings"
	"unsafe"
)

// kind is what a secret is; its name appears in the marker. The order is a
// priority: when matches of two kinds start at the same byte, the first kind
// in this list names the marker. The kinds of the rules (rules.go) follow
// the built-in ones.
type kind uint8

const (
	kAnthropic kind = iota
	kOpenAI
	kGitHub
	kGitLab
	kAWS
	kGoogle
	kSlack
	kStripe
	kNPM
	kHuggingFace
	kJWT
	kPrivateKey
	kBasic
	kBearer
	kURLPassword
	kCustom
	numBuiltin
)

var builtinNames = [numBuiltin]string{
	kAnthropic:   "anthropic",
	kOpenAI:      "openai",
	kGitHub:      "github",
	kGitLab:      "gitlab",
	kAWS:         "aws",
	kGoogle:      "google",
	kSlack:       "slack",
	kStripe:      "stripe",
	kNPM:         "npm",
	kHuggingFace: "huggingface",
	kJWT:         "jwt",
	kPrivateKey:  "private-key",
	kBasic:       "basic",
	kBearer:      "bearer",
	kURLPassword: "url-password",
	kCustom:      "custom",
}

// kindNames are the names of all kinds, by kind.
var kindNames = func() []string {
	names := append(builtinNames[:len(builtinNames):len(builtinNames)], ruleKinds...)
	if len(names) > 256 {
		panic("redact: too many kinds")
	}
	return names
}()

var kindByName = func() map[string]kind {
	m := make(map[string]kind, len(kindNames))
	for k, name := range kindNames {
		m[name] = kind(k)
	}
	return m
}()

const markerPrefix = "[REDACTED:"

var markers = func() [][]byte {
	m := make([][]byte, len(kindNames))
	for k, name := range kindNames {
		m[k] = []byte(markerPrefix + name + "]")
	}
	return m
}()

// isMarker holds every marker, to tell one from text that looks alike.
var isMarker = func() map[string]bool {
	m := make(map[string]bool, len(markers))
	for _, b := range markers {
		m[string(b)] = true
	}
	return m
}()

// Kinds lists the kinds of secret a Redactor knows, as they appear in its
// markers; "custom" is for matches of the user's patterns.
func Kinds() []string { return slices.Clone(kindNames) }

// Redactor finds and replaces secrets. It does not change after New, so one
// Redactor may be used from many goroutines at once. A nil *Redactor
// replaces nothing, which is what redaction turned off means.
type Redactor struct {
	custom []custom
	rules  *ruleSet
}

// An Option changes what a Redactor replaces.
type Option func(*Redactor)

// WithGeneric also replaces values assigned to names such as "api_key",
// "token" or "SECRET_KEY" when they look random: gitleaks' rule
// generic-api-key, with its allowlists, marked "generic". It is off by
// default: it also takes random-looking values of code that are not
// secrets, and slows redaction down by a fifth (README, "Secrets").
// Passwords assigned a literal are replaced either way.
func WithGeneric(on bool) Option {
	return func(r *Redactor) {
		if on {
			r.rules = genericRules()
		} else {
			r.rules = defaultRules()
		}
	}
}

type custom struct {
	re    *regexp.Regexp
	group bool // replace the first group that matched, not the whole match
}

// New returns a Redactor for the well-known formats plus the user's extra
// patterns (Go regexp syntax), whose matches are marked "custom". When a
// pattern has a capturing group, only the first group that took part in the
// match is replaced: "password=(\S+)" keeps "password=". A pattern that does
// not compile is an error naming it.
//
// A pattern sees the text as it is stored: in a JSON line that text is
// JSON-encoded, with newlines as `\n` and quotes as `\"`. In a JSON document
// only the parts of a match inside strings are replaced, so that the
// document stays valid; a match outside strings (a bare number) stays.
// Each pattern is one more pass of package regexp over every line, much
// slower than the built-in formats.
func New(extra []string, opts ...Option) (*Redactor, error) {
	r := &Redactor{rules: defaultRules()}
	for _, o := range opts {
		o(r)
	}
	for _, p := range extra {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("redact pattern %q: %w", p, err)
		}
		r.custom = append(r.custom, custom{re: re, group: re.NumSubexp() > 0})
	}
	return r, nil
}

// maxPasses bounds the re-scans of a redacted text. A second pass almost
// always finds nothing; it is there so that redacting the output again never
// changes it, whatever joins a replacement creates.
const maxPasses = 4

// Bytes appends the redacted form of src to dst and returns the extended
// buffer and the number of secrets replaced. When n is 0 the appended bytes
// are src unchanged, so a caller may keep using src instead. dst and src
// must not overlap.
func (r *Redactor) Bytes(dst, src []byte) (out []byte, n int) {
	return r.appendRedacted(dst, src, nil)
}

// String returns s redacted and the number of secrets replaced; when n is 0
// it returns s itself, without a copy.
func (r *Redactor) String(s string) (string, int) {
	if r == nil || len(s) == 0 {
		return s, 0
	}
	// The scan only reads, so the string's bytes are used in place.
	src := unsafe.Slice(unsafe.StringData(s), len(s))
	spans := r.find(src)
	if len(spans) == 0 {
		return s, 0
	}
	out, n := r.replaceAll(make([]byte, 0, len(s)+32), src, spans, nil)
	return string(out), n
}

// appendRedacted is Bytes; seen, when not nil, is told the text of every
// span it replaces (for the tests).
func (r *Redactor) appendRedacted(dst, src []byte, seen func(k kind, secret []byte)) ([]byte, int) {
	if r == nil {
		return append(dst, src...), 0
	}
	spans := r.find(src)
	if len(spans) == 0 {
		return append(dst, src...), 0
	}
	return r.replaceAll(dst, src, spans, seen)
}

// replaceAll appends src to dst with spans replaced, then rescans the result
// until nothing more is found.
func (r *Redactor) replaceAll(dst, src []byte, spans []span, seen func(kind, []byte)) ([]byte, int) {
	base := len(dst)
	out := replace(dst, src, spans, seen)
	n := len(spans)
	var tmp []byte
	for pass := 1; pass < maxPasses; pass++ {
		cur := out[base:]
		if spans = r.find(cur); len(spans) == 0 {
			break
		}
		tmp = replace(tmp[:0], cur, spans, seen)
		out = append(out[:base], tmp...)
		n += len(spans)
	}
	return out, n
}

func replace(dst, src []byte, spans []span, seen func(kind, []byte)) []byte {
	prev := 0
	for _, s := range spans {
		if seen != nil {
			seen(s.kind, src[s.start:s.end])
		}
		dst = append(dst, src[prev:s.start]...)
		dst = append(dst, markers[s.kind]...)
		prev = s.end
	}
	return append(dst, src[prev:]...)
}

// span is a secret at src[start:end].
type span struct {
	start, end int
	kind       kind
}

// minPropagate is the shortest secret whose other occurrences in the same
// text are replaced too. Shorter ones (a URL's password can be "pass") would
// damage ordinary words.
const minPropagate = 8

// find returns the spans to replace in src, sorted and not overlapping. It
// allocates nothing when there are none, the common case.
func (r *Redactor) find(src []byte) []span {
	sc := scanner{src: src, rs: r.rules}
	sc.scan()
	if len(sc.cands) > 0 {
		sc.runRules()
	}
	for _, c := range r.custom {
		sc.custom(c)
	}
	spans := sc.spans
	if len(spans) == 0 {
		return spans
	}
	spans = propagate(src, spans)
	spans = merge(spans)
	return makeSafe(src, spans)
}

// propagate adds the other occurrences of each secret found, wherever they
// are: a key that was recognised by its context ("aws_secret_access_key =")
// is often printed again elsewhere in the same line without it. Only the
// first maxPropagate different secrets of a text are looked for, which
// keeps a text of thousands of tokens linear.
func propagate(src []byte, spans []span) []span {
	const maxPropagate = 32
	var done [maxPropagate][]byte
	nd := 0
	for i, n := 0, len(spans); i < n && nd < maxPropagate; i++ {
		s := spans[i]
		v := src[s.start:s.end]
		if len(v) < minPropagate || slices.ContainsFunc(done[:nd], func(d []byte) bool { return bytes.Equal(d, v) }) {
			continue
		}
		done[nd] = v
		nd++
		for off := 0; ; {
			j := bytes.Index(src[off:], v)
			if j < 0 {
				break
			}
			if off+j != s.start {
				spans = append(spans, span{off + j, off + j + len(v), s.kind})
			}
			off += j + len(v)
		}
	}
	return spans
}

// merge sorts spans and joins overlapping ones, so that no byte of a secret
// survives because a match of another kind began inside it. A joined span
// keeps the kind of its earliest (then highest-priority) part.
func merge(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return int(a.kind) - int(b.kind)
	})
	out := spans[:0]
	for _, s := range spans {
		if s.end <= s.start {
			continue
		}
		if k := len(out) - 1; k >= 0 && s.start < out[k].end {
			out[k].end = max(out[k].end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// makeSafe adjusts spans so that replacing them keeps a valid JSON text valid:
// a span never ends or starts inside an escape sequence (it grows to cover
// it), and in a JSON document only the parts of a span inside strings are
// replaced. It also drops spans that are an earlier marker, so that
// redacting twice changes nothing.
func makeSafe(src []byte, spans []span) []span {
	for _, s := range spans {
		if !inString(src[s.start:s.end]) {
			if json.Valid(src) {
				spans = clipToStrings(src, spans)
			}
			break
		}
	}
	out := spans[:0]
	for _, s := range spans {
		if st, ok := escapeAround(src, s.start); ok {
			s.start = st
		}
		if st, ok := escapeAround(src, s.end); ok {
			s.end = escapeEnd(src, st)
		}
		if insideMarker(src, s.start, s.end) {
			continue
		}
		out = append(out, s)
	}
	return merge(out)
}

// outside lists the bytes a valid JSON text can have outside its strings.
var outside = set("-" + " \t\r\n{}[],:\"0-9+.eE" + "truefalsn")

// inString reports whether b, taken from a valid JSON text, must lie inside a
// single string: it has no quote, so it does not cross a string's edge, and
// it has a byte that only a string can hold. Built-in matches always pass,
// so the JSON check in makeSafe runs only for unusual user matches.
func inString(b []byte) bool {
	if bytes.IndexByte(b, '"') >= 0 {
		return false
	}
	for _, c := range b {
		if !outside[c] {
			return true
		}
	}
	return false
}

// clipToStrings cuts spans to the parts that lie inside the strings of the
// JSON document src. A match that starts inside a string ends with it: a
// pattern such as `passwd=(\S+)` ran on past the value into the JSON around
// it. A match that starts outside strings spells out JSON itself, such as
// `"password": "[^"]*"`, and keeps every part inside a string, keys too.
func clipToStrings(src []byte, spans []span) []span {
	var out []span
	k := 0
	inStr := false
	start := 0
	for i := 0; i < len(src) && k < len(spans); i++ {
		c := src[i]
		switch {
		case !inStr && c == '"':
			inStr, start = true, i+1
		case inStr && c == '\\':
			i++
		case inStr && c == '"':
			inStr = false
			// The string's content is src[start:i].
			for k < len(spans) && spans[k].end <= start {
				k++
			}
			for j := k; j < len(spans) && spans[j].start < i; j++ {
				s := spans[j]
				if s.start >= start {
					// It starts in this string: this is all of it.
					spans[j].end = s.start
				}
				s.start, s.end = max(s.start, start), min(s.end, i)
				if s.start < s.end {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// escapeAround reports whether position i of src falls strictly inside a JSON
// escape sequence (\n, \", \u00e9 …), and where that sequence starts.
func escapeAround(src []byte, i int) (int, bool) {
	if i <= 0 || i >= len(src) {
		return 0, false
	}
	if src[i-1] == '\\' && oddBackslashes(src, i-1) {
		return i - 1, true
	}
	// Inside the four hex digits of \uXXXX.
	for k := 2; k <= 5 && k <= i; k++ {
		b := i - k
		if src[b] == '\\' && src[b+1] == 'u' && oddBackslashes(src, b) && isHex(src[b+2:i]) {
			return b, true
		}
	}
	return 0, false
}

// escapeEnd returns the end of the escape sequence starting at src[i].
func escapeEnd(src []byte, i int) int {
	if i+1 < len(src) && src[i+1] == 'u' {
		return min(i+6, len(src))
	}
	return min(i+2, len(src))
}

// endsEscape reports whether an escape sequence ends just before src[i], so
// that the letter before i ("\n") is not part of a word.
func endsEscape(src []byte, i int) bool {
	if i >= 2 && src[i-2] == '\\' && src[i-1] != 'u' && oddBackslashes(src, i-2) {
		return true
	}
	return i >= 6 && src[i-6] == '\\' && src[i-5] == 'u' && oddBackslashes(src, i-6) && isHex(src[i-4:i])
}

// oddBackslashes reports whether the backslash at src[i] starts an escape:
// the run of backslashes ending at i has odd length.
func oddBackslashes(src []byte, i int) bool {
	n := 0
	for ; i >= 0 && src[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !hexCh[c] {
			return false
		}
	}
	return true
}

// insideMarker reports whether src[start:end] lies within a marker.
func insideMarker(src []byte, start, end int) bool {
	lo := max(0, start-maxMarker)
	hi := min(start+len(markerPrefix), len(src))
	i := bytes.LastIndex(src[lo:hi], []byte(markerPrefix))
	if i < 0 {
		return false
	}
	i += lo
	j := bytes.IndexByte(src[i:min(len(src), i+maxMarker)], ']')
	if j < 0 || i+j+1 < end {
		return false
	}
	return isMarker[string(src[i:i+j+1])]
}

var maxMarker = func() (n int) {
	for _, m := range markers {
		n = max(n, len(m))
	}
	return n
}()

func (sc *scanner) custom(c custom) {
	for _, m := range c.re.FindAllSubmatchIndex(sc.src, -1) {
		s, e := m[0], m[1]
		if c.group {
			for g := 2; g < len(m); g += 2 {
				if m[g] >= 0 {
					s, e = m[g], m[g+1]
					break
				}
			}
		}
		if s < e {
			sc.spans = append(sc.spans, span{s, e, kCustom})
		}
	}
}

// scanner finds the built-in formats in src.
type scanner struct {
	src   []byte
	spans []span
	rs    *ruleSet
	// cands are the places where keywords send rules to be tried; known
	// is what the built-in formats found, for the rules.
	cands     []cand
	known     []span
	allowSeen map[allowKey]bool
	// runs remembers, per byte class, the last run found: a run from any
	// byte inside it ends at the same place, so text built to make the
	// checks rescan a long run over and over stays linear.
	runs [numClasses]struct{ start, end int }
	// atFrom and atStop do the same for the authority before an '@': with
	// no stop byte between two '@', the second's scan back ends where the
	// first's did. slashFrom and slashStop do it for the token before an
	// '@' (slashedPassword), and slashToken, slashSeen and slashScheme
	// remember how far that token was searched for "://" and where it is.
	atFrom, atStop                     int
	slashFrom, slashStop               int
	slashToken, slashSeen, slashScheme int
}

func (sc *scanner) add(k kind, start, end int) {
	sc.spans = append(sc.spans, span{start, end, k})
}

// run returns the end of the run of class c bytes from src[i].
func (sc *scanner) run(i int, c class) int {
	m := &sc.runs[c]
	if m.start <= i && i < m.end {
		return m.end
	}
	t := &classes[c]
	e := i
	for e < len(sc.src) && t[sc.src[e]] {
		e++
	}
	if e > i {
		m.start, m.end = i, e
	}
	return e
}

// scan looks for a few anchor bytes and checks by hand the formats that
// can hold the anchor at a fixed place around each hit. Every format has
// one: "sk-", "xoxb-", "glpat-" and "-----BEGIN" a '-'; "ghp_",
// "github_pat_", "sk_live_", "npm_", "hf_" and "aws_secret_access_key" a
// '_'; "AKIA" and "AIza" an 'I'; "eyJ" a 'J'; "SecretAccessKey" a 'K';
// "Bearer", "Basic" and Slack's webhook path a 'B' or 'b'; a URL's password
// an '@'.
//
// One table-driven pass looks at eight bytes a step, which costs the same
// for any number of anchors. (A bytes.IndexByte pass per anchor was slower:
// on text, anchors are a few bytes apart, and each call has a set-up cost.)
// The table is indexed by pairs of bytes, an anchor and the byte before or
// after it, so that only anchors whose neighbour fits some format stop the
// pass: the '-' of a UUID, the '_' of "tool_use_id" and the letters of
// base64 image data, where 'I', 'J', 'K', 'B' and 'b' are one byte in 13,
// go by at full speed.
//
// The same pass finds the rules' keywords (rules.go): the table also flags
// the two pairs of each keyword's trigram, and the trigrams are checked
// eight at a time with a few shifts and ands on the pairs' flags, so that
// only where one is does the scan stop to look the trigram up.
func (sc *scanner) scan() {
	src := sc.src
	pair := &sc.rs.pair
	sc.atFrom, sc.slashFrom, sc.slashToken = -1, -1, -2
	next := 0 // where the search resumes after a match
	i := 0
	var prev uint64 // the byte before src[i]
	// Sixteen bytes a step, in two blocks of eight. Pair j of a block
	// starts at its byte j-1: its nine pairs cover each of its bytes with
	// the byte before and the byte after it. The pairs' flags are put side
	// by side, one byte each (pair 8 apart): a keyword trigram starting at
	// byte j-1 has its first pair flagged in lane j and its second in lane
	// j+1, in the same bucket, so that the eight are checked at once.
	for ; i+17 <= len(src); i += 16 {
		x := binary.LittleEndian.Uint64(src[i:])
		y := binary.LittleEndian.Uint64(src[i+8:])
		after := uint64(src[i+16])
		a0, a1, a2 := uint64(pair[uint16(prev|x<<8)]), uint64(pair[uint16(x)]), uint64(pair[uint16(x>>8)])
		a3, a4, a5 := uint64(pair[uint16(x>>16)]), uint64(pair[uint16(x>>24)]), uint64(pair[uint16(x>>32)])
		a6, a7, a8 := uint64(pair[uint16(x>>40)]), uint64(pair[uint16(x>>48)]), uint64(pair[uint16(x>>56|y<<8)])
		b1, b2, b3 := uint64(pair[uint16(y)]), uint64(pair[uint16(y>>8)]), uint64(pair[uint16(y>>16)])
		b4, b5, b6 := uint64(pair[uint16(y>>24)]), uint64(pair[uint16(y>>32)]), uint64(pair[uint16(y>>40)])
		b7, b8 := uint64(pair[uint16(y>>48)]), uint64(pair[uint16(y>>56|after<<8)])
		prev = y >> 56
		lo := a0 | a1<<8 | a2<<16 | a3<<24 | a4<<32 | a5<<40 | a6<<48 | a7<<56
		hi := a8 | b1<<8 | b2<<16 | b3<<24 | b4<<32 | b5<<40 | b6<<48 | b7<<56
		triLo := lo / pairFirst & ((lo>>8 | a8<<56) / pairSecond) & (eachLane * bucketBits)
		triHi := hi / pairFirst & ((hi>>8 | b8<<56) / pairSecond) & (eachLane * bucketBits)
		if triLo|(lo|a8)&(eachLane*(pairAnchor|pairShort)) != 0 {
			next = sc.block(i, lo, a8, triLo, next)
		}
		if triHi|(hi|b8)&(eachLane*(pairAnchor|pairShort)) != 0 {
			next = sc.block(i+8, hi, b8, triHi, next)
		}
	}
	for ; i+9 <= len(src); i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		after := uint64(src[i+8])
		p0, p1, p2 := uint64(pair[uint16(prev|x<<8)]), uint64(pair[uint16(x)]), uint64(pair[uint16(x>>8)])
		p3, p4, p5 := uint64(pair[uint16(x>>16)]), uint64(pair[uint16(x>>24)]), uint64(pair[uint16(x>>32)])
		p6, p7, p8 := uint64(pair[uint16(x>>40)]), uint64(pair[uint16(x>>48)]), uint64(pair[uint16(x>>56|after<<8)])
		prev = x >> 56
		lanes := p0 | p1<<8 | p2<<16 | p3<<24 | p4<<32 | p5<<40 | p6<<48 | p7<<56
		tri := lanes / pairFirst & ((lanes>>8 | p8<<56) / pairSecond) & (eachLane * bucketBits)
		next = sc.block(i, lanes, p8, tri, next)
	}
	for ; i < len(src); i++ {
		if a := anchor[src[i]]; a != 0 {
			next = sc.hit(i, a, next)
		}
		// A trigram that starts in the last block's last byte, then
		// those here.
		sc.trigram(i - 1)
		if i+1 < len(src) && pair[uint16(src[i])|uint16(src[i+1])<<8]&pairShort != 0 {
			sc.short(i)
		}
	}
}

// block checks the block of eight bytes at src[i] whose pairs 0-7 have
// the flags in lanes and pair 8 those in p8; tri has the keyword trigrams.
// It returns the new next.
func (sc *scanner) block(i int, lanes, p8, tri uint64, next int) int {
	src := sc.src
	all := lanes | p8
	if all&(eachLane*pairAnchor) != 0 {
		for k := range 8 {
			if a := anchor[src[i+k]]; a != 0 {
				next = sc.hit(i+k, a, next)
			}
		}
	}
	for tri != 0 {
		j := bits.TrailingZeros64(tri) / 8
		sc.trigram(i + j - 1)
		tri &^= 0xff << (8 * j)
	}
	if all&(eachLane*pairShort) != 0 {
		// Pair k+1 starts at byte k.
		for k := range 8 {
			v := lanes >> (8 * (k + 1))
			if k == 7 {
				v = p8
			}
			if v&pairShort != 0 {
				sc.short(i + k)
			}
		}
	}
	return next
}

// pair flags the pairs of bytes (first | second<<8) where one is an anchor
// and the other a neighbour that fits it, as near says. A rule set's copy
// also holds the flags of its keywords' trigrams, above pairAnchor.
var pair = func() (t [1 << 16]uint8) {
	for first := range 256 {
		for second := range 256 {
			if a := anchor[second]; a != 0 && near[a][first]&nearBefore != 0 {
				t[first|second<<8] = pairAnchor
			}
			if a := anchor[first]; a != 0 && near[a][second]&nearAfter != 0 {
				t[first|second<<8] = pairAnchor
			}
		}
	}
	return t
}()

const pairAnchor = 1

// eachLane has a one in each byte.
const eachLane = 0x0101010101010101

// hit checks the anchor at src[i], numbered a, unless a match reaching
// next covered it, and returns the new next.
func (sc *scanner) hit(i int, a uint8, next int) int {
	src := sc.src
	var before, after byte
	if i > 0 {
		before = src[i-1]
	}
	if i+1 < len(src) {
		after = src[i+1]
	}
	if near[a][before]&nearBefore|near[a][after]&nearAfter == 0 || i < next {
		return next
	}
	return max(next, sc.check(i))
}

// anchors are the anchor bytes; anchor maps each to its number, from 1.
const anchors = "-_IJKBb@"

var anchor = func() (t [256]uint8) {
	for i, c := range []byte(anchors) {
		t[c] = uint8(i + 1)
	}
	return t
}()

// near says, for each anchor, which bytes may stand just before it or just
// after it in some format: 'k' before the '-' of "sk-", '-' after the
// first '-' of "-----BEGIN", 'e' after the 'K' of "Key".
var near = func() (t [len(anchors) + 1][256]uint8) {
	set := func(anchor byte, bit uint8, bytes string) {
		a := strings.IndexByte(anchors, anchor) + 1
		for _, c := range []byte(bytes) {
			t[a][c] |= bit
		}
	}
	set('-', nearBefore, "k"+"abposre"+"p"+"t") // sk-, xox?-, xapp-, glpat-
	set('-', nearAfter, "-")                    // -----BEGIN
	set('_', nearBefore, "pousr"+"b"+"k"+"c"+"m"+"f")
	set('_', nearAfter, "kK") // aws_secret_access_key
	set('I', nearBefore, "KSBA")
	set('J', nearBefore, "y")
	set('K', nearAfter, "e")
	set('B', nearBefore, "/")
	set('B', nearAfter, "eEaA")
	set('b', nearAfter, "ea")
	for c := range 256 {
		t[len(anchors)][c] = nearBefore // '@': the check looks further
	}
	return t
}()

const (
	nearBefore = 1 << iota
	nearAfter
)

// check looks at the anchor src[i] and returns where its match ended, or 0.
func (sc *scanner) check(i int) int {
	switch sc.src[i] {
	case '-':
		return sc.dash(i)
	case '_':
		return sc.underscore(i)
	case 'I':
		return sc.capI(i)
	case 'J':
		return sc.capJ(i)
	case 'K':
		return sc.capK(i)
	case 'B':
		return sc.capB(i)
	case 'b':
		return sc.lowB(i)
	case '@':
		return sc.at(i)
	}
	return 0
}

// Bounds on what a format may span. Real tokens are at most a few hundred
// bytes and key blocks a few kilobytes; a longer run is data, not a key.
const (
	maxToken     = 4096
	maxKeyBlock  = 64 << 10
	maxAuthority = 512
)

func (sc *scanner) dash(i int) int {
	src := sc.src
	switch {
	case i >= 2 && src[i-1] == 'k' && src[i-2] == 's':
		if hasPrefix(src[i+1:], "ant-") {
			// sk-ant-api03-…, sk-ant-admin01-…, sk-ant-oat01-…: the
			// prefix alone is distinctive; 32 bytes keep placeholders
			// such as "sk-ant-api03-..." readable.
			return sc.token(kAnthropic, i-2, i+5, cToken, 32, maxToken, nil)
		}
		return sc.openAI(i - 2)
	case i >= 4 && src[i-4] == 'x' && src[i-3] == 'o' && src[i-2] == 'x' && slackType[src[i-1]],
		i >= 4 && string(src[i-4:i]) == "xapp":
		return sc.slackToken(i-4, i+1)
	case i >= 5 && string(src[i-5:i]) == "glpat":
		return sc.token(kGitLab, i-5, i+1, cToken, 20, maxToken, nil)
	case hasPrefix(src[i:], "-----BEGIN "):
		return sc.privateKey(i)
	}
	return 0
}

func (sc *scanner) underscore(i int) int {
	src := sc.src
	switch {
	case i >= 3 && src[i-3] == 'g' && src[i-2] == 'h' && githubType[src[i-1]]:
		// ghp_, gho_, ghu_, ghs_, ghr_: 36 base62 bytes today, longer
		// announced.
		return sc.token(kGitHub, i-3, i+1, cAlnum, 36, 255, nil)
	case i >= 6 && string(src[i-6:i]) == "github" && hasPrefix(src[i:], "_pat_"):
		return sc.token(kGitHub, i-6, i+5, cWord, 40, 255, nil)
	case i >= 2 && src[i-1] == 'k' && (src[i-2] == 's' || src[i-2] == 'r') &&
		(hasPrefix(src[i:], "_live_") || hasPrefix(src[i:], "_test_")):
		// Secret and restricted keys; publishable keys (pk_) are public.
		return sc.token(kStripe, i-2, i+6, cAlnum, 16, maxToken, nil)
	case i >= 5 && string(src[i-5:i]) == "whsec":
		return sc.token(kStripe, i-5, i+1, cAlnum, 24, maxToken, nil)
	case i >= 3 && string(src[i-3:i]) == "npm":
		return sc.token(kNPM, i-3, i+1, cAlnum, 36, 36, nil)
	case i >= 2 && src[i-2] == 'h' && src[i-1] == 'f':
		return sc.token(kHuggingFace, i-2, i+1, cLetters, 34, 34, &alnum)
	case i+4 <= len(src) && lower(src[i+1]) == 'k' && lower(src[i+2]) == 'e' && lower(src[i+3]) == 'y':
		// aws_secret_access_key, AWS_SECRET_ACCESS_KEY, secret_key.
		return sc.awsSecret(i + 1)
	}
	return 0
}

func (sc *scanner) capI(i int) int {
	src := sc.src
	switch {
	case i >= 2 && src[i-2] == 'A' && i+1 < len(src) && src[i+1] == 'A' &&
		(src[i-1] == 'K' || src[i-1] == 'S' || src[i-1] == 'B'):
		// Access key ids: AKIA long-term, ASIA temporary, ABIA STS bearer.
		return sc.token(kAWS, i-2, i+2, cUpperNum, 16, 16, &alnum)
	case i >= 1 && src[i-1] == 'A' && hasPrefix(src[i+1:], "za"):
		return sc.token(kGoogle, i-1, i+3, cToken, 35, 35, nil)
	}
	return 0
}

func (sc *scanner) capJ(i int) int {
	if i >= 2 && sc.src[i-2] == 'e' && sc.src[i-1] == 'y' {
		return sc.jwt(i - 2)
	}
	return 0
}

func (sc *scanner) capK(i int) int {
	src := sc.src
	// SecretAccessKey, secretAccessKey (AWS CLI and SDK JSON); the
	// snake_case forms are found from their '_'.
	if i > 0 && src[i-1] != '_' && hasPrefix(src[i+1:], "ey") {
		return sc.awsSecret(i)
	}
	return 0
}

func (sc *scanner) capB(i int) int {
	src := sc.src
	switch {
	case hasPrefix(src[i:], "Bearer"), hasPrefix(src[i:], "BEARER"):
		return sc.bearer(i)
	case hasPrefix(src[i:], "Basic"), hasPrefix(src[i:], "BASIC"):
		return sc.basic(i)
	case i > 0 && src[i-1] == '/':
		return sc.slackWebhook(i)
	}
	return 0
}

func (sc *scanner) lowB(i int) int {
	src := sc.src
	switch {
	case hasPrefix(src[i:], "bearer"):
		return sc.bearer(i)
	case hasPrefix(src[i:], "basic"):
		return sc.basic(i)
	}
	return 0
}

// token records src[start:end] where end ends the run of class c bytes
// from body, when start begins a word, the run is lo to hi bytes long and,
// with rb, the byte after it is not in rb.
func (sc *scanner) token(k kind, start, body int, c class, lo, hi int, rb *[256]bool) int {
	src := sc.src
	if !leftOK(src, start) {
		return 0
	}
	e := sc.run(body, c)
	if n := e - body; n < lo || n > hi {
		return 0
	}
	if rb != nil && e < len(src) && rb[src[e]] {
		return 0
	}
	sc.add(k, start, e)
	return e
}

// openAI takes "sk-" keys: legacy sk-<48 base62>, sk-proj-…, sk-svcacct-…,
// sk-admin-…. "sk-" is common in words ("task-list", "sk-SK"), so the body
// must be long and mix digits, capitals and small letters, as random keys
// do and kebab-case names do not.
func (sc *scanner) openAI(start int) int {
	src := sc.src
	if !leftOK(src, start) {
		return 0
	}
	e := sc.run(start+3, cToken)
	body := src[start+3 : e]
	if len(body) < 32 || len(body) > maxToken || !mixed(body, true) {
		return 0
	}
	sc.add(kOpenAI, start, e)
	return e
}

// slackToken takes xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxo-, xoxe- and
// xapp- tokens: numeric workspace and user ids and a random part, joined
// by '-'.
func (sc *scanner) slackToken(start, body int) int {
	src := sc.src
	if !leftOK(src, start) {
		return 0
	}
	e := sc.run(body, cSlack)
	if n := e - body; n < 20 || n > maxToken || !hasDigit(src[body:e]) {
		return 0
	}
	sc.add(kSlack, start, e)
	return e
}

// slackWebhook takes the secret last part of
// https://hooks.slack.com/services/T…/B…/<secret>, from the 'B'.
func (sc *scanner) slackWebhook(i int) int {
	src := sc.src
	const host = "hooks.slack.com/services/"
	t := i - 2
	for t >= 0 && i-t < 64 && classes[cUpperNum][src[t]] {
		t--
	}
	// src[t] is the '/' before "T…".
	if t < 0 || src[t] != '/' || src[t+1] != 'T' || t+2 >= i-1 ||
		!bytes.HasSuffix(src[:t+1], []byte(host)) {
		return 0
	}
	e := sc.run(i+1, cUpperNum)
	if e >= len(src) || src[e] != '/' {
		return 0
	}
	s := e + 1
	e = sc.run(s, cAlnum)
	if e-s < 16 || e-s > maxToken {
		return 0
	}
	sc.add(kSlack, s, e)
	return e
}

// jwt takes header.payload.signature tokens whose header is base64url JSON
// ("eyJ" is `{"`), and five-part encrypted tokens. The two dots keep plain
// base64 (image data, signatures) out.
func (sc *scanner) jwt(start int) int {
	src := sc.src
	if !leftOK(src, start) {
		return 0
	}
	e := sc.run(start+3, cToken)
	if e-start < 12 || e >= len(src) || src[e] != '.' {
		return 0
	}
	p := e + 1
	e = sc.run(p, cToken)
	if e-p < 8 || e >= len(src) || src[e] != '.' {
		return 0
	}
	// The signature may be empty: an unsecured token ends with the dot.
	e = sc.run(e+1, cToken)
	for parts := 3; parts < 5 && e+1 < len(src) && src[e] == '.' && classes[cToken][src[e+1]]; parts++ {
		e = sc.run(e+1, cToken)
	}
	if e-start > 4*maxToken {
		return 0
	}
	sc.add(kJWT, start, e)
	return e
}

// privateKey takes a PEM or OpenSSH private key block, from "-----BEGIN"
// to the end of its "-----END … PRIVATE KEY-----" line. In a JSON line
// the block's newlines are the two bytes `\n`, which the body's alphabet
// allows. A block cut short (output truncated) is taken up to the end of
// its base64. Public keys and certificates are not secret and stay.
func (sc *scanner) privateKey(start int) int {
	src := sc.src
	l := start + len("-----BEGIN ")
	e := sc.run(l, cLabel)
	if e-l > 64 || !hasPrefix(src[e:], "-----") || !bytes.Contains(src[l:e], []byte("PRIVATE KEY")) {
		return 0
	}
	body := e + 5
	limit := min(len(src), body+maxKeyBlock)
	n64 := 0
	for p := body; p < limit; p++ {
		c := src[p]
		if c == '-' && hasPrefix(src[p:], "-----") {
			// The footer, or another block's header: the end either way,
			// so that a text of many headers is read once.
			if !hasPrefix(src[p:], "-----END ") {
				break
			}
			q := sc.run(p+9, cLabel)
			if hasPrefix(src[q:], "-----") && n64 >= 32 {
				sc.add(kPrivateKey, start, q+5)
				return q + 5
			}
			break
		}
		if !keyBody[c] {
			break
		}
		if classes[cB64][c] {
			n64++
		}
	}
	e = min(sc.run(body, cKeyTrunc), body+maxKeyBlock)
	// A trailing backslash would be half of an escape such as \".
	if e > body && src[e-1] == '\\' && oddBackslashes(src, e-1) {
		e--
	}
	n64 = 0
	for _, c := range src[body:e] {
		if classes[cB64][c] {
			n64++
		}
	}
	if n64 < 32 {
		return 0
	}
	sc.add(kPrivateKey, start, e)
	return e
}

// awsSecret takes the 40-byte secret access key assigned to a name ending
// in "secret_access_key" or "secret_key" (any case, any of _ - .
// between words), whose "key" starts at src[k]: env files, shell, INI, YAML,
// JSON (quotes escaped or not). A secret key has no prefix of its own, so
// the name is what makes it one.
func (sc *scanner) awsSecret(k int) int {
	src := sc.src
	e := k + 3
	if e > len(src) || (e < len(src) && alnum[src[e]]) {
		return 0
	}
	// Terraform's AWS provider and S3 clients name it secret_key.
	if !identEndsWith(src, e, "secretaccesskey") && !identEndsWith(src, e, "secretkey") {
		return 0
	}
	p := skip(src, e, &gapCh, 8)
	if p >= len(src) || (src[p] != '=' && src[p] != ':') {
		return 0
	}
	p++
	if p < len(src) && (src[p] == '=' || src[p] == '>') {
		p++ // := and =>
	}
	p = skip(src, p, &gapCh, 8)
	v := sc.run(p, cB64)
	if v-p != 40 || (v < len(src) && src[v] == '=') {
		return 0
	}
	sc.add(kAWS, p, v)
	return v
}

// bearer takes the token of "Bearer <token>" (RFC 6750: base64 and
// -._~+/). The token must look random: 16 bytes or more with a digit, or
// with capitals and small letters, so prose ("Bearer authentication") and
// placeholders ("Bearer YOUR_TOKEN") stay.
func (sc *scanner) bearer(i int) int {
	src := sc.src
	if !leftOK(src, i) {
		return 0
	}
	p := i + len("Bearer")
	t := skip(src, p, &blank, 4)
	if t == p {
		return 0
	}
	e := sc.run(t, cBearer)
	for e > t && src[e-1] == '.' {
		e-- // a sentence's full stop
	}
	tok := src[t:e]
	for e < len(src) && src[e] == '=' {
		e++
	}
	if len(tok) < 16 || len(tok) > maxToken || !mixed(tok, false) {
		return 0
	}
	sc.add(kBearer, t, e)
	return e
}

// basic takes the credentials of an "Authorization: Basic <base64>" header;
// the header name is required, as "Basic" is an ordinary word.
func (sc *scanner) basic(i int) int {
	src := sc.src
	j := i
	for j > 0 && i-j < 8 && authGap[src[j-1]] {
		j--
	}
	const name = "authorization"
	if j == i || j < len(name) || !bytes.EqualFold(src[j-len(name):j], []byte(name)) {
		return 0
	}
	p := i + len("Basic")
	t := skip(src, p, &blank, 4)
	if t == p {
		return 0
	}
	e := sc.run(t, cB64)
	n := e - t
	for e < len(src) && src[e] == '=' {
		e++
	}
	if n < 8 || n > maxToken {
		return 0
	}
	sc.add(kBasic, t, e)
	return e
}

// at takes the password of scheme://user:password@host from the '@'.
// The user info ends at the authority's last '@', as URL parsers have it.
// It also takes passwords holding '/', '#' or '?', which URL parsers do
// not allow but people write, and the password of a Go MySQL DSN,
// user:password@tcp(host:port)/db.
func (sc *scanner) at(a int) int {
	src := sc.src
	j := a - 1
	for j >= 0 && !authStop[src[j]] {
		if j == sc.atFrom {
			j = sc.atStop
			break
		}
		j--
	}
	sc.atFrom, sc.atStop = a, j
	if a-j > maxAuthority {
		return 0
	}
	if j >= 2 && src[j] == '/' && src[j-1] == '/' && src[j-2] == ':' {
		if !isScheme(src, j-2) {
			return 0
		}
		last := lastAt(src, a)
		if c := bytes.IndexByte(src[j+1:last], ':'); c >= 0 {
			sc.password(j+1+c+1, last)
		}
		return last
	}
	if dsnProtocol(src[a+1:]) {
		return sc.dsnPassword(a)
	}
	if j >= 0 && (src[j] == '/' || src[j] == '?' || src[j] == '#') {
		return sc.slashedPassword(a)
	}
	return 0
}

// password records src[s:e] as a URL's password unless it is empty,
// masked ("****") or a template's variable ("$DB_PASSWORD", "%s").
func (sc *scanner) password(s, e int) {
	pw := sc.src[s:e]
	if len(pw) == 0 || pw[0] == '$' || (pw[0] == '%' && len(pw) > 1 && letters[pw[1]]) ||
		len(bytes.Trim(pw, "*")) == 0 {
		return
	}
	sc.add(kURLPassword, s, e)
}

// isScheme reports whether a URL scheme ends just before src[k] (the ':'
// of "://").
func isScheme(src []byte, k int) bool {
	s := k - 1
	for s >= 0 && k-s < 64 && schemeCh[src[s]] {
		s--
	}
	return s < k-1 && letters[src[s+1]]
}

// lastAt returns the authority's last '@' from the one at src[a].
func lastAt(src []byte, a int) int {
	last := a
	for e := a + 1; e < len(src) && e-a < maxAuthority && !authStop[src[e]]; e++ {
		if src[e] == '@' {
			last = e
		}
	}
	return last
}

// slashedPassword takes the password of scheme://user:pass/word@host from
// the '@', when the scan back from it stopped at a '/', '#' or '?'. The
// user name may hold none of them, and a password that starts with a
// port ("host:8080/@name", a path with '@' in it) is not one.
func (sc *scanner) slashedPassword(a int) int {
	src := sc.src
	t := a - 1
	for t >= 0 && a-t <= maxAuthority && !tokenStop[src[t]] {
		if t == sc.slashFrom {
			t = sc.slashStop
			break
		}
		t--
	}
	sc.slashFrom, sc.slashStop = a, t
	if t >= 0 && !tokenStop[src[t]] {
		return 0 // longer than an authority
	}
	// The leftmost "://" of the token, looked for once per token: an '@'
	// further on in the same token starts from where the last one ended.
	if sc.slashToken != t {
		sc.slashToken, sc.slashSeen, sc.slashScheme = t, t+1, -1
	}
	if sc.slashScheme < 0 {
		from := max(t+1, sc.slashSeen-2)
		if k := bytes.Index(src[from:a], []byte("://")); k >= 0 {
			sc.slashScheme = from + k
		}
		sc.slashSeen = a
	}
	k := sc.slashScheme
	if k < 0 || k >= a || !isScheme(src, k) {
		return 0
	}
	user := k + 3
	c := bytes.IndexByte(src[user:a], ':')
	if c < 0 || bytes.ContainsAny(src[user:user+c], "/?#@") {
		return 0
	}
	s, last := user+c+1, lastAt(src, a)
	p := s
	for p < last && '0' <= src[p] && src[p] <= '9' {
		p++
	}
	if p == last || src[p] == '/' || src[p] == '?' || src[p] == '#' {
		return 0 // a port, then a path
	}
	sc.password(s, last)
	return last
}

// dsnProtocol reports whether b starts with the protocol of a Go MySQL
// DSN's address, "tcp(" or "unix(".
func dsnProtocol(b []byte) bool {
	return hasPrefix(b, "tcp(") || hasPrefix(b, "tcp4(") || hasPrefix(b, "tcp6(") || hasPrefix(b, "unix(")
}

// dsnPassword takes the password of user:password@tcp(…) from the '@':
// the token before it, from its first ':' on.
func (sc *scanner) dsnPassword(a int) int {
	src := sc.src
	t := a - 1
	for t >= 0 && a-t <= maxAuthority && !tokenStop[src[t]] {
		t--
	}
	if a-t > maxAuthority {
		return 0
	}
	tok := src[t+1 : a]
	c := bytes.IndexByte(tok, ':')
	if c < 0 || bytes.Contains(tok, []byte("://")) {
		return 0
	}
	sc.password(t+1+c+1, a)
	return a
}

// leftOK reports whether a token may start at src[i]: at a word's start, or
// just after an escape sequence such as the \n before it in a JSON string.
func leftOK(src []byte, i int) bool {
	return i == 0 || !alnum[src[i-1]] || endsEscape(src, i)
}

// skip returns the end of the run of t bytes from src[i], at most limit
// bytes on.
func skip(src []byte, i int, t *[256]bool, limit int) int {
	end := min(len(src), i+limit)
	for i < end && t[src[i]] {
		i++
	}
	return i
}

// identEndsWith reports whether the name ending at src[end] (letters,
// digits, _ - .) ends with want, ignoring case and separators.
func identEndsWith(src []byte, end int, want string) bool {
	w := len(want)
	for i := end - 1; i >= 0 && end-i <= 64; i-- {
		c := src[i]
		if c == '_' || c == '-' || c == '.' {
			continue
		}
		if !alnum[c] || lower(c) != want[w-1] {
			return false
		}
		if w--; w == 0 {
			return true
		}
	}
	return false
}

// mixed reports whether b looks random: with all, it has digits, capitals
// and small letters; without, a digit or both kinds of letter.
func mixed(b []byte, all bool) bool {
	var d, u, l bool
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			d = true
		case 'A' <= c && c <= 'Z':
			u = true
		case 'a' <= c && c <= 'z':
			l = true
		}
	}
	if all {
		return d && u && l
	}
	return d || (u && l)
}

func hasDigit(b []byte) bool {
	for _, c := range b {
		if '0' <= c && c <= '9' {
			return true
		}
	}
	return false
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// stops returns a set of the control bytes, space and extra.
func stops(extra string) (t [256]bool) {
	for c := 0; c <= ' '; c++ {
		t[c] = true
	}
	t[0x7f] = true
	for _, c := range []byte(extra) {
		t[c] = true
	}
	return t
}

// set returns a byte set; "a-z" is a range, and a '-' meant as itself
// comes first.
func set(spec string) (t [256]bool) {
	for i := 0; i < len(spec); i++ {
		if i+2 < len(spec) && spec[i+1] == '-' {
			for c := int(spec[i]); c <= int(spec[i+2]); c++ {
				t[c] = true
			}
			i += 2
			continue
		}
		t[spec[i]] = true
	}
	return t
}

// class names a byte set whose runs the scanner remembers.
type class uint8

const (
	cAlnum class = iota
	cLetters
	cUpperNum
	cWord
	cToken
	cSlack
	cB64
	cBearer
	cLabel
	cKeyTrunc
	numClasses
)

var classes = [numClasses][256]bool{
	cAlnum:    set("A-Za-z0-9"),
	cLetters:  set("A-Za-z"),
	cUpperNum: set("A-Z0-9"),
	cWord:     set("A-Za-z0-9_"),
	cToken:    set("-A-Za-z0-9_"), // base64url
	cSlack:    set("-A-Za-z0-9"),
	cB64:      set("A-Za-z0-9+/"),
	cBearer:   set("-A-Za-z0-9._~+/"),
	cLabel:    set("A-Z0-9 "),
	// A block cut short is taken while it looks like base64 lines.
	cKeyTrunc: set("A-Za-z0-9+/=\r\n\\"),
}

var (
	alnum      = classes[cAlnum]
	letters    = classes[cLetters]
	hexCh      = set("0-9a-fA-F")
	schemeCh   = set("-A-Za-z0-9+.")
	blank      = set(" \t")
	gapCh      = set(" \t\"'\\")
	authGap    = set(" \t:\"'\\=")
	githubType = set("pousr")
	slackType  = set("abposre")
	// keyBody is what a key block holds between its lines: base64, PEM
	// headers ("Proc-Type: 4,ENCRYPTED"), line ends raw or escaped.
	keyBody = set("-A-Za-z0-9+/= \t\r\n\\:,")
	// authStop ends a URL's authority; tokenStop ends the token a URL
	// or a DSN is written in.
	authStop  = stops("/?#\"'<>\\`()[]{}|")
	tokenStop = stops("\"'<>\\`()[]{}|")
)
