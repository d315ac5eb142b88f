// Command gen writes deterministic, realistic workloads for testing and
// benchmarking convlog: Claude Code stream-json output of a requested size,
// the same for Gemini CLI, Codex, Cursor and opencode,
// folders of Claude Code session transcripts, and a paced line source plus a
// latency meter for comparing convlog's pass-through with a plain tee.
//
//	gen stream -size 1GB -seed 1 > f.jsonl
//	gen agent -agent codex -size 200MB -seed 1 > f.jsonl
//	gen transcripts -size 500MB -files 300 -seed 1 -out DIR
//	gen latency -lines 10000 -interval 1ms -line-size 200 | convlog tee | gen measure
//
// The same seed and flags always give the same bytes, so a benchmark can be
// rerun on identical input and a failing test case can be regenerated.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const usage = `usage: gen <command> [flags]

commands:
  stream       Claude Code "--output-format stream-json --verbose" lines on stdout
               -size 10MB -seed 1 [-line-size N] [-big-line N]
  agent        another agent's stream: gemini, codex, cursor or opencode
               -agent gemini -size 10MB -seed 1
  transcripts  a ~/.claude/projects tree of session transcripts
               -size 50MB -files 30 -seed 1 -out DIR
  latency      N small stream-json lines, one per interval, each with its send time
               -lines 1000 -interval 1ms -line-size 200
  measure      reads lines from stdin, prints p50/p99/max latency in µs as JSON
  longest      prints the length in bytes of the longest line of a file
               FILE
  peak         runs a command and writes the peak RSS of its process tree in KiB
               -o FILE CMD [ARGS...]
  usage        compares tokens by model of ccusage daily --json and convlog stats
               --json on the same transcripts; fails if any model's differ
               CCUSAGE.json CONVLOG.json

Sizes are bytes, or take a suffix: KB, MB, GB (powers of 1000) or KiB, MiB,
GiB (powers of 1024).
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "stream":
		err = runStream(args, os.Stdout)
	case "agent":
		err = runAgent(args, os.Stdout)
	case "transcripts":
		err = runTranscripts(args)
	case "latency":
		err = runLatency(args, os.Stdout)
	case "measure":
		err = runMeasure(args, os.Stdin, os.Stdout)
	case "longest":
		err = runLongest(args, os.Stdout)
	case "usage":
		err = runUsage(args, os.Stdout)
	case "peak":
		var code int
		code, err = runPeak(args)
		if err == nil {
			os.Exit(code)
		}
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gen:", err)
		}
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------
// Commands

func runStream(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("stream", flag.ContinueOnError)
	size := fs.String("size", "10MB", "approximate output size")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same bytes")
	lineSize := fs.String("line-size", "0", "make every tool_result content about this size (0: realistic mix)")
	bigLine := fs.String("big-line", "0", "add, on top of -size, one tool_result line of exactly this many bytes (without its newline) in the middle")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := parseSize(*size)
	if err != nil {
		return err
	}
	ls, err := parseSize(*lineSize)
	if err != nil {
		return err
	}
	big, err := parseSize(*bigLine)
	if err != nil {
		return err
	}
	r := &rng{s: *seed}
	p := newPools(r.fork(), modeStream, poolSizeFor(target))
	// A large buffer keeps the number of write syscalls low: at 1 GB the
	// generator is bound by copying, not by the kernel.
	w := bufio.NewWriterSize(out, 4<<20)
	// The big line comes on top of the requested size, so the rest of the
	// stream keeps its realistic mix.
	g := newGen(modeStream, r, p, w, target+big)
	g.lineSize = int(ls)
	g.streamSession(big)
	if g.err != nil {
		return g.err
	}
	return w.Flush()
}

func runTranscripts(args []string) error {
	fs := flag.NewFlagSet("transcripts", flag.ContinueOnError)
	size := fs.String("size", "50MB", "approximate total size of all files")
	files := fs.Int("files", 30, "number of session files")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same bytes")
	out := fs.String("out", "", "directory to write <project>/<session>.jsonl into (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("transcripts: -out DIR is required")
	}
	if *files < 1 {
		return errors.New("transcripts: -files must be at least 1")
	}
	total, err := parseSize(*size)
	if err != nil {
		return err
	}
	return writeTranscripts(*out, total, *files, *seed)
}

// runLongest prints the length in bytes, without its newline, of the
// longest line of a file. awk took six minutes for a stream with one line
// of 200 MB (mawk grows its record buffer step by step); this reads the
// file once.
func runLongest(args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("longest: give one file")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := longestLine(f)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, n)
	return err
}

// longestLine is the length of the longest line of r, without its newline.
func longestLine(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var longest, cur int64
	for {
		n, err := r.Read(buf)
		for b := buf[:n]; len(b) > 0; {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				cur += int64(len(b))
				break
			}
			longest = max(longest, cur+int64(i))
			cur = 0
			b = b[i+1:]
		}
		if err == io.EOF {
			return max(longest, cur), nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// ---------------------------------------------------------------------------
// Sizes

func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	u := strings.ToUpper(t)
	mult := int64(1)
	for _, m := range []struct {
		suffix string
		mult   int64
	}{
		{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
		{"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1},
	} {
		if strings.HasSuffix(u, m.suffix) {
			mult = m.mult
			t = strings.TrimSpace(t[:len(t)-len(m.suffix)])
			break
		}
	}
	if t == "" {
		return 0, fmt.Errorf("bad size %q", s)
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil && n >= 0 {
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * float64(mult)), nil
}

// poolSizeFor scales the filler pools with the output: small outputs (tests)
// start fast, large ones repeat less.
func poolSizeFor(target int64) int {
	const lo, hi = 256 << 10, 4 << 20
	n := target / 8
	if n < lo {
		return lo
	}
	if n > hi {
		return hi
	}
	return int(n)
}

// ---------------------------------------------------------------------------
// Random numbers

// rng is splitmix64. The generator carries its own PRNG rather than
// math/rand so that a seed gives the same bytes with every Go release, and it
// uses integers only so the output does not depend on floating point details.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fork returns an independent generator, so that one part of the output
// (the filler pools, one transcript file) can change without shifting the
// random sequence of another.
func (r *rng) fork() *rng { return &rng{s: r.next()} }

func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance is true perMille times in a thousand.
func (r *rng) chance(perMille int) bool { return r.intn(1000) < perMille }

// spread returns a size in [lo, hi) that is roughly log-uniform: it first
// picks a power-of-two band, so small sizes are about as frequent as large
// ones, the way tool output sizes are.
func (r *rng) spread(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	bands := bits.Len(uint(hi / lo))
	a := lo << r.intn(bands)
	z := a * 2
	if z > hi {
		z = hi
	}
	if a >= z {
		return z - 1
	}
	return a + r.intn(z-a)
}

func pick(r *rng, xs []string) string { return xs[r.intn(len(xs))] }

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// id makes ids shaped like Anthropic's: msg_01…, toolu_01…, req_011C….
func (r *rng) id(prefix string, n int) string {
	b := make([]byte, len(prefix), len(prefix)+n)
	copy(b, prefix)
	for range n {
		b = append(b, base58[r.intn(len(base58))])
	}
	return string(b)
}

func (r *rng) uuid() string {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], r.next())
	binary.LittleEndian.PutUint64(u[8:], r.next())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hx = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hx[c>>4], hx[c&15])
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// JSON text

const hexDigits = "0123456789abcdef"

// appendEscByte appends one byte of a JSON string body. Bytes of multi-byte
// UTF-8 sequences pass through unescaped, as Claude Code writes them.
func appendEscByte(dst []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(dst, '\\', c)
	case c >= 0x20:
		return append(dst, c)
	case c == '\n':
		return append(dst, '\\', 'n')
	case c == '\t':
		return append(dst, '\\', 't')
	case c == '\r':
		return append(dst, '\\', 'r')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
}

func appendEsc(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = appendEscByte(dst, s[i])
	}
	return dst
}

func appendStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEsc(dst, s)
	return append(dst, '"')
}

func appendInt(dst []byte, v int) []byte { return strconv.AppendInt(dst, int64(v), 10) }

// ---------------------------------------------------------------------------
// Filler pools

// pool is pre-built, already JSON-escaped text that generated content is cut
// from. Escaping once up front lets the hot loop copy megabytes per line with
// no per-byte work; cut marks where a slice may end without splitting an
// escape sequence or a UTF-8 character.
type pool struct {
	b     []byte
	cut   []bool  // cut[i]: a cut before b[i] is safe; len(cut) == len(b)+1
	lines []int32 // offsets where a source line starts: where slices begin
}

func newPool(raw string) *pool {
	p := &pool{
		b:   make([]byte, 0, len(raw)+len(raw)/10),
		cut: make([]bool, 0, len(raw)+len(raw)/10+1),
	}
	lineStart := true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		start := c < 0x80 || c >= 0xC0 // not a UTF-8 continuation byte
		if start && lineStart {
			p.lines = append(p.lines, int32(len(p.b)))
			lineStart = false
		}
		n0 := len(p.b)
		p.b = appendEscByte(p.b, c)
		p.cut = append(p.cut, start)
		for j := n0 + 1; j < len(p.b); j++ {
			p.cut = append(p.cut, false)
		}
		if c == '\n' {
			lineStart = true
		}
	}
	p.cut = append(p.cut, true)
	if len(p.lines) == 0 {
		p.lines = []int32{0}
	}
	return p
}

// fill appends exactly n bytes of escaped text, starting at a random line and
// wrapping around the pool when needed. The last few bytes are spaces when the
// next character would not fit whole.
func (p *pool) fill(dst []byte, n int, r *rng) []byte {
	if n <= 0 {
		return dst
	}
	pos := int(p.lines[r.intn(len(p.lines))])
	for n > 0 {
		end := pos + n
		if end > len(p.b) {
			end = len(p.b)
		}
		for !p.cut[end] {
			end--
		}
		if end <= pos {
			for ; n > 0; n-- {
				dst = append(dst, ' ')
			}
			break
		}
		dst = append(dst, p.b[pos:end]...)
		n -= end - pos
		pos = end
		if pos == len(p.b) {
			pos = 0
		}
	}
	return dst
}

type pools struct {
	prose   *pool // markdown prose with code, CJK and emoji: text, thinking, sub-agent reports
	code    *pool // source files as written by Write/Edit and in tool_use_result
	codeNum *pool // the same files with line numbers, as the Read tool returns them
	shell   *pool // command output: ls, test runs, git, npm with ANSI colours, tracebacks
	sig     []byte
}

const (
	modeStream = iota
	modeTranscript
)

func newPools(r *rng, mode, size int) *pools {
	p := &pools{}
	var sb strings.Builder
	for sb.Len() < size {
		writeProse(r, &sb)
	}
	p.prose = newPool(sb.String())

	// Source files are generated once and laid out twice, raw and numbered,
	// so Read results and Write contents show the same code.
	var raw, num strings.Builder
	for raw.Len() < size {
		var f strings.Builder
		expand(r, pick(r, codeTemplates), &f)
		text := f.String()
		raw.WriteString(text)
		for i, line := range strings.SplitAfter(strings.TrimSuffix(text, "\n"), "\n") {
			if mode == modeTranscript {
				// Claude Code 1.x: cat -n style with an arrow.
				fmt.Fprintf(&num, "%6d→%s", i+1, line)
			} else {
				// Claude Code 2.x: number, tab, line.
				fmt.Fprintf(&num, "%d\t%s", i+1, line)
			}
		}
		num.WriteByte('\n')
	}
	p.code = newPool(raw.String())
	p.codeNum = newPool(num.String())

	sb.Reset()
	for sb.Len() < size {
		writeShell(r, &sb)
	}
	p.shell = newPool(sb.String())

	rnd := make([]byte, 48<<10)
	for i := 0; i+8 <= len(rnd); i += 8 {
		binary.LittleEndian.PutUint64(rnd[i:], r.next())
	}
	p.sig = []byte(base64.StdEncoding.EncodeToString(rnd))
	return p
}

// signature appends a base64 blob like the signature of a thinking block.
func (p *pools) signature(dst []byte, r *rng) []byte {
	n := r.between(100, 350) * 4
	start := r.intn((len(p.sig)-n)/4) * 4
	return append(dst, p.sig[start:start+n]...)
}

// ---------------------------------------------------------------------------
// Generator core, shared by stream and transcript output

type usageT struct{ in, cacheCreate, cacheRead, out int }

type modelUse struct {
	model string
	u     usageT
	cost  float64
}

// agent is one conversation thread: the main agent or a sub-agent started by
// a Task tool_use.
type agent struct {
	sub        bool
	parentTool string // stream: the Task tool_use id that started a sub-agent
	last       string // transcript: uuid of the previous line on this chain
	model      string
	ctx        int // tokens in the context window
	pending    int // tokens added since the last API call
	turns      int
	tools      int
	tokens     int
}

type toolUse struct {
	name, id string
	path     string
	url      string
	input    []byte // escaped payload that the result repeats (Write content, Edit old string, Task prompt, todos)
	input2   []byte
	sub      *agent
}

type gen struct {
	mode     int
	r        *rng
	p        *pools
	w        *bufio.Writer
	err      error
	n        int64 // bytes written
	target   int64
	reserve  int64 // bytes kept back for the closing lines
	lineSize int

	line, msg, content, tur []byte
	blk                     [][]byte

	clock, start time.Time
	session      string
	cwd          string
	model        string
	version      string
	branch       string
	lastTodos    []byte

	byModel   []modelUse
	cost      float64
	thinking  int
	mainTurns int
	apiMs     int
}

func newGen(mode int, r *rng, p *pools, w *bufio.Writer, target int64) *gen {
	return &gen{mode: mode, r: r, p: p, w: w, target: target}
}

// avail is what the generator may still spend before it has to close.
func (g *gen) avail() int {
	if g.err != nil {
		return 0
	}
	v := g.target - g.reserve - g.n
	if v < 0 {
		return 0
	}
	return int(v)
}

func (g *gen) writeLine(b []byte) {
	b = append(b, '\n')
	if g.err == nil {
		if _, err := g.w.Write(b); err != nil {
			g.err = err
		}
	}
	g.n += int64(len(b))
}

func (g *gen) tick(minMs, maxMs int) {
	g.clock = g.clock.Add(time.Duration(g.r.between(minMs, maxMs)) * time.Millisecond)
}

func (g *gen) appendTS(b []byte) []byte {
	return g.clock.AppendFormat(b, "2006-01-02T15:04:05.000Z")
}

func capSize(n, limit, floor int) int {
	if n > limit {
		n = limit
	}
	if n < floor {
		n = floor
	}
	return n
}

// price in USD per million tokens: input, output, cache write, cache read.
type price struct{ in, out, write, read float64 }

func (g *gen) priceOf(model string) price {
	var p price
	switch {
	case strings.Contains(model, "opus"):
		p = price{15, 75, 18.75, 1.5}
	case strings.Contains(model, "haiku-4"):
		p = price{1, 5, 1.25, 0.1}
	case strings.Contains(model, "haiku"):
		p = price{0.8, 4, 1, 0.08}
	default:
		p = price{3, 15, 3.75, 0.3}
	}
	if g.mode == modeStream {
		// Claude Code 2.x writes the cache with a one-hour TTL (see the
		// ephemeral_1h_input_tokens in usage), which costs twice the input.
		p.write = p.in * 2
	}
	return p
}

// account adds one API message to the totals that the result line reports,
// so that summing usage once per message.id reproduces them exactly.
func (g *gen) account(a *agent, u usageT, thinking int) {
	p := g.priceOf(a.model)
	cost := (float64(u.in)*p.in + float64(u.out)*p.out + float64(u.cacheCreate)*p.write + float64(u.cacheRead)*p.read) / 1e6
	g.cost += cost
	g.thinking += thinking
	i := 0
	for i < len(g.byModel) && g.byModel[i].model != a.model {
		i++
	}
	if i == len(g.byModel) {
		g.byModel = append(g.byModel, modelUse{model: a.model})
	}
	m := &g.byModel[i]
	m.u.in += u.in
	m.u.out += u.out
	m.u.cacheCreate += u.cacheCreate
	m.u.cacheRead += u.cacheRead
	m.cost += cost
	a.turns++
	a.tokens += u.in + u.out + u.cacheCreate + u.cacheRead
	if !a.sub {
		g.mainTurns++
	}
}

func (g *gen) totals() usageT {
	var t usageT
	for _, m := range g.byModel {
		t.in += m.u.in
		t.out += m.u.out
		t.cacheCreate += m.u.cacheCreate
		t.cacheRead += m.u.cacheRead
	}
	return t
}

// block returns the i-th reusable block buffer, emptied.
func (g *gen) block(i int) []byte {
	for len(g.blk) <= i {
		g.blk = append(g.blk, nil)
	}
	return g.blk[i][:0]
}

// turn is one API call: an assistant response split over one line per
// content block (sharing message.id and usage, as Claude Code prints them),
// then one user line per tool_result, with any sub-agent run in between.
func (g *gen) turn(a *agent, tools bool) {
	r := g.r
	share := g.avail() / 8
	msgID := r.id("msg_01", 22)
	reqID := r.id("req_011C", 20)
	nb := 0
	out := 0
	thinking := 0

	if r.chance(550) {
		b := g.block(nb)
		b = append(b, `{"type":"thinking","thinking":"`...)
		// Claude Code 2.x often prints thinking as "" with only the
		// signature.
		if g.mode != modeStream || !r.chance(400) {
			n := capSize(r.spread(150, 3000), share, 20)
			b = g.p.prose.fill(b, n, r)
			thinking = n / 4
		}
		b = append(b, `","signature":"`...)
		b = g.p.signature(b, r)
		b = append(b, `"}`...)
		g.blk[nb] = b
		nb++
	}
	if !tools || r.chance(650) {
		b := g.block(nb)
		b = append(b, `{"type":"text","text":"`...)
		b = g.p.prose.fill(b, capSize(r.spread(40, 1500), share, 10), r)
		b = append(b, `"}`...)
		g.blk[nb] = b
		nb++
	}
	var uses []*toolUse
	if tools {
		k := 1
		switch x := r.intn(100); {
		case x >= 85:
			k = r.between(4, 6)
		case x >= 55:
			k = r.between(2, 3)
		}
		for range k {
			t := &toolUse{name: g.pickTool(a), id: r.id("toolu_01", 22)}
			b := g.block(nb)
			b = append(b, `{"type":"tool_use","id":"`...)
			b = append(b, t.id...)
			b = append(b, `","name":"`...)
			b = append(b, t.name...)
			b = append(b, `","input":`...)
			b = g.toolInput(b, t, capSize(share/k, 1<<30, 200))
			if g.mode == modeStream {
				b = append(b, `,"caller":{"type":"direct"}`...)
			}
			b = append(b, '}')
			g.blk[nb] = b
			nb++
			uses = append(uses, t)
		}
	}
	for i := range nb {
		out += len(g.blk[i])
	}
	u := usageT{
		in:          r.between(1, 9),
		cacheRead:   a.ctx,
		cacheCreate: a.pending + r.between(20, 600),
		out:         out/4 + r.between(1, 30),
	}
	a.ctx += u.cacheCreate + u.out
	a.pending = 0
	g.account(a, u, thinking)
	ms := r.between(700, 6000) + out/20
	g.apiMs += ms
	g.clock = g.clock.Add(time.Duration(ms) * time.Millisecond)

	for i := range nb {
		if i > 0 {
			g.tick(15, 900)
		}
		if g.mode == modeStream && i == 0 && thinking > 0 && r.chance(300) {
			g.systemThinkingTokens(thinking)
		}
		g.emitAssistant(a, msgID, reqID, g.blk[i], u, "")
	}
	for i, t := range uses {
		if t.name == "Task" {
			g.subAgent(a, t)
		}
		g.toolResult(a, t, len(uses)-i)
	}
}

var toolTable = []struct {
	name   string
	weight int
	filler bool // result content is cut to size (used with -line-size)
}{
	{"Read", 26, true},
	{"Bash", 24, true},
	{"Edit", 12, false},
	{"Grep", 9, true},
	{"Glob", 5, false},
	{"Write", 5, false},
	{"TodoWrite", 5, false},
	{"Task", 4, true},
	{"WebFetch", 3, true},
	{"mcp__context7__get-library-docs", 3, true},
}

func (g *gen) pickTool(a *agent) string {
	total := 0
	for _, t := range toolTable {
		total += t.weight
	}
	for {
		x := g.r.intn(total)
		for _, t := range toolTable {
			if x < t.weight {
				// Sub-agents cannot start sub-agents; uniform-line runs
				// only use tools whose output can be cut to size.
				if (t.name == "Task" && a.sub) || (g.lineSize > 0 && !t.filler) {
					break
				}
				return t.name
			}
			x -= t.weight
		}
	}
}

var (
	dirs      = []string{"src", "internal/store", "internal/api", "pkg/util", "cmd/server", "app", "src/components", "src/hooks", "lib", "tests", "scripts", "docs", "migrations"}
	nouns     = []string{"user", "order", "invoice", "session", "cart", "payment", "token", "report", "widget", "ledger", "metric", "tenant", "job", "queue", "cache", "event", "asset", "profile", "account", "shipment", "coupon", "review", "message", "channel", "webhook", "schedule", "backup", "template", "document", "project"}
	verbs     = []string{"fetch", "create", "update", "delete", "list", "sync", "validate", "render", "parse", "load", "save", "resolve", "refresh", "export", "import", "archive"}
	fields    = []string{"amount", "count", "retries", "priority", "version", "size", "weight", "score", "quota", "balance"}
	pkgs      = []string{"api", "store", "billing", "auth", "worker", "server", "db", "queue", "util", "report"}
	exts      = []string{".go", ".go", ".ts", ".tsx", ".py", ".sql", ".md", ".json", ".yaml"}
	suffixes  = []string{"", "_handler", "_store", "_test", "_service", "s", "_util", "Controller", "List", "_migration"}
	oddNames  = []string{"docs/設計メモ.md", "docs/README.zh-CN.md", "notes/TODO 🚧.md", "src/i18n/ja.json", "assets/logo (1).svg", "data/café-menu.csv"}
	projNames = []string{"webshop", "api-gateway", "ml-pipeline", "dotfiles", "billing-service", "infra-terraform", "mobile-app", "docs-site", "data-etl", "game-engine", "blog", "cli-tools"}
)

func (g *gen) path() string {
	r := g.r
	if r.chance(40) {
		return g.cwd + "/" + pick(r, oddNames)
	}
	return g.cwd + "/" + pick(r, dirs) + "/" + pick(r, nouns) + pick(r, suffixes) + pick(r, exts)
}

var bashCmds = [][2]string{
	{"go test ./... 2>&1 | tail -40", "Run the test suite"},
	{"go build ./... && go vet ./...", "Build and vet all packages"},
	{"git status --short && git diff --stat", "Show working tree status"},
	{"git log --oneline -20", "Show recent commits"},
	{"ls -la ‹dir›", "List files in directory"},
	{"npm run build", "Build the project"},
	{"npm test -- --run", "Run unit tests"},
	{"pnpm install", "Install dependencies"},
	{"python3 -m pytest -x -q tests/", "Run Python tests"},
	{"rg -n \"‹noun›\" --type go | head -50", "Search for ‹noun› references"},
	{"docker compose up -d db && sleep 2 && docker compose ps", "Start the database container"},
	{"make lint", "Run linters"},
	{"cat ‹dir›/config.yaml", "Show the config file"},
	{"find . -name '*.go' -newer go.mod | xargs wc -l | sort -n | tail", "Find recently changed Go files"},
	{"curl -s -o /dev/null -w '%{http_code}\\n' http://localhost:3001/api/health", "Check the health endpoint"},
	{"sqlite3 data/app.db '.schema ‹noun›s'", "Show table schema"},
}

var greps = []string{"func .*‹Noun›", "TODO|FIXME", "‹noun›_id", "context\\.WithTimeout", "useState<", "import .* from \"react\"", "def test_", "ErrNotFound", "\"‹field›\""}
var globs = []string{"**/*.go", "**/*.tsx", "src/**/*.ts", "**/*_test.go", "migrations/*.sql", "**/*.md", "**/package.json"}
var urls = []string{"https://go.dev/doc/effective_go", "https://nextjs.org/docs/app/building-your-application/routing", "https://docs.python.org/3/library/asyncio-task.html", "https://www.sqlite.org/lang_upsert.html", "https://react.dev/reference/react/useEffect", "https://pkg.go.dev/net/http"}
var libs = []string{"/vercel/next.js", "/facebook/react", "/golang/go", "/tailwindlabs/tailwindcss", "/pydantic/pydantic", "/prisma/prisma"}
var todoItems = []string{"Reproduce the failing ‹noun› test", "Read the ‹noun› store implementation", "Fix the race in ‹verb›‹Noun›", "Add regression test for empty input", "Update the migration for ‹field›", "Run the full test suite", "Update documentation", "Clean up debug logging", "ユニットテストを追加する", "修复并发写入问题"}
var taskDescs = []string{"Explore ‹noun› storage", "Review ‹pkg› package", "Find ‹noun› call sites", "Write ‹noun› tests", "Investigate flaky test", "Audit error handling"}

// expandLine expands ‹key› markers in a short template.
func (g *gen) expandLine(tpl string) string {
	var sb strings.Builder
	expand(g.r, tpl, &sb)
	return strings.TrimSuffix(sb.String(), "\n")
}

// toolInput appends the input object of a tool_use, sized to stay within
// share bytes where the tool takes free text.
func (g *gen) toolInput(b []byte, t *toolUse, share int) []byte {
	r := g.r
	switch t.name {
	case "Read":
		t.path = g.path()
		b = append(b, `{"file_path":`...)
		b = appendStr(b, t.path)
		if r.chance(250) {
			b = append(b, `,"offset":`...)
			b = appendInt(b, r.between(1, 900))
			b = append(b, `,"limit":`...)
			b = appendInt(b, 100*r.between(1, 20))
		}
		return append(b, '}')
	case "Bash":
		c := bashCmds[r.intn(len(bashCmds))]
		b = append(b, `{"command":`...)
		b = appendStr(b, g.expandLine(c[0]))
		b = append(b, `,"description":`...)
		b = appendStr(b, g.expandLine(c[1]))
		if r.chance(100) {
			b = append(b, `,"timeout":120000`...)
		}
		return append(b, '}')
	case "Edit":
		t.path = g.path()
		b = append(b, `{"file_path":`...)
		b = appendStr(b, t.path)
		b = append(b, `,"old_string":"`...)
		i := len(b)
		b = g.p.code.fill(b, capSize(r.spread(40, 1200), share/2, 10), r)
		t.input = append([]byte(nil), b[i:]...)
		b = append(b, `","new_string":"`...)
		i = len(b)
		b = g.p.code.fill(b, capSize(r.spread(40, 1500), share/2, 10), r)
		t.input2 = append([]byte(nil), b[i:]...)
		return append(b, `"}`...)
	case "Grep":
		b = append(b, `{"pattern":`...)
		b = appendStr(b, g.expandLine(pick(r, greps)))
		if r.chance(500) {
			b = append(b, `,"path":`...)
			b = appendStr(b, g.cwd+"/"+pick(r, dirs))
			b = append(b, `,"output_mode":"content","-n":true}`...)
		} else {
			b = append(b, `,"glob":`...)
			b = appendStr(b, pick(r, globs))
			b = append(b, `,"output_mode":"files_with_matches"}`...)
		}
		return b
	case "Glob":
		b = append(b, `{"pattern":`...)
		b = appendStr(b, pick(r, globs))
		return append(b, '}')
	case "Write":
		t.path = g.path()
		b = append(b, `{"file_path":`...)
		b = appendStr(b, t.path)
		b = append(b, `,"content":"`...)
		i := len(b)
		b = g.p.code.fill(b, capSize(r.spread(300, 6000), share, 20), r)
		t.input = append([]byte(nil), b[i:]...)
		return append(b, `"}`...)
	case "TodoWrite":
		b = append(b, `{"todos":`...)
		j := len(b)
		b = append(b, '[')
		n := r.between(3, 6)
		done := r.intn(n)
		for k := range n {
			if k > 0 {
				b = append(b, ',')
			}
			item := g.expandLine(pick(r, todoItems))
			status := "pending"
			if k < done {
				status = "completed"
			} else if k == done {
				status = "in_progress"
			}
			b = append(b, `{"content":`...)
			b = appendStr(b, item)
			b = append(b, `,"status":"`...)
			b = append(b, status...)
			b = append(b, `","activeForm":`...)
			b = appendStr(b, "Working on: "+item)
			b = append(b, '}')
		}
		b = append(b, ']')
		t.input = append([]byte(nil), b[j:]...)
		return append(b, '}')
	case "Task":
		b = append(b, `{"description":`...)
		b = appendStr(b, g.expandLine(pick(r, taskDescs)))
		b = append(b, `,"prompt":"`...)
		i := len(b)
		b = g.p.prose.fill(b, capSize(r.spread(200, 1600), share, 40), r)
		t.input = append([]byte(nil), b[i:]...)
		b = append(b, `","subagent_type":`...)
		b = appendStr(b, pick(r, []string{"general-purpose", "general-purpose", "Explore", "Plan"}))
		return append(b, '}')
	case "WebFetch":
		t.url = pick(r, urls)
		b = append(b, `{"url":`...)
		b = appendStr(b, t.url)
		b = append(b, `,"prompt":`...)
		b = appendStr(b, g.expandLine("Summarize what this page says about ‹noun› handling and list any caveats."))
		return append(b, '}')
	default: // mcp__context7__get-library-docs
		b = append(b, `{"context7CompatibleLibraryID":`...)
		b = appendStr(b, pick(r, libs))
		b = append(b, `,"topic":`...)
		b = appendStr(b, g.expandLine("‹noun› ‹verb›"))
		return append(b, `,"tokens":5000}`...)
	}
}

// resultSize picks a tool_result size: mostly 200 B to 5 KB, 2% of 100 KB to
// 2 MB, shrunk near the end of the budget so the total stays on target.
func (g *gen) resultSize(kLeft int) int {
	if g.lineSize > 0 {
		return g.lineSize
	}
	r := g.r
	s := r.spread(200, 5000)
	if r.chance(20) {
		s = r.spread(100_000, 2_000_000)
	}
	// The result usually appears twice on its line (content and
	// tool_use_result), hence the factor 2.
	return capSize(s, g.avail()/(2*kLeft)-600, 40)
}

var errorTexts = map[string][]string{
	"Read":     {"File does not exist.", "File content (312.4KB) exceeds maximum allowed size (256KB). Please use offset and limit parameters to read specific portions of the file, or use the GrepTool to search for specific content.", "EISDIR: illegal operation on a directory, read"},
	"Edit":     {"File has not been read yet. Read it first before writing to it.", "String to replace not found in file.\nString:   if err != nil {\n\t\treturn nil, err\n\t}", "Found 3 matches of the string to replace, but replace_all is false. To replace all occurrences, set replace_all to true. To replace only one occurrence, please provide more context to uniquely identify the instance."},
	"Write":    {"File has not been read yet. Read it first before writing to it."},
	"Grep":     {"Path does not exist: ‹dir›"},
	"Glob":     {"Path does not exist: ‹dir›"},
	"WebFetch": {"Request failed with status code 404", "Request failed with status code 503", "timeout of 60000ms exceeded"},
	"other":    {"The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.", "InputValidationError: The required parameter `pattern` is missing"},
}

// toolResult writes the user line answering tool_use t.
func (g *gen) toolResult(a *agent, t *toolUse, kLeft int) {
	r := g.r
	size := g.resultSize(kLeft)
	// tool_use_result repeats the content, as Claude Code does, except with
	// -line-size where lines must stay uniform.
	dup := g.lineSize == 0
	isErr := t.name != "Task" && r.chance(50) && (g.lineSize == 0 || t.name == "Bash")
	list := false
	c := g.content[:0]
	tur := g.tur[:0]

	// Formatter hooks run after file edits and report around the result.
	hookID := ""
	if g.mode == modeStream && (t.name == "Edit" || t.name == "Write") && r.chance(250) {
		hookID = r.uuid()
		g.hook(hookID, "PostToolUse:"+t.name, false)
	}

	switch {
	case isErr && t.name == "Bash":
		c = append(c, `Exit code 1\n`...)
		c = g.p.shell.fill(c, size, r)
		tur = append(tur, `"Error: `...)
		if dup {
			tur = append(tur, c...)
		} else {
			tur = append(tur, `Exit code 1`...)
		}
		tur = append(tur, '"')
	case isErr:
		texts, ok := errorTexts[t.name]
		if !ok {
			texts = errorTexts["other"]
		}
		msg := g.expandLine(pick(r, texts))
		c = append(c, `<tool_use_error>`...)
		c = appendEsc(c, msg)
		c = append(c, `</tool_use_error>`...)
		tur = appendStr(tur, "Error: "+msg)
	case t.name == "Read":
		c = g.p.codeNum.fill(c, size, r)
		lines := size/38 + 1
		tur = append(tur, `{"type":"text","file":{"filePath":`...)
		tur = appendStr(tur, t.path)
		if dup {
			tur = append(tur, `,"content":"`...)
			tur = g.p.code.fill(tur, size*7/8, r)
			tur = append(tur, '"')
		}
		tur = append(tur, `,"numLines":`...)
		tur = appendInt(tur, lines)
		tur = append(tur, `,"startLine":1,"totalLines":`...)
		tur = appendInt(tur, lines+r.intn(400))
		tur = append(tur, `}}`...)
	case t.name == "Bash" || t.name == "Grep":
		c = g.p.shell.fill(c, size, r)
		if t.name == "Bash" {
			tur = append(tur, `{"stdout":"`...)
			if dup {
				tur = append(tur, c...)
			}
			tur = append(tur, `","stderr":"","interrupted":false,"isImage":false}`...)
		} else {
			tur = append(tur, `{"mode":"content","numFiles":`...)
			tur = appendInt(tur, r.between(1, 30))
			tur = append(tur, `,"filenames":[],"content":"`...)
			if dup {
				tur = append(tur, c...)
			}
			tur = append(tur, `","numLines":`...)
			tur = appendInt(tur, size/60+1)
			tur = append(tur, '}')
		}
	case t.name == "Glob":
		n := capSize(size/48, 200, 1)
		tur = append(tur, `{"filenames":[`...)
		for i := range n {
			p := g.path()
			if i > 0 {
				c = append(c, `\n`...)
				tur = append(tur, ',')
			}
			c = appendEsc(c, p)
			tur = appendStr(tur, p)
		}
		tur = append(tur, `],"durationMs":`...)
		tur = appendInt(tur, r.between(2, 900))
		tur = append(tur, `,"numFiles":`...)
		tur = appendInt(tur, n)
		tur = append(tur, `,"truncated":false}`...)
	case t.name == "Edit":
		c = appendEsc(c, "The file "+t.path+" has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n")
		c = g.p.codeNum.fill(c, capSize(size-200, size, 40), r)
		tur = append(tur, `{"filePath":`...)
		tur = appendStr(tur, t.path)
		tur = append(tur, `,"oldString":"`...)
		tur = append(tur, t.input...)
		tur = append(tur, `","newString":"`...)
		tur = append(tur, t.input2...)
		tur = append(tur, `","originalFile":"`...)
		tur = g.p.code.fill(tur, size, r)
		start := r.between(1, 400)
		tur = append(tur, `","structuredPatch":[{"oldStart":`...)
		tur = appendInt(tur, start)
		tur = append(tur, `,"oldLines":`...)
		tur = appendInt(tur, 7)
		tur = append(tur, `,"newStart":`...)
		tur = appendInt(tur, start)
		tur = append(tur, `,"newLines":`...)
		tur = appendInt(tur, 8)
		tur = append(tur, `,"lines":[`...)
		for i, sign := range []string{" ", " ", " ", "-", "+", "+", " ", " ", " "} {
			if i > 0 {
				tur = append(tur, ',')
			}
			tur = append(tur, '"')
			tur = append(tur, sign...)
			tur = appendEsc(tur, g.expandLine(pick(r, patchLines)))
			tur = append(tur, '"')
		}
		tur = append(tur, `]}],"userModified":false,"replaceAll":false}`...)
	case t.name == "Write":
		c = appendEsc(c, "File created successfully at: "+t.path)
		tur = append(tur, `{"type":"create","filePath":`...)
		tur = appendStr(tur, t.path)
		tur = append(tur, `,"content":"`...)
		tur = append(tur, t.input...)
		tur = append(tur, `","structuredPatch":[]}`...)
	case t.name == "TodoWrite":
		c = append(c, "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable"...)
		tur = append(tur, `{"oldTodos":`...)
		if g.lastTodos == nil {
			tur = append(tur, `[]`...)
		} else {
			tur = append(tur, g.lastTodos...)
		}
		tur = append(tur, `,"newTodos":`...)
		tur = append(tur, t.input...)
		tur = append(tur, '}')
		g.lastTodos = t.input
	case t.name == "Task":
		list = true
		c = g.p.prose.fill(c, size, r)
		sa := t.sub
		tur = append(tur, '{')
		if g.mode == modeStream && dup {
			tur = append(tur, `"status":"completed","prompt":"`...)
			tur = append(tur, t.input...)
			tur = append(tur, `",`...)
		}
		tur = append(tur, `"content":[{"type":"text","text":"`...)
		if dup {
			tur = append(tur, c...)
		}
		tur = append(tur, `"}],"totalDurationMs":`...)
		tur = appendInt(tur, sa.turns*r.between(2000, 9000))
		tur = append(tur, `,"totalTokens":`...)
		tur = appendInt(tur, sa.tokens)
		tur = append(tur, `,"totalToolUseCount":`...)
		tur = appendInt(tur, sa.tools)
		tur = append(tur, `,"usage":{"input_tokens":`...)
		tur = appendInt(tur, r.between(1, 9))
		tur = append(tur, `,"cache_creation_input_tokens":`...)
		tur = appendInt(tur, r.between(100, 3000))
		tur = append(tur, `,"cache_read_input_tokens":`...)
		tur = appendInt(tur, sa.ctx)
		tur = append(tur, `,"output_tokens":`...)
		tur = appendInt(tur, size/4)
		tur = append(tur, `,"service_tier":"standard"}}`...)
	case t.name == "WebFetch":
		c = g.p.prose.fill(c, size, r)
		tur = append(tur, `{"bytes":`...)
		tur = appendInt(tur, size*r.between(3, 12))
		tur = append(tur, `,"code":200,"codeText":"OK","result":"`...)
		if dup {
			tur = append(tur, c...)
		}
		tur = append(tur, `","durationMs":`...)
		tur = appendInt(tur, r.between(300, 9000))
		tur = append(tur, `,"url":`...)
		tur = appendStr(tur, t.url)
		tur = append(tur, '}')
	default: // MCP tools answer with a list of text blocks
		list = true
		c = g.p.prose.fill(c, size, r)
		tur = append(tur, `[{"type":"text","text":"`...)
		if dup {
			tur = append(tur, c...)
		}
		tur = append(tur, `"}]`...)
	}
	if !isErr && !list && r.chance(80) {
		list = true
	}
	g.content, g.tur = c, tur

	m := g.msg[:0]
	switch {
	case isErr:
		m = append(m, `[{"type":"tool_result","content":"`...)
		m = append(m, c...)
		m = append(m, `","is_error":true,"tool_use_id":"`...)
		m = append(m, t.id...)
		m = append(m, `"}]`...)
	case list:
		m = append(m, `[{"tool_use_id":"`...)
		m = append(m, t.id...)
		m = append(m, `","type":"tool_result","content":[{"type":"text","text":"`...)
		m = append(m, c...)
		m = append(m, `"}]}]`...)
	default:
		m = append(m, `[{"tool_use_id":"`...)
		m = append(m, t.id...)
		m = append(m, `","type":"tool_result","content":"`...)
		m = append(m, c...)
		m = append(m, '"')
		if t.name == "Bash" && g.mode == modeTranscript {
			m = append(m, `,"is_error":false`...)
		}
		m = append(m, `}]`...)
	}
	g.msg = m
	if t.name == "Bash" {
		g.tick(50, 20000)
	} else {
		g.tick(5, 400)
	}
	g.emitUser(a, m, tur)
	a.pending += len(c)/4 + 10
	a.tools++

	if hookID != "" {
		g.hook(hookID, "PostToolUse:"+t.name, true)
	}
}

var patchLines = []string{"func (s *‹Noun›Store) ‹Verb›(ctx context.Context) error {", "\tif err != nil {", "\t\treturn fmt.Errorf(\"‹verb› ‹noun›: %w\", err)", "\t}", "const [‹noun›, set‹Noun›] = useState(null);", "    return ‹noun›s", "}", "\tdefer rows.Close()"}

// subAgent runs a Task: a prompt line, a few turns with tools, and a final
// text turn, all tagged as belonging to tool_use t.
func (g *gen) subAgent(parent *agent, t *toolUse) {
	r := g.r
	sa := &agent{
		sub:        true,
		parentTool: t.id,
		model:      parent.model,
		ctx:        r.between(8000, 14000),
		pending:    len(t.input) / 4,
	}
	if r.chance(350) {
		sa.model = g.subModel()
	}
	g.tick(50, 600)
	m := g.msg[:0]
	if g.mode == modeStream {
		m = append(m, `[{"type":"text","text":"`...)
		m = append(m, t.input...)
		m = append(m, `"}]`...)
	} else {
		m = append(m, '"')
		m = append(m, t.input...)
		m = append(m, '"')
	}
	g.msg = m
	g.emitUser(sa, m, nil)
	n := r.between(1, 7)
	for i := 0; i < n && g.avail() > 4000; i++ {
		g.turn(sa, true)
	}
	g.turn(sa, false)
	t.sub = sa
}

func (g *gen) subModel() string {
	if g.mode == modeStream {
		return "claude-haiku-4-5-20251001"
	}
	return "claude-3-5-haiku-20241022"
}

// ---------------------------------------------------------------------------
// Line envelopes

// envHead appends the fields every transcript line starts with.
func (g *gen) envHead(b []byte, a *agent) []byte {
	b = append(b, `{"parentUuid":`...)
	if a.last == "" {
		b = append(b, `null`...)
	} else {
		b = append(b, '"')
		b = append(b, a.last...)
		b = append(b, '"')
	}
	if a.sub {
		b = append(b, `,"isSidechain":true`...)
	} else {
		b = append(b, `,"isSidechain":false`...)
	}
	b = append(b, `,"userType":"external","cwd":`...)
	b = appendStr(b, g.cwd)
	b = append(b, `,"sessionId":"`...)
	b = append(b, g.session...)
	b = append(b, `","version":"`...)
	b = append(b, g.version...)
	b = append(b, `","gitBranch":`...)
	b = appendStr(b, g.branch)
	return append(b, ',')
}

func appendParentTool(b []byte, a *agent) []byte {
	if a.parentTool == "" {
		return append(b, `null`...)
	}
	b = append(b, '"')
	b = append(b, a.parentTool...)
	return append(b, '"')
}

func appendUsage(b []byte, mode int, u usageT) []byte {
	b = append(b, `{"input_tokens":`...)
	b = appendInt(b, u.in)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = appendInt(b, u.cacheCreate)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = appendInt(b, u.cacheRead)
	if mode == modeStream {
		b = append(b, `,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":`...)
		b = appendInt(b, u.cacheCreate)
	} else {
		b = append(b, `,"cache_creation":{"ephemeral_5m_input_tokens":`...)
		b = appendInt(b, u.cacheCreate)
		b = append(b, `,"ephemeral_1h_input_tokens":0`...)
	}
	b = append(b, `},"output_tokens":`...)
	b = appendInt(b, u.out)
	if mode == modeStream {
		return append(b, `,"service_tier":"standard","inference_geo":"not_available"}`...)
	}
	return append(b, `,"service_tier":"standard"}`...)
}

// assistantLine builds one assistant line around one content block. It takes
// its uuid and leaves the clock alone, so a caller can measure a line and
// build it again.
func (g *gen) assistantLine(b []byte, a *agent, msgID, reqID string, block []byte, u usageT, uuid string) []byte {
	if g.mode == modeStream {
		b = append(b, `{"type":"assistant","message":{"model":"`...)
		b = append(b, a.model...)
		b = append(b, `","id":"`...)
		b = append(b, msgID...)
		b = append(b, `","type":"message","role":"assistant","content":[`...)
		b = append(b, block...)
		b = append(b, `],"container":null,"stop_reason":null,"stop_sequence":null,"stop_details":null,"usage":`...)
		b = appendUsage(b, g.mode, u)
		b = append(b, `,"input_transformations":[],"diagnostics":null,"context_management":null},"parent_tool_use_id":`...)
		b = appendParentTool(b, a)
		b = append(b, `,"session_id":"`...)
		b = append(b, g.session...)
		b = append(b, `","uuid":"`...)
		b = append(b, uuid...)
		b = append(b, `","timestamp":"`...)
		b = g.appendTS(b)
		b = append(b, `","request_id":"`...)
		b = append(b, reqID...)
		return append(b, `"}`...)
	}
	b = g.envHead(b, a)
	b = append(b, `"message":{"id":"`...)
	b = append(b, msgID...)
	b = append(b, `","type":"message","role":"assistant","model":"`...)
	b = append(b, a.model...)
	b = append(b, `","content":[`...)
	b = append(b, block...)
	b = append(b, `],"stop_reason":null,"stop_sequence":null,"usage":`...)
	b = appendUsage(b, g.mode, u)
	b = append(b, `},"requestId":"`...)
	b = append(b, reqID...)
	b = append(b, `","type":"assistant","uuid":"`...)
	b = append(b, uuid...)
	b = append(b, `","timestamp":"`...)
	b = g.appendTS(b)
	return append(b, `"}`...)
}

func (g *gen) emitAssistant(a *agent, msgID, reqID string, block []byte, u usageT, uuid string) {
	if uuid == "" {
		uuid = g.r.uuid()
	}
	g.line = g.assistantLine(g.line[:0], a, msgID, reqID, block, u, uuid)
	g.writeLine(g.line)
	a.last = uuid
}

// emitUser writes a user line; content is the JSON value of message.content
// and tur, if not nil, the tool_use_result value.
func (g *gen) emitUser(a *agent, content, tur []byte) {
	uuid := g.r.uuid()
	b := g.line[:0]
	if g.mode == modeStream {
		b = append(b, `{"type":"user","message":{"role":"user","content":`...)
		b = append(b, content...)
		b = append(b, `},"parent_tool_use_id":`...)
		b = appendParentTool(b, a)
		b = append(b, `,"session_id":"`...)
		b = append(b, g.session...)
		b = append(b, `","uuid":"`...)
		b = append(b, uuid...)
		b = append(b, `","timestamp":"`...)
		b = g.appendTS(b)
		b = append(b, '"')
		if tur != nil {
			b = append(b, `,"tool_use_result":`...)
			b = append(b, tur...)
		}
	} else {
		b = g.envHead(b, a)
		b = append(b, `"type":"user","message":{"role":"user","content":`...)
		b = append(b, content...)
		b = append(b, `},"uuid":"`...)
		b = append(b, uuid...)
		b = append(b, `","timestamp":"`...)
		b = g.appendTS(b)
		b = append(b, '"')
		if tur != nil {
			b = append(b, `,"toolUseResult":`...)
			b = append(b, tur...)
		}
	}
	b = append(b, '}')
	g.line = b
	g.writeLine(b)
	a.last = uuid
}

// ---------------------------------------------------------------------------
// Stream-json

var streamModels = []string{"claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-sonnet-4-20250514"}

var initTools = []string{"Task", "AskUserQuestion", "Bash", "BashOutput", "Edit", "EnterPlanMode", "ExitPlanMode", "Glob", "Grep", "KillShell", "NotebookEdit", "Read", "Skill", "SlashCommand", "TodoWrite", "WebFetch", "WebSearch", "Write", "mcp__context7__resolve-library-id", "mcp__context7__get-library-docs", "mcp__playwright__browser_navigate", "mcp__playwright__browser_click", "mcp__playwright__browser_snapshot", "mcp__playwright__browser_take_screenshot", "mcp__github__create_pull_request", "mcp__github__get_issue"}

func appendStrList(b []byte, xs []string) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, x)
	}
	return append(b, ']')
}

func (g *gen) streamSession(bigLine int64) {
	r := g.r
	g.session = r.uuid()
	g.model = pick(r, streamModels)
	g.cwd = "/home/dev/src/" + pick(r, projNames)
	g.start = time.Date(2025, 10, 6, 8, 0, 0, 0, time.UTC).Add(time.Duration(r.intn(30*24*60)) * time.Minute)
	g.clock = g.start
	// Room for the result line and the closing message, which repeat the
	// same text and are sized to absorb the last turn's overshoot.
	g.reserve = 10000

	b := g.line[:0]
	b = append(b, `{"type":"system","subtype":"init","cwd":`...)
	b = appendStr(b, g.cwd)
	b = append(b, `,"session_id":"`...)
	b = append(b, g.session...)
	b = append(b, `","tools":`...)
	b = appendStrList(b, initTools)
	b = append(b, `,"mcp_servers":[{"name":"context7","status":"connected"},{"name":"playwright","status":"connected"},{"name":"github","status":"failed"}],"model":"`...)
	b = append(b, g.model...)
	b = append(b, `","permissionMode":"bypassPermissions","slash_commands":`...)
	b = appendStrList(b, []string{"compact", "context", "cost", "init", "pr-comments", "release-notes", "review", "security-review", "todos", "commit-commands:commit", "code-review:code-review"})
	b = append(b, `,"apiKeySource":"none","claude_code_version":"2.1.276","output_style":"default","agents":`...)
	b = appendStrList(b, []string{"general-purpose", "statusline-setup", "output-style-setup", "Explore", "Plan"})
	b = append(b, `,"skills":[],"plugins":[{"name":"commit-commands","path":"/home/dev/.claude/plugins/cache/commit-commands","source":"commit-commands@claude-plugins-official"}],"uuid":"`...)
	b = append(b, r.uuid()...)
	b = append(b, `","fast_mode_state":"off"}`...)
	g.line = b
	g.writeLine(b)

	main := &agent{model: g.model, ctx: r.between(14000, 18000), pending: r.between(20, 200)}
	bigDone := bigLine <= 0
	if !bigDone {
		// Until it is written, the big line's bytes are not for other
		// content to spend.
		g.reserve += bigLine
	}
	for first := true; g.avail() > 0; first = false {
		if !bigDone && g.n >= (g.target-bigLine)/2 { // half-way through the rest
			g.reserve -= bigLine
			g.bigTurn(main, bigLine)
			bigDone = true
			continue
		}
		if r.chance(30) {
			g.systemLine("status", `"status":"requesting"`)
		}
		g.turn(main, true)
		if main.ctx > 150000 {
			// Auto-compaction: Claude Code summarises and starts over with a
			// small context.
			g.systemLine("compact_boundary", `"compact_metadata":{"trigger":"auto","pre_tokens":`+strconv.Itoa(main.ctx)+`}`)
			main.ctx = r.between(15000, 25000)
		}
		// Claude Code 2.x reports rate limits after the first response and
		// now and then afterwards.
		if first || r.chance(15) {
			g.rateLimit()
		}
	}
	if !bigDone {
		g.reserve -= bigLine
		g.bigTurn(main, bigLine)
	}
	g.finishStream(main)
}

func (g *gen) systemLine(subtype, fields string) {
	b := g.line[:0]
	b = append(b, `{"type":"system","subtype":"`...)
	b = append(b, subtype...)
	b = append(b, `",`...)
	b = append(b, fields...)
	b = append(b, `,"session_id":"`...)
	b = append(b, g.session...)
	b = append(b, `","uuid":"`...)
	b = append(b, g.r.uuid()...)
	b = append(b, `"}`...)
	g.line = b
	g.writeLine(b)
}

func (g *gen) systemThinkingTokens(n int) {
	g.systemLine("thinking_tokens", `"estimated_tokens":`+strconv.Itoa(n)+`,"estimated_tokens_delta":`+strconv.Itoa(n))
}

func (g *gen) hook(id, name string, response bool) {
	if !response {
		g.systemLine("hook_started", `"hook_id":"`+id+`","hook_name":"`+name+`","hook_event":"PostToolUse"`)
		return
	}
	out := `prettier: formatted 1 file in 38ms\n`
	g.systemLine("hook_response", `"hook_id":"`+id+`","hook_name":"`+name+`","hook_event":"PostToolUse","output":"`+out+`","stdout":"`+out+`","stderr":"","exit_code":0,"outcome":"success"`)
}

func (g *gen) rateLimit() {
	r := g.r
	reset := g.clock.Add(time.Duration(r.between(10, 290)) * time.Minute).Unix()
	week := g.clock.Add(time.Duration(r.between(1, 7)) * 24 * time.Hour).Unix()
	b := g.line[:0]
	b = append(b, `{"type":"rate_limit_event","rate_limit_info":{"status":"allowed","resetsAt":`...)
	b = strconv.AppendInt(b, reset, 10)
	b = append(b, `,"rateLimitType":"five_hour","overageStatus":"rejected","overageDisabledReason":"out_of_credits","isUsingOverage":false,"unifiedWindows":{"five_hour":{"utilization":0.`...)
	b = appendInt(b, r.between(10, 99))
	b = append(b, `,"resetsAt":`...)
	b = strconv.AppendInt(b, reset, 10)
	b = append(b, `},"seven_day":{"utilization":0.`...)
	b = appendInt(b, r.between(10, 99))
	b = append(b, `,"resetsAt":`...)
	b = strconv.AppendInt(b, week, 10)
	b = append(b, `}}},"uuid":"`...)
	b = append(b, r.uuid()...)
	b = append(b, `","session_id":"`...)
	b = append(b, g.session...)
	b = append(b, `"}`...)
	g.line = b
	g.writeLine(b)
}

// bigTurn reads a huge file: one tool_result line of exactly n bytes (not
// counting its newline), for testing readers' line-length limits. The content
// is streamed to the writer so that the line is never held in memory whole.
func (g *gen) bigTurn(a *agent, n int64) {
	r := g.r
	t := &toolUse{name: "Read", id: r.id("toolu_01", 22), path: g.cwd + "/testdata/fixtures/huge_dump.json"}
	blk := g.block(0)
	blk = append(blk, `{"type":"tool_use","id":"`...)
	blk = append(blk, t.id...)
	blk = append(blk, `","name":"Read","input":{"file_path":`...)
	blk = appendStr(blk, t.path)
	blk = append(blk, `},"caller":{"type":"direct"}}`...)
	g.blk[0] = blk
	u := usageT{in: r.between(1, 9), cacheRead: a.ctx, cacheCreate: a.pending + 100, out: len(blk) / 4}
	a.ctx += u.cacheCreate + u.out
	a.pending = 0
	g.account(a, u, 0)
	g.tick(700, 3000)
	g.emitAssistant(a, r.id("msg_01", 22), r.id("req_011C", 20), blk, u, "")

	g.tick(50, 900)
	pre := g.msg[:0]
	pre = append(pre, `{"type":"user","message":{"role":"user","content":[{"tool_use_id":"`...)
	pre = append(pre, t.id...)
	pre = append(pre, `","type":"tool_result","content":"`...)
	suf := g.tur[:0]
	suf = append(suf, `"}]},"parent_tool_use_id":null,"session_id":"`...)
	suf = append(suf, g.session...)
	suf = append(suf, `","uuid":"`...)
	suf = append(suf, r.uuid()...)
	suf = append(suf, `","timestamp":"`...)
	suf = g.appendTS(suf)
	suf = append(suf, `","tool_use_result":{"type":"text","file":{"filePath":`...)
	suf = appendStr(suf, t.path)
	lines := int(n/40) + 1
	suf = append(suf, `,"numLines":`...)
	suf = appendInt(suf, lines)
	suf = append(suf, `,"startLine":1,"totalLines":`...)
	suf = appendInt(suf, lines)
	suf = append(suf, `}}}`...)
	g.msg, g.tur = pre, suf

	body := n - int64(len(pre)) - int64(len(suf))
	if body < 0 {
		body = 0
	}
	g.write(pre)
	chunk := g.content[:0]
	for left := body; left > 0; {
		k := int64(1 << 20)
		if k > left {
			k = left
		}
		chunk = g.p.codeNum.fill(chunk[:0], int(k), r)
		g.write(chunk)
		left -= k
	}
	g.content = chunk
	g.write(suf)
	g.write([]byte{'\n'})
	a.pending += int(body / 4)
	a.tools++
}

func (g *gen) write(b []byte) {
	if g.err == nil {
		if _, err := g.w.Write(b); err != nil {
			g.err = err
		}
	}
	g.n += int64(len(b))
}

// finishStream writes the closing assistant message and the result line. The
// result line repeats the final text, so the text is sized to make the two
// lines end the output within a byte of the target.
func (g *gen) finishStream(a *agent) {
	r := g.r
	rem := int(g.target - g.n)
	msgID := r.id("msg_01", 22)
	reqID := r.id("req_011C", 20)
	u := usageT{in: r.between(1, 9), cacheRead: a.ctx, cacheCreate: a.pending + r.between(20, 300), out: capSize(rem/8, 2000, 5)}
	g.account(a, u, 0)
	g.tick(900, 5000)
	aUUID, resUUID := r.uuid(), r.uuid()

	envA := len(g.assistantLine(nil, a, msgID, reqID, []byte(`{"type":"text","text":""}`), u, aUUID)) + 1
	envR := len(g.resultLine(nil, nil, resUUID)) + 1
	n := capSize((rem-envA-envR)/2, 1<<30, 12)
	text := g.p.prose.fill(nil, n, r)

	blk := append(append([]byte(`{"type":"text","text":"`), text...), `"}`...)
	g.emitAssistant(a, msgID, reqID, blk, u, aUUID)
	g.line = g.resultLine(g.line[:0], text, resUUID)
	g.writeLine(g.line)
}

func appendFloat(b []byte, f float64) []byte { return strconv.AppendFloat(b, f, 'f', -1, 64) }

// resultLine builds the closing result line. Its key order follows Claude
// Code 2.x, which puts "type" near the end.
func (g *gen) resultLine(b, text []byte, uuid string) []byte {
	t := g.totals()
	b = append(b, `{"duration_api_ms":`...)
	b = appendInt(b, g.apiMs)
	b = append(b, `,"stop_reason":"end_turn","session_id":"`...)
	b = append(b, g.session...)
	b = append(b, `","total_cost_usd":`...)
	b = appendFloat(b, g.cost)
	b = append(b, `,"usage":{"input_tokens":`...)
	b = appendInt(b, t.in)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = appendInt(b, t.cacheCreate)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = appendInt(b, t.cacheRead)
	b = append(b, `,"output_tokens":`...)
	b = appendInt(b, t.out)
	b = append(b, `,"output_tokens_details":{"thinking_tokens":`...)
	b = appendInt(b, g.thinking)
	b = append(b, `},"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":"standard","cache_creation":{"ephemeral_1h_input_tokens":`...)
	b = appendInt(b, t.cacheCreate)
	b = append(b, `,"ephemeral_5m_input_tokens":0},"inference_geo":"not_available","iterations":[],"speed":"standard"},"modelUsage":{`...)
	for i, m := range g.byModel {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, m.model...)
		b = append(b, `":{"inputTokens":`...)
		b = appendInt(b, m.u.in)
		b = append(b, `,"outputTokens":`...)
		b = appendInt(b, m.u.out)
		b = append(b, `,"cacheReadInputTokens":`...)
		b = appendInt(b, m.u.cacheRead)
		b = append(b, `,"cacheCreationInputTokens":`...)
		b = appendInt(b, m.u.cacheCreate)
		b = append(b, `,"webSearchRequests":0,"costUSD":`...)
		b = appendFloat(b, m.cost)
		b = append(b, `,"contextWindow":200000,"maxOutputTokens":32000}`...)
	}
	b = append(b, `},"permission_denials":[],"terminal_reason":"completed","fast_mode_state":"off","is_error":false,"num_turns":`...)
	b = appendInt(b, g.mainTurns)
	b = append(b, `,"subtype":"success","api_error_status":null,"result":"`...)
	b = append(b, text...)
	b = append(b, `","ttft_ms":`...)
	b = appendInt(b, 900+int(g.n%2000))
	b = append(b, `,"type":"result","duration_ms":`...)
	b = strconv.AppendInt(b, g.clock.Sub(g.start).Milliseconds(), 10)
	b = append(b, `,"uuid":"`...)
	b = append(b, uuid...)
	return append(b, `","queued_turn_count":0,"result_index":0}`...)
}

// ---------------------------------------------------------------------------
// Transcripts

var transcriptModels = []string{"claude-sonnet-4-20250514", "claude-opus-4-1-20250805", "claude-sonnet-4-5-20250929"}
var versions = []string{"1.0.98", "1.0.102", "1.0.110", "1.0.128", "2.0.14", "2.0.31"}
var branches = []string{"main", "main", "", "feature/checkout-v2", "fix/flaky-tests", "develop"}

type filePlan struct {
	dir, path      string
	session        string
	budget         int64
	start          time.Time
	model1, model2 string
	version        string
	branch         string
	cwd            string
	summaries      int
	seed           uint64
}

// writeTranscripts lays out files over several projects and sizes them
// unevenly (up to ~60x apart, like real sessions), then writes them in
// parallel; each file has its own random stream, so the result does not
// depend on scheduling.
func writeTranscripts(out string, total int64, files int, seed uint64) error {
	r := &rng{s: seed}
	p := newPools(r.fork(), modeTranscript, poolSizeFor(total))

	nproj := 2
	for nproj*nproj < files && nproj < len(projNames) {
		nproj++
	}
	if nproj > files {
		nproj = files
	}
	first := r.intn(len(projNames))
	weights := make([]int64, files)
	var sum int64
	for i := range weights {
		weights[i] = int64(64+r.intn(64)) << r.intn(6)
		sum += weights[i]
	}
	base := time.Date(2025, 9, 1, 7, 0, 0, 0, time.UTC)
	plans := make([]filePlan, files)
	for i := range plans {
		proj := projNames[(first+r.intn(nproj))%len(projNames)]
		if i < nproj {
			// Every project gets at least one session.
			proj = projNames[(first+i)%len(projNames)]
		}
		cwd := "/home/dev/src/" + proj
		f := &plans[i]
		f.cwd = cwd
		f.dir = filepath.Join(out, strings.NewReplacer("/", "-", ".", "-").Replace(cwd))
		f.session = r.uuid()
		f.path = filepath.Join(f.dir, f.session+".jsonl")
		f.budget = total * weights[i] / sum
		// Sessions start over five weeks, in working hours.
		f.start = base.Add(time.Duration(r.intn(35))*24*time.Hour + time.Duration(r.intn(12*60))*time.Minute)
		f.model1 = pick(r, transcriptModels[:2])
		if r.chance(250) {
			f.model2 = pick(r, transcriptModels)
		}
		f.version = pick(r, versions)
		f.branch = pick(r, branches)
		if r.chance(350) {
			f.summaries = 1
			if r.chance(300) {
				f.summaries = r.between(2, 3)
			}
		}
		f.seed = r.next()
	}

	workers := runtime.GOMAXPROCS(0)
	if workers > files {
		workers = files
	}
	jobs := make(chan *filePlan)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				if errs[w] != nil {
					continue
				}
				errs[w] = writeTranscript(f, p)
			}
		}()
	}
	for i := range plans {
		jobs <- &plans[i]
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

func writeTranscript(f *filePlan, p *pools) error {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	fh, err := os.Create(f.path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(fh, 1<<20)
	g := newGen(modeTranscript, &rng{s: f.seed}, p, w, f.budget)
	g.transcriptSession(f)
	if g.err == nil {
		g.err = w.Flush()
	}
	if err := fh.Close(); g.err == nil {
		g.err = err
	}
	return g.err
}

var prompts = []string{
	"The ‹noun› tests are failing on CI but pass locally. Can you figure out why?",
	"Add pagination to the ‹noun›s endpoint. Use cursor-based pagination, not offsets.",
	"Refactor ‹verb›‹Noun› so it takes a context and returns wrapped errors.",
	"Why is the build so slow? It takes 3 minutes now.",
	"Write tests for the ‹noun› store, including the edge cases with empty and unicode names.",
	"Please review my last commit and point out anything risky.",
	"Migrate the ‹noun›s table to add a ‹field› column with a sane default.",
	"The app crashes when I open the ‹noun› page. Here's the error:",
	"この関数をもっと読みやすくリファクタリングしてください。",
	"帮我把这个接口改成异步的，并补充单元测试。",
	"Can you update the README with the new setup steps? Keep it short.",
	"Fix the lint errors and commit with a sensible message.",
	"<command-message>review is running…</command-message>\n<command-name>/review</command-name>",
	"Implement the ‹noun› export as CSV. Quote fields properly (commas, \"quotes\", newlines).",
	"ok, go ahead 👍",
	"That didn't work, same error. Look at the logs again.",
}

var summaries = []string{
	"Fixing Flaky ‹Noun› Tests in CI",
	"Cursor Pagination for ‹Noun›s API",
	"Refactor ‹Noun› Store Error Handling",
	"Build Performance Investigation",
	"Add ‹Field› Column Migration",
	"Empty Repo Setup: CLAUDE.md Foundation Created",
	"CSV Export with Proper Quoting",
	"Async API Conversion 非同期化",
}

func (g *gen) transcriptSession(f *filePlan) {
	r := g.r
	g.session = f.session
	g.cwd = f.cwd
	g.version = f.version
	g.branch = f.branch
	g.start = f.start
	g.clock = f.start
	// The last line is a text reply sized to fill what is left. The reserve
	// also absorbs the overshoot of the last turn, whose lines have a
	// minimum size, so files end on budget.
	g.reserve = 8000
	leaf := r.uuid()
	for i := range f.summaries {
		u := leaf
		if i < f.summaries-1 {
			u = r.uuid()
		}
		b := g.line[:0]
		b = append(b, `{"type":"summary","summary":`...)
		b = appendStr(b, g.expandLine(pick(r, summaries)))
		b = append(b, `,"leafUuid":"`...)
		b = append(b, u...)
		b = append(b, `"}`...)
		g.line = b
		g.writeLine(b)
	}
	main := &agent{model: f.model1, ctx: r.between(14000, 18000)}
	switched := false
	for first := true; first || g.avail() > 0; first = false {
		g.prompt(main)
		turns := r.spread(1, 24)
		for i := 0; i < turns && g.avail() > 0; i++ {
			g.turn(main, true)
			if main.ctx > 150000 {
				g.compact(main)
			}
		}
		if g.avail() > 0 {
			g.turn(main, false)
		}
		// The user comes back after a pause; sometimes the next day, so one
		// file's timestamps span several days.
		if r.chance(100) {
			g.tick(14*3600*1000, 40*3600*1000)
		} else {
			g.tick(20*1000, 45*60*1000)
		}
		if f.model2 != "" && !switched && g.n > g.target/2 {
			main.model = f.model2
			switched = true
		}
	}
	g.finishTranscript(main, leaf)
}

func (g *gen) prompt(a *agent) {
	r := g.r
	text := g.expandLine(pick(r, prompts))
	m := g.msg[:0]
	list := r.chance(150)
	if list {
		m = append(m, `[{"type":"text","text":"`...)
	} else {
		m = append(m, '"')
	}
	m = appendEsc(m, text)
	if r.chance(200) {
		// A pasted log or stack trace.
		m = append(m, `\n\n`+"```"+`\n`...)
		m = g.p.shell.fill(m, capSize(r.spread(200, 8000), g.avail()/4, 20), r)
		m = append(m, `\n`+"```"...)
	}
	if list {
		m = append(m, `"}]`...)
	} else {
		m = append(m, '"')
	}
	g.msg = m
	g.tick(1000, 5000)
	g.emitUser(a, m, nil)
	a.pending += len(m) / 4
}

// compact writes what Claude Code 2.x writes on auto-compaction: a
// compact_boundary system line that restarts the parentUuid chain, then the
// summary as a user message.
func (g *gen) compact(a *agent) {
	r := g.r
	uuid := r.uuid()
	b := g.line[:0]
	b = append(b, `{"parentUuid":null,"logicalParentUuid":"`...)
	b = append(b, a.last...)
	b = append(b, `","isSidechain":false,"userType":"external","cwd":`...)
	b = appendStr(b, g.cwd)
	b = append(b, `,"sessionId":"`...)
	b = append(b, g.session...)
	b = append(b, `","version":"`...)
	b = append(b, g.version...)
	b = append(b, `","gitBranch":`...)
	b = appendStr(b, g.branch)
	b = append(b, `,"type":"system","subtype":"compact_boundary","content":"Conversation compacted","isMeta":false,"timestamp":"`...)
	b = g.appendTS(b)
	b = append(b, `","uuid":"`...)
	b = append(b, uuid...)
	b = append(b, `","level":"info","compactMetadata":{"trigger":"auto","preTokens":`...)
	b = appendInt(b, a.ctx)
	b = append(b, `}}`...)
	g.line = b
	g.writeLine(b)
	a.last = uuid
	m := g.msg[:0]
	m = append(m, `"This session is being continued from a previous conversation that ran out of context. The conversation is summarized below:\n`...)
	m = g.p.prose.fill(m, capSize(r.spread(800, 6000), g.avail()/4, 40), r)
	m = append(m, '"')
	g.msg = m
	g.emitUser(a, m, nil)
	a.ctx = r.between(15000, 25000)
}

// finishTranscript ends the file with a text reply whose uuid the summary
// line points at, sized so the file ends on its budget.
func (g *gen) finishTranscript(a *agent, leaf string) {
	r := g.r
	msgID := r.id("msg_01", 22)
	reqID := r.id("req_011C", 20)
	u := usageT{in: r.between(1, 9), cacheRead: a.ctx, cacheCreate: a.pending + 50, out: 50}
	g.account(a, u, 0)
	g.tick(900, 5000)
	env := len(g.assistantLine(g.line[:0], a, msgID, reqID, []byte(`{"type":"text","text":""}`), u, leaf)) + 1
	n := capSize(int(g.target-g.n)-env, 1<<30, 12)
	blk := g.block(0)
	blk = append(blk, `{"type":"text","text":"`...)
	blk = g.p.prose.fill(blk, n, r)
	blk = append(blk, `"}`...)
	g.blk[0] = blk
	g.emitAssistant(a, msgID, reqID, blk, u, leaf)
}

// ---------------------------------------------------------------------------
// Latency

const sendKey = `"send_ns":`

// runLatency writes paced lines, each stamped with its wall-clock send time
// in Unix ns just before the write. Lines go out unbuffered, one write each,
// like an agent's output reaching a pipe.
func runLatency(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	lines := fs.Int("lines", 1000, "number of timed lines")
	interval := fs.Duration("interval", time.Millisecond, "pause between lines")
	lineSize := fs.Int("line-size", 200, "approximate bytes per line (at least ~215)")
	seed := fs.Uint64("seed", 1, "random seed")
	warmup := fs.Duration("warmup", 300*time.Millisecond, "pause after the init line, so the processes downstream have started before the first timed line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := &rng{s: *seed}
	session := r.uuid()
	var b []byte
	b = append(b, `{"type":"system","subtype":"init","cwd":"/home/dev/src/bench","session_id":"`...)
	b = append(b, session...)
	b = append(b, `","tools":["Bash","Read"],"model":"claude-sonnet-4-20250514","permissionMode":"default","apiKeySource":"none","claude_code_version":"2.1.276","uuid":"`...)
	b = append(b, r.uuid()...)
	b = append(b, "\"}\n"...)
	if _, err := out.Write(b); err != nil {
		return err
	}

	// The text pad makes each line about -line-size bytes. The envelope is
	// measured with a 19-digit timestamp and a worst-case sequence number.
	envelope := func(b []byte, msgID string, seq int, pad []byte) []byte {
		b = append(b, `{"type":"assistant","message":{"id":"`...)
		b = append(b, msgID...)
		b = append(b, `","role":"assistant","content":[{"type":"text","text":"`...)
		b = append(b, pad...)
		b = append(b, `"}]},"session_id":"`...)
		b = append(b, session...)
		b = append(b, `","seq":`...)
		b = appendInt(b, seq)
		b = append(b, ',')
		return append(b, sendKey...)
	}
	fixed := len(envelope(nil, r.id("msg_01", 22), *lines, nil)) + 19 + 2
	pad := bytes.Repeat([]byte("lorem ipsum dolor sit amet "), *lineSize/27+1)[:max(0, *lineSize-fixed)]
	time.Sleep(*warmup)

	start := time.Now()
	for i := range *lines {
		if d := time.Until(start.Add(time.Duration(i) * *interval)); d > 0 {
			time.Sleep(d)
		}
		b = envelope(b[:0], r.id("msg_01", 22), i, pad)
		b = strconv.AppendInt(b, time.Now().UnixNano(), 10)
		b = append(b, "}\n"...)
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	b = b[:0]
	b = append(b, `{"type":"result","subtype":"success","is_error":false,"duration_ms":`...)
	b = strconv.AppendInt(b, time.Since(start).Milliseconds(), 10)
	b = append(b, `,"num_turns":1,"result":"done","session_id":"`...)
	b = append(b, session...)
	b = append(b, `","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0},"uuid":"`...)
	b = append(b, r.uuid()...)
	b = append(b, "\"}\n"...)
	_, err := out.Write(b)
	return err
}

type latencyReport struct {
	Lines int     `json:"lines"`
	P50   float64 `json:"p50_us"`
	P99   float64 `json:"p99_us"`
	Max   float64 `json:"max_us"`
	Mean  float64 `json:"mean_us"`
}

// runMeasure reads lines and records now − send time for each line that has
// one. The time is taken as soon as a line is available, before any parsing.
func runMeasure(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	br := bufio.NewReaderSize(in, 1<<16)
	key := []byte(sendKey)
	var lat []int64
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		now := time.Now().UnixNano()
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			now = time.Now().UnixNano()
			line = long
		}
		if i := bytes.Index(line, key); i >= 0 {
			j := i + len(key)
			k := j
			for k < len(line) && line[k] >= '0' && line[k] <= '9' {
				k++
			}
			if v, perr := strconv.ParseInt(string(line[j:k]), 10, 64); perr == nil {
				lat = append(lat, now-v)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	rep := latencyReport{Lines: len(lat)}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		var sum int64
		for _, v := range lat {
			sum += v
		}
		us := func(ns int64) float64 { return float64(ns/100) / 10 }
		rep.P50 = us(lat[rank(len(lat), 500)])
		rep.P99 = us(lat[rank(len(lat), 990)])
		rep.Max = us(lat[len(lat)-1])
		rep.Mean = us(sum / int64(len(lat)))
	}
	enc, _ := json.Marshal(rep)
	if _, err := fmt.Fprintf(out, "%s\n", enc); err != nil {
		return err
	}
	if len(lat) == 0 {
		return errors.New("measure: no lines with a send time")
	}
	return nil
}

// rank is the nearest-rank index of the perMille-th percentile of n values.
func rank(n, perMille int) int {
	i := (n*perMille+999)/1000 - 1
	if i < 0 {
		i = 0
	}
	return i
}

// ---------------------------------------------------------------------------
// Filler text sources (run once, at start-up, to build the pools)

// expand copies a template, replacing ‹key› markers. Within one template the
// same key always gets the same word, so identifiers in generated code agree.
func expand(r *rng, tpl string, sb *strings.Builder) {
	noun := pick(r, nouns)
	verb := pick(r, verbs)
	field := pick(r, fields)
	for {
		i := strings.Index(tpl, "‹")
		if i < 0 {
			sb.WriteString(tpl)
			return
		}
		sb.WriteString(tpl[:i])
		tpl = tpl[i+len("‹"):]
		j := strings.Index(tpl, "›")
		key := tpl[:j]
		tpl = tpl[j+len("›"):]
		switch key {
		case "noun":
			sb.WriteString(noun)
		case "Noun":
			sb.WriteString(title(noun))
		case "verb":
			sb.WriteString(verb)
		case "Verb":
			sb.WriteString(title(verb))
		case "field":
			sb.WriteString(field)
		case "Field":
			sb.WriteString(title(field))
		case "pkg":
			sb.WriteString(pick(r, pkgs))
		case "dir":
			sb.WriteString(pick(r, dirs))
		case "file":
			sb.WriteString(pick(r, dirs) + "/" + noun + pick(r, suffixes) + pick(r, exts))
		case "num":
			sb.WriteString(strconv.Itoa(r.spread(1, 5000)))
		case "bt":
			sb.WriteByte('`')
		case "hash":
			fmt.Fprintf(sb, "%07x", r.next()&0xfffffff)
		default:
			sb.WriteString(key)
		}
	}
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

var codeTemplates = []string{`package ‹pkg›

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrNotFound is returned when a ‹noun› does not exist.
var ErrNotFound = errors.New("‹noun› not found")

// ‹Noun› is the stored form of a ‹noun›.
type ‹Noun› struct {
	ID        string    ‹bt›json:"id"‹bt›
	Name      string    ‹bt›json:"name"‹bt›
	‹Field›   int64     ‹bt›json:"‹field›"‹bt›
	CreatedAt time.Time ‹bt›json:"created_at"‹bt›
}

// ‹Noun›Store persists ‹noun›s. 保存処理はトランザクション内で行う。
type ‹Noun›Store interface {
	Get(ctx context.Context, id string) (*‹Noun›, error)
	Put(ctx context.Context, v *‹Noun›) error
}

type ‹Noun›Handler struct {
	store   ‹Noun›Store
	timeout time.Duration
}

func (h *‹Noun›Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	id := r.PathValue("id")
	v, err := h.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		http.Error(w, fmt.Sprintf("‹noun› %q not found", id), http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "internal error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		fmt.Printf("encode ‹noun› %s: %v\n", id, err)
	}
}
`, `package ‹pkg›

import (
	"context"
	"testing"
)

func Test‹Verb›‹Noun›(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    int
		wantErr bool
	}{
		{name: "empty", input: "", want: 0, wantErr: true},
		{name: "simple", input: "‹noun›-‹num›", want: ‹num›},
		{name: "unicode", input: "日本語テキスト ✓", want: ‹num›},
		{name: "quoted", input: ‹bt›"quoted" \path\to‹bt›, want: ‹num›},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ‹verb›‹Noun›(context.Background(), tt.input)
			if (err != nil) != tt.wantErr {
				t.Fatalf("‹verb›‹Noun›(%q) error = %v, wantErr %v", tt.input, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("‹verb›‹Noun›(%q) = %d, want %d", tt.input, got, tt.want)
			}
		})
	}
}
`, `import { useCallback, useEffect, useState } from "react";
import type { ‹Noun› } from "@/types/‹noun›";

interface ‹Noun›ListProps {
  initial: ‹Noun›[];
  onSelect?: (item: ‹Noun›) => void;
}

export function ‹Noun›List({ initial, onSelect }: ‹Noun›ListProps) {
  const [items, setItems] = useState<‹Noun›[]>(initial);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    fetch(‹bt›/api/‹noun›s?limit=‹num›‹bt›)
      .then((res) => {
        if (!res.ok) throw new Error(‹bt›HTTP ${res.status}‹bt›);
        return res.json();
      })
      .then((data: ‹Noun›[]) => !cancelled && setItems(data))
      .catch((e) => setError(String(e)));
    return () => {
      cancelled = true;
    };
  }, []);

  const handleClick = useCallback((item: ‹Noun›) => onSelect?.(item), [onSelect]);

  if (error) return <p className="text-red-600">⚠️ {error}</p>;
  return (
    <ul className="divide-y divide-gray-200">
      {items.map((item) => (
        <li key={item.id} onClick={() => handleClick(item)} className="py-2 hover:bg-gray-50">
          {item.name} <span className="text-xs text-gray-500">#{item.‹field›}</span>
        </li>
      ))}
    </ul>
  );
}
`, `#!/usr/bin/env python3
"""‹Verb› ‹noun›s from the export and write a summary report."""

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class ‹Noun›:
    id: str
    name: str
    ‹field›: int = 0
    tags: list[str] = field(default_factory=list)


def load(path: Path) -> list[‹Noun›]:
    with path.open(encoding="utf-8") as f:
        return [‹Noun›(**json.loads(line)) for line in f if line.strip()]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("input", type=Path)
    p.add_argument("--limit", type=int, default=‹num›)
    args = p.parse_args(argv)
    items = load(args.input)[: args.limit]
    total = sum(i.‹field› for i in items)
    print(f"{len(items)} ‹noun›s, total ‹field›={total} — 完了 ✅")
    if not items:
        log.warning("no ‹noun›s in %s", args.input)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`, `-- ‹num›_create_‹noun›s.sql
CREATE TABLE IF NOT EXISTS ‹noun›s (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL DEFAULT '',
    ‹field›     INTEGER NOT NULL DEFAULT 0,
    payload     JSON,
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_‹noun›s_tenant ON ‹noun›s (tenant_id, created_at DESC);

INSERT INTO ‹noun›s (id, tenant_id, name, payload) VALUES
    ('‹noun›-‹num›', 't1', 'O''Brien "quoted"', '{"note": "naïve café"}'),
    ('‹noun›-‹num›', 't2', '東京オフィス', '{"emoji": "🚀"}');
`, `name: ‹pkg› CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    timeout-minutes: ‹num›
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version: "1.23"
      - run: go vet ./...
      - run: go test -race -count=1 ./...
      - name: Upload coverage
        if: ${{ always() }}
        run: |
          echo "coverage for ‹noun›s" >> "$GITHUB_STEP_SUMMARY"
`, `{
  "name": "@acme/‹noun›-service",
  "version": "0.‹num›.0",
  "private": true,
  "scripts": {
    "dev": "next dev --port 3001",
    "build": "next build",
    "test": "vitest run",
    "lint": "eslint . --ext .ts,.tsx"
  },
  "dependencies": {
    "next": "15.5.2",
    "react": "19.1.0",
    "zod": "^3.23.8"
  }
}
`}

var sentences = []string{
	"I'll start by reading ‹bt›‹file›‹bt› to understand how ‹noun›s are stored.",
	"The failing test expects ‹bt›‹verb›‹Noun›‹bt› to return an error when the input is empty, but the current implementation returns ‹bt›nil‹bt›.",
	"Let me check the \"‹noun›\" handler — the timeout looks hard-coded to ‹num›ms.",
	"This is caused by a race between the writer goroutine and ‹bt›Close()‹bt›.",
	"All ‹num› tests pass now, including the new edge cases for empty and unicode input.",
	"I've updated the migration so existing rows get a default ‹field› instead of NULL.",
	"The build fails because ‹bt›‹pkg›‹bt› imports a package that was renamed in the last commit.",
	"Next, I'll run the linter and fix any remaining warnings.",
	"There are two options here: keep the retry loop in the client, or move it into the queue worker.",
	"The error message says \"connection reset by peer\", which usually means the server closed the socket early.",
	"I found ‹num› call sites that still use the old ‹bt›‹verb›‹Noun›‹bt› signature.",
	"Note that ‹bt›‹field›‹bt› is stored in cents, so the UI divides it by 100 before display.",
	"Let me verify the fix by running the full test suite again.",
	"The ‹noun› cache is never invalidated after an update, which explains the stale reads.",
	"I'll add a regression test first so we can see it fail before the fix.",
	"Looking at the stack trace, the panic happens in ‹bt›‹file›‹bt› when the map is nil.",
	"The user asked for cursor-based pagination, so I'll encode the last ID and timestamp in an opaque token.",
	"Hmm, the CI log shows a different Go version than the one in ‹bt›go.mod‹bt›.",
	"This approach keeps the public API unchanged while fixing the leak.",
	"I should double-check whether ‹bt›‹noun›_id‹bt› can be empty before adding the NOT NULL constraint.",
	"The path contains a space (‹bt›assets/logo (1).svg‹bt›), so the shell command needs quoting.",
	"Done! The ‹noun› export now quotes fields containing commas, \"quotes\" and newlines.",
	"Wait — the test only fails with ‹bt›-race‹bt›, so it is a data race, not a logic bug.",
	"The endpoint returns 500 because the JSON decoder rejects the trailing comma in the fixture.",
}

var cjkSentences = []string{
	"このテストはタイムゾーンに依存しているため、UTCで固定しました。",
	"‹noun›の一覧を取得する処理をリファクタリングしました。",
	"エラーログを確認したところ、接続がタイムアウトしていました。",
	"我已经修复了并发写入时的数据竞争问题。",
	"请确认配置文件中的端口号是否正确。",
	"빌드가 성공했습니다. 다음 단계로 넘어가겠습니다.",
	"修正後、全てのテストが通ることを確認しました 🎉",
}

var headings = []string{"## Summary", "## Changes", "### Root cause", "## Next steps", "### Test results", "## 原因", "## 変更点"}
var bulletMarks = []string{"- ", "- ", "- ", "* ", "✅ ", "⚠️ ", "🐛 ", "🚀 ", "📝 "}

func writeSentence(r *rng, sb *strings.Builder) {
	if r.chance(120) {
		expand(r, pick(r, cjkSentences), sb)
	} else {
		expand(r, pick(r, sentences), sb)
	}
}

func writeProse(r *rng, sb *strings.Builder) {
	switch r.intn(8) {
	case 0:
		sb.WriteString(pick(r, headings))
		sb.WriteString("\n\n")
	case 1, 2, 3:
		for i, n := 0, r.between(2, 5); i < n; i++ {
			if i > 0 {
				sb.WriteByte(' ')
			}
			writeSentence(r, sb)
		}
		sb.WriteString("\n\n")
	case 4, 5:
		for i, n := 0, r.between(3, 6); i < n; i++ {
			if r.chance(500) {
				sb.WriteString(fmt.Sprintf("%d. ", i+1))
			} else {
				sb.WriteString(pick(r, bulletMarks))
			}
			writeSentence(r, sb)
			sb.WriteByte('\n')
		}
		sb.WriteByte('\n')
	case 6:
		var code strings.Builder
		expand(r, pick(r, codeTemplates), &code)
		lines := strings.Split(code.String(), "\n")
		from := r.intn(max(1, len(lines)-6))
		to := min(len(lines), from+r.between(4, 14))
		sb.WriteString("```" + pick(r, []string{"go", "ts", "python", "sql", "bash", ""}) + "\n")
		sb.WriteString(strings.Join(lines[from:to], "\n"))
		sb.WriteString("\n```\n\n")
	default:
		sb.WriteString("| File | Change |\n|------|--------|\n")
		for i, n := 0, r.between(2, 5); i < n; i++ {
			var row strings.Builder
			expand(r, "| ‹bt›‹file›‹bt› | ‹Verb› ‹noun› handling (+‹num›/−‹num›) |\n", &row)
			sb.WriteString(row.String())
		}
		sb.WriteByte('\n')
	}
}

var months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// writeShell appends one block of realistic command output.
func writeShell(r *rng, sb *strings.Builder) {
	noun := pick(r, nouns)
	switch r.intn(9) {
	case 0: // ls -la
		fmt.Fprintf(sb, "total %d\n", r.between(8, 900))
		for i, n := 0, r.between(4, 18); i < n; i++ {
			name := noun + pick(r, suffixes) + pick(r, exts)
			mode := "-rw-r--r--"
			if i < 2 {
				name = []string{".", ".."}[i]
				mode = "drwxr-xr-x"
			} else if r.chance(150) {
				mode = "drwxr-xr-x"
				name = pick(r, dirs)
			} else if r.chance(60) {
				name = pick(r, oddNames)
			}
			fmt.Fprintf(sb, "%s %3d dev  staff %7d %s %2d %02d:%02d %s\n", mode, r.between(1, 40), r.spread(64, 90000), pick(r, months), r.between(1, 28), r.intn(24), r.intn(60), name)
		}
	case 1: // go test
		pkg := "github.com/acme/" + pick(r, projNames) + "/internal/" + pick(r, pkgs)
		for i, n := 0, r.between(2, 8); i < n; i++ {
			name := "Test" + title(pick(r, verbs)) + title(noun)
			fmt.Fprintf(sb, "=== RUN   %s\n", name)
			if r.chance(150) {
				fmt.Fprintf(sb, "    %s_test.go:%d: got %q, want %q\n", noun, r.between(10, 400), "日本語", "日本語テキスト")
				fmt.Fprintf(sb, "--- FAIL: %s (0.%02ds)\n", name, r.intn(100))
			} else {
				fmt.Fprintf(sb, "--- PASS: %s (0.%02ds)\n", name, r.intn(100))
			}
		}
		if r.chance(300) {
			fmt.Fprintf(sb, "FAIL\nFAIL\t%s\t0.%03ds\n", pkg, r.intn(1000))
		} else {
			fmt.Fprintf(sb, "PASS\nok  \t%s\t0.%03ds\n", pkg, r.intn(1000))
		}
	case 2: // git log
		for i, n := 0, r.between(3, 12); i < n; i++ {
			var msg strings.Builder
			expand(r, pick(r, []string{"fix(‹pkg›): handle empty ‹noun› names", "✨ feat: add ‹noun› export", "refactor: split ‹noun› store", "test: cover ‹verb›‹Noun› edge cases", "chore(deps): bump next from 15.4.1 to 15.5.2", "docs: 更新 README", "Revert \"‹verb› ‹noun›s in batches\""}), &msg)
			fmt.Fprintf(sb, "%07x %s\n", r.next()&0xfffffff, msg.String())
		}
	case 3: // npm / next build with ANSI colours
		fmt.Fprintf(sb, "> @acme/%s-service@0.%d.0 build\n> next build\n\n", noun, r.between(1, 40))
		fmt.Fprintf(sb, "   \x1b[1m\x1b[38;2;173;127;168m▲ Next.js 15.5.2\x1b[39m\x1b[22m\n\n \x1b[32m✓\x1b[39m Compiled successfully in %d.%ds\n", r.between(1, 30), r.intn(10))
		if r.chance(300) {
			fmt.Fprintf(sb, " \x1b[33m⚠\x1b[39m Warning: React Hook useEffect has a missing dependency: '%s'.\n", noun)
		}
		fmt.Fprintf(sb, "Route (app)                                 Size  First Load JS\n┌ ○ /                                    %d B         %d kB\n└ ƒ /api/%ss                            %d B         %d kB\n", r.between(100, 9000), r.between(90, 200), noun, r.between(100, 900), r.between(90, 200))
		fmt.Fprintf(sb, "\nadded %d packages, and audited %d packages in %ds\n", r.between(1, 900), r.between(100, 1500), r.between(1, 60))
	case 4: // grep -n
		for i, n := 0, r.between(3, 15); i < n; i++ {
			var l strings.Builder
			expand(r, pick(r, patchLines), &l)
			fmt.Fprintf(sb, "%s/%s%s.go:%d:%s\n", pick(r, dirs), noun, pick(r, suffixes), r.between(1, 900), l.String())
		}
	case 5: // python traceback
		fmt.Fprintf(sb, "Traceback (most recent call last):\n  File \"/home/dev/src/%s/scripts/%s.py\", line %d, in <module>\n    sys.exit(main(sys.argv[1:]))\n  File \"/home/dev/src/%s/scripts/%s.py\", line %d, in main\n    items = load(args.input)\nKeyError: '%s_id'\n", pick(r, projNames), noun, r.between(20, 300), pick(r, projNames), noun, r.between(20, 300), noun)
	case 6: // git status / diff stat
		sb.WriteString("On branch main\nChanges not staged for commit:\n  (use \"git add <file>...\" to update what will be committed)\n")
		for i, n := 0, r.between(1, 6); i < n; i++ {
			fmt.Fprintf(sb, "\tmodified:   %s/%s%s%s\n", pick(r, dirs), noun, pick(r, suffixes), pick(r, exts))
		}
		fmt.Fprintf(sb, " %d files changed, %d insertions(+), %d deletions(-)\n", r.between(1, 9), r.between(1, 400), r.between(0, 200))
	case 7: // docker / make
		for i, n := 0, r.between(3, 9); i < n; i++ {
			fmt.Fprintf(sb, "#%d [%d/%d] RUN go build -o /out/%s ./cmd/%s\n#%d DONE %d.%ds\n", i+5, i+1, n, noun, noun, i+5, r.intn(60), r.intn(10))
		}
	default: // sqlite / psql table
		fmt.Fprintf(sb, "id|name|%s|created_at\n", pick(r, fields))
		for i, n := 0, r.between(3, 12); i < n; i++ {
			name := noun + "-" + strconv.Itoa(r.spread(1, 9000))
			if r.chance(150) {
				name = pick(r, []string{"Zoë \"Z\" Müller", "東京オフィス", "O'Brien, Pat", "naïve café ☕"})
			}
			fmt.Fprintf(sb, "%d|%s|%d|2025-%02d-%02d %02d:%02d:%02d\n", r.between(1, 99999), name, r.spread(1, 100000), r.between(1, 12), r.between(1, 28), r.intn(24), r.intn(60), r.intn(60))
		}
	}
	sb.WriteByte('\n')
}
