package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"syscall"
	"time"

	"github.com/convlog/convlog/live"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/relay"
	"github.com/convlog/convlog/stream"
)

// TeeCmd is `convlog tee`: the filter at the heart of convlog.
type TeeCmd struct {
	Dir          string `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder for session files (created on demand, mode 0700)."`
	SessionID    string `name:"session-id" placeholder:"ID" help:"Session id to use instead of a new random UUID."`
	Model        string `placeholder:"M" help:"Model, when the stream does not say (its system/init line wins)."`
	Mode         string `enum:"auto,interactive" default:"auto" help:"Agent mode to record: auto or interactive."`
	Format       string `enum:"auto,claude,gemini,codex,cursor,opencode" default:"auto" help:"The agent whose stream this is: claude, gemini, codex, cursor or opencode (default: told from its lines)."`
	PromptLength *int64 `name:"prompt-length" placeholder:"N" help:"Length of the prompt in characters (default: the first user text seen)."`
	Strict       bool   `help:"Exit 1 when anything could not be logged."`
	Quiet        bool   `short:"q" help:"Print nothing on stderr but errors and warnings about lost data."`
	NoLog        bool   `name:"no-log" help:"Pass through only: no session file, nothing written anywhere."`
	RedactFlags  `embed:""`
	NoSync       bool   `name:"no-sync" help:"Keep the session local even when TURSO_DATABASE_URL and TURSO_AUTH_TOKEN are set."`
	Summary      string `env:"CONVLOG_SUMMARY,GITHUB_STEP_SUMMARY" placeholder:"FILE" help:"At the end, append a Markdown summary of the session to FILE (in GitHub Actions, the job summary)."`
	NoSummary    bool   `name:"no-summary" env:"CONVLOG_NO_SUMMARY" help:"Write no summary, whatever --summary or the environment says."`

	// Progress narrates the session on stderr (progress.go).
	Progress ProgressFlag `env:"CONVLOG_PROGRESS" placeholder:"full" help:"Tell the session on stderr as it runs: its start, each tool call and its result, the assistant's text (one line each; --progress=full for all of it), its end. In GitHub Actions, each turn is a collapsible group and each failed call a warning."`

	// Relay makes this the pass-through process of another convlog tee
	// (package relay).
	Relay bool `hidden:""`
}

// stallLimit is CONVLOG_STALL_LIMIT, for tests of a stuck database: how
// long the pass-through waits for logging that does not take its input.
// Zero leaves the default.
func stallLimit(env *Env) time.Duration {
	d, _ := time.ParseDuration(env.Getenv("CONVLOG_STALL_LIMIT"))
	return d
}

// graceAfterSignal is how long the first SIGINT/SIGTERM lets the input drain
// before the session is finalised anyway.
const graceAfterSignal = 3 * time.Second

// Run implements `convlog tee`: open the session, start the pass-through
// and the logging, wait for the input to end (or a signal), finish the
// session, then summarise and sync it.
func (c *TeeCmd) Run(env *Env) error {
	if c.Relay {
		err := relay.Main(env.Stderr, stallLimit(env))
		if errors.Is(err, relay.ErrByHand) {
			return &exitError{Code: 2, Err: err}
		}
		return err
	}
	started := time.Now()
	softMemoryLimit(env)
	tuneGC := teeGC(env)
	sigs := prepareProcess(env)
	defer signal.Stop(sigs)
	if c.NoLog {
		return passThrough(env, sigs)
	}
	t, err := c.openSession(env, started, tuneGC)
	var usage *exitError
	if errors.As(err, &usage) && usage.Code == 2 {
		// A bad flag must not cost the agent its output: say so now, pass
		// the input through unlogged, and fail at the end.
		fmt.Fprintf(env.Stderr, "convlog: %v; the input is passed through unlogged.\n", usage.Err)
		passThrough(env, sigs)
		return &exitError{Code: 2}
	}
	if err != nil {
		return err
	}
	t.start(env)
	caught := t.wait(sigs, c.Quiet)
	t.finish()
	c.appendSummary(env, t.finished, t.warn) // summary.go
	// Sync to the shared database, or the seed's warning that there is
	// none (sync.go); never a change of exit status.
	c.syncAtEOF(env, t.finished, caught != nil, sigs)

	if s, ok := caught.(syscall.Signal); ok {
		return &exitError{Code: 128 + int(s)}
	}
	if c.Strict && t.warn.count > 0 {
		return &exitError{Code: 1}
	}
	return nil
}

// PassOnAfterUsageError is what `convlog tee` does when its command line
// cannot be parsed (an unknown flag, a bad --mode): the input is still
// passed through, unlogged, so that the agent upstream is not killed by
// SIGPIPE. The caller has printed the error and exits 2.
func PassOnAfterUsageError(env *Env) {
	fmt.Fprintln(env.Stderr, "convlog: the input is passed through unlogged.")
	sigs := prepareProcess(env)
	defer signal.Stop(sigs)
	passThrough(env, sigs)
}

// prepareProcess sets up what tee needs of its process and returns the
// signals that end a session.
func prepareProcess(env *Env) chan os.Signal {
	// No record.SetupPageCache: setting the slots up touches each one, which
	// cost a short session 5 ms of its 65 ms, and the writer's one
	// connection keeps its pages to the end, so it gains about 4% on a
	// 1 GB stream only.
	// A closed stdout must give EPIPE, not kill convlog: it keeps reading so
	// that the agent upstream is not killed by SIGPIPE in turn.
	signal.Ignore(syscall.SIGPIPE)
	ignoreFileSizeLimit()
	sigs := make(chan os.Signal, 4)
	// SIGHUP (a closed terminal, a dropped ssh session) ends a session as
	// SIGTERM does, rather than kill convlog with the last lines unlogged.
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	return sigs
}

// teeLog is one run of `convlog tee` with logging, from its session
// file to the end of its input.
type teeLog struct {
	warn  *warner
	w     *record.Writer // nil when the session file could not be made
	plain *plainTextCheck
	proc  *stream.Processor
	live  *live.Narrator // --progress; nil without

	out       *os.File // stdout, when it is a file: closed at the end of the input
	gate      *passGate
	copier    *stream.Copier
	handover  *relay.Handover // nil: tee passes the input through itself
	stopRelay func()
	logger    *stream.Logger
	store     *stream.Async // in front of w, when there is one
	abort     chan struct{} // closed: the logger stops at once
	abortOnce func()
	copyDone  chan error
	logDone   <-chan struct{}

	// When the session ends at once: the lines passed through by then, if
	// they can be known (stopAtOnce).
	stopped    bool
	passed     int64
	passedLost error

	finished string // the session file, once finished: it is synced at the end
}

// openSession makes the session file (or, when it cannot be made, warns and
// goes on with a sink that only counts) and the processor that fills it.
func (c *TeeCmd) openSession(env *Env, started time.Time, tuneGC func()) (*teeLog, error) {
	redactor, err := c.redactor(env)
	if err != nil {
		return nil, err
	}
	t := &teeLog{warn: &warner{w: env.Stderr}}
	id := c.SessionID
	if id == "" {
		id = record.NewSessionID()
	} else if !record.IsPlainID(id) {
		return nil, &exitError{Code: 2, Err: fmt.Errorf("--session-id %q: use letters, digits, '-' and '_' only (it names a file)", id)}
	}
	if !c.Quiet {
		fmt.Fprintf(env.Stderr, "Session ID: %s\n", id)
	}

	meta := record.Meta{
		ID: id, StartedAt: started.UnixMilli(), Model: c.Model, Mode: c.Mode, PromptLength: -1,
		GitHubRunID: env.Getenv("GITHUB_RUN_ID"), GitHubRepo: env.Getenv("GITHUB_REPOSITORY"),
		GitHubRef: env.Getenv("GITHUB_REF"), Source: "tee", SourceFormat: "stream-json",
	}
	if c.PromptLength != nil {
		meta.PromptLength = *c.PromptLength
	}
	meta.CWD, _ = os.Getwd()

	var sink stream.Sink = countingSink{}
	w, err := record.Create(env.Ctx, c.Dir, env.Schema, meta)
	if err != nil {
		t.warn.Printf("cannot create the session file in %s: %v; %s. The input is passed through unlogged.", c.Dir, err, hint(err, c.Dir))
	} else {
		w.Warn = func(err error) {
			t.warn.Once("write", "cannot write to session file %s: %v; %s. The input is still passed through; lines that cannot be logged are counted.", w.Path, err, hint(err, c.Dir))
		}
		t.w = w
		// The session file is written on a goroutine of its own, while the
		// next lines are parsed (stream.Async says what that gains).
		t.store = stream.NewAsync(w, func(f *stream.Facts) {
			w.Commit(f)
			tuneGC()
		}, w.Pause)
		sink = t.store
		if !c.Quiet {
			fmt.Fprintf(env.Stderr, "Database created at: %s\n", w.Path)
		}
	}
	t.plain = &plainTextCheck{Sink: sink, warn: t.warn}
	t.proc = stream.NewProcessor(t.plain)
	t.proc.Redactor = redactor
	t.proc.Format, _ = stream.ParseFormat(c.Format) // kong checked it
	t.live = c.narrate(env, t.proc, started, meta.CWD)
	return t, nil
}

// plainTextLines is how many lines of plain text, with no JSON among them,
// make the input not an agent's JSON stream: wrappers (nvm, shells) print a
// banner line or two before it.
const plainTextLines = 5

// plainTextCheck passes what is logged on to the session's sink, and warns
// once when the input is plain text rather than an agent's JSON lines:
// `claude -p "…"` without --output-format stream-json --verbose is stored
// as lines of invalid JSON, which no one would notice otherwise.
type plainTextCheck struct {
	stream.Sink
	warn  *warner
	lines int  // non-empty lines seen, none of them JSON
	done  bool // JSON was seen, or the warning given
}

func (p *plainTextCheck) Message(m *stream.Message) {
	if !p.done && len(m.Raw) > 0 {
		if m.Subtype != "invalid_json" {
			p.done = true
		} else if p.lines++; p.lines >= plainTextLines {
			p.say()
		}
	}
	p.Sink.Message(m)
}

// end is called when the input has ended: a short stream of plain text
// gets its warning then.
func (p *plainTextCheck) end() {
	if !p.done && p.lines > 0 {
		p.say()
	}
}

func (p *plainTextCheck) say() {
	p.done = true
	p.warn.Note("the input is plain text, not an agent's JSON lines: it is logged line by line as type error/invalid_json. " +
		"Claude Code writes JSON lines with claude -p \"…\" --output-format stream-json --verbose " +
		"(Gemini CLI: --output-format stream-json; Codex: codex exec --json). The input is passed through unchanged.")
}

// start starts the pass-through (the Copier, and on Linux the process it
// may hand over to) and the logging.
func (t *teeLog) start(env *Env) {
	in, _ := env.Stdin.(*os.File)
	out, _ := env.Stdout.(*os.File)
	t.out = out
	if in != nil {
		stream.GrowPipe(in)
	}
	if out != nil {
		stream.GrowPipe(out)
	}
	t.gate = newPassGate(env.Stdout)
	t.copier = &stream.Copier{
		In: env.Stdin, Out: t.gate,
		OutErr: func(err error) {
			t.warn.Printf("writing to stdout: %v; the rest of the input is logged but not passed on.", err)
		},
	}
	t.copier.StallLimit = stallLimit(env)
	t.stopRelay = func() {}
	if env.Exe != "" && in != nil && out != nil {
		// A long session is passed through by a process of its own.
		t.handover = relay.NewHandover(env.Stdin, t.gate)
		t.copier.In, t.copier.Out, t.copier.Now = t.handover, t.handover, t.handover.Now
	}
	// Reads waiting for the logger: with reads packed into the copier's
	// buffers, this is what bounds a stream of small lines (4096 reads is
	// four seconds of a line a millisecond) before the buffers' 8 MiB do.
	chunks := make(chan *stream.Chunk, 4096)
	t.abort = make(chan struct{})
	t.abortOnce = sync.OnceFunc(t.stopAtOnce)
	t.logger = &stream.Logger{Proc: t.proc, Abort: t.abort, Commit: func(*stream.Facts) {}}
	if t.store != nil {
		t.logger.Commit, t.logger.Pause = t.store.Commit, t.store.Pause
		// Asked of the file, not of the writer, which another goroutine
		// uses: the sinks in between (Async, the plain-text check, the
		// narrator) would hide the writer's Room, and without it a burst
		// on a nearly full disk came as batches too large to fit, and
		// sometimes nothing was stored.
		path := t.w.Path
		t.logger.Room = func() int64 { return record.RoomFor(path) }
	}
	t.logDone = t.logger.Start(chunks)
	if t.handover != nil {
		t.stopRelay = relay.Start(relay.Process{Exe: env.Exe, In: in, Out: out, Stderr: env.Stderr,
			Setting: env.Getenv("CONVLOG_HANDOVER")}, t.handover, t.logger)
	}
	t.copyDone = make(chan error, 1)
	go func() { t.copyDone <- t.copier.Run(chunks) }()
}

// wait waits for the input to end and the logger to take it all. The
// first signal lets the input drain for graceAfterSignal, and the logger
// finish; a second one, or the end of the grace before the end of the
// input, stops the session at once. A first signal after the end of the
// input is no second one. It returns the signal caught, if any.
func (t *teeLog) wait(sigs <-chan os.Signal, quiet bool) (caught os.Signal) {
	copyDone := t.copyDone
	grace := time.NewTimer(time.Hour)
	grace.Stop()
	defer grace.Stop()
	for {
		select {
		case err := <-copyDone:
			copyDone = nil
			grace.Stop()
			if err != nil {
				t.warn.Printf("reading stdin: %v; the session ends here.", err)
			}
			t.endOutput()
		case <-t.logDone:
			t.stopRelay()
			if caught == nil {
				// A signal that came with the end of the input (Ctrl-C
				// reaches the agent too, which then stops) still ends
				// the session as one.
				caught = signalled(sigs)
			}
			return caught
		case s := <-sigs:
			if caught != nil {
				t.abortOnce()
				continue
			}
			// First signal: the agent (same process group) is stopping
			// too; let its last lines through, but not for long.
			caught = s
			if !quiet {
				fmt.Fprintf(t.warn.w, "convlog: %s: finishing the session (again to stop at once)\n", signalName(s))
			}
			if copyDone != nil {
				grace.Reset(graceAfterSignal)
			}
		case <-grace.C:
			t.abortOnce()
		}
	}
}

// stopAtOnce ends the session now: nothing more is passed through, by tee or
// its pass-through process, and the logger stops. finish counts the lines
// passed through by then and not logged as dropped.
func (t *teeLog) stopAtOnce() {
	t.stopped = true
	passed := t.gate.close()
	if t.handover != nil {
		p, after, err := t.handover.Halt()
		if err != nil {
			t.passedLost = err
		}
		passed.Bytes += p.Bytes
		passed.Newlines += p.Newlines
		if p.Bytes > 0 && !after {
			// The process wrote last.
			passed.LastNL = p.LastNL
		}
	}
	t.passed = passed.lines()
	close(t.abort)
}

// endOutput closes stdout once all the input has been passed through, so
// that the reader sees the end of the stream at once and does not wait for
// the session to be finished, summarised and synced. The pass-through
// process, which holds stdout too, is told to go if it never took over.
func (t *teeLog) endOutput() {
	t.stopRelay()
	if t.out != nil {
		t.out.Close()
	}
}

// finish writes the session's totals and end, and warns of whatever could
// not be logged.
func (t *teeLog) finish() {
	t.plain.end()
	facts := t.proc.Totals()
	if t.stopped && t.passedLost == nil {
		// Lines passed through that the logger never got to.
		if n := t.passed - (facts.Lines + facts.DroppedByInput); n > 0 {
			t.proc.Skip(n)
		}
	}
	dropped := facts.DroppedByInput
	if t.w != nil {
		t.store.Close()
		if err := t.w.Finish(facts, time.Now().UnixMilli()); err != nil {
			t.warn.Printf("closing session file %s: %v", t.w.Path, err)
		} else {
			t.finished = t.w.Path
		}
	}
	t.live.End(facts, t.finished)
	if t.w != nil {
		dropped += t.w.Dropped
		if _, err := os.Stat(t.w.Path); err != nil {
			t.warn.Printf("session file %s was removed while convlog was running; this session is lost.", t.w.Path)
		}
	} else {
		dropped = facts.Lines + facts.DroppedByInput
	}
	if t.handover != nil && t.handover.Cut.Load() && !t.stopped {
		if err := t.handover.Lost(); err != nil {
			t.warn.Printf("the pass-through process ended unexpectedly; convlog passed the rest of the input through itself, but what that process had read and not yet written out may be lost (%v).", err)
		} else {
			t.warn.Note("the pass-through process ended unexpectedly; convlog passed the rest of the input through itself, from the byte that process had reached: nothing was lost.")
		}
	}
	if t.passedLost != nil {
		t.warn.Printf("the session was stopped at once, and the lines its pass-through process passed on cannot be counted (%v): lines_dropped may be short.", t.passedLost)
	}
	if t.copier.SkippedRuns > 0 {
		t.warn.Printf("the session file could not keep up (blocked for over %s); some input was passed through but not logged.", t.copier.StallLimit)
	}
	if dropped > 0 {
		t.warn.Printf("%d of %d input lines were not logged.", dropped, facts.Lines+facts.DroppedByInput)
	}
}

// passThrough is `tee --no-log`: the same copier, so the same behaviour on a
// closed stdout, with chunks dropped as soon as they are written out.
func passThrough(env *Env, sigs <-chan os.Signal) error {
	copier := &stream.Copier{In: env.Stdin, Out: env.Stdout, OutErr: func(err error) {
		fmt.Fprintf(env.Stderr, "convlog: warning: writing to stdout: %v; the rest of the input is read but not passed on.\n", err)
	}}
	chunks := make(chan *stream.Chunk, 64)
	go func() {
		for ch := range chunks {
			ch.Release()
		}
	}()
	done := make(chan error, 1)
	go func() { done <- copier.Run(chunks) }()
	var s os.Signal
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
		// As in wait: Ctrl-C with the end of the input is a Ctrl-C.
		s = signalled(sigs)
	case s = <-sigs:
	}
	if sig, ok := s.(syscall.Signal); ok {
		return &exitError{Code: 128 + int(sig)}
	}
	return nil
}

// signalled returns a signal that reached the process by now, if any. A
// look at sigs alone can miss a Ctrl-C that came with the end of the
// input (it reaches the agent too, which stops), as the runtime hands it
// on a little later, and tee would exit 0, not 130.
func signalled(sigs <-chan os.Signal) os.Signal {
	flushSignals()
	select {
	case s := <-sigs:
		return s
	default:
		return nil
	}
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "interrupted"
	case syscall.SIGHUP:
		return "hung up"
	}
	return "terminated"
}

// softMemoryLimit keeps the garbage collector close to what is live when a
// huge line passes (a 64 MiB line is held in several copies at once): by
// default Go lets the heap grow to twice the live data first. Streams of
// ordinary lines stay far below the limit and never notice it. GOMEMLIMIT,
// when set, wins.
func softMemoryLimit(env *Env) {
	if env.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}
}

// teeGC returns what tee calls after each commit. It sets the collector's
// headroom, how far the heap may grow past what the last collection found
// live, to half the live heap (GOGC=50) but never under gcHeadroom.
//
// Half, not Go's default of all of it: tee stays in the background of a
// session for its whole length, its heap is mostly buffers that live for
// one commit, and a long stream's peak RSS drops by about 10 MB.
//
// At least gcHeadroom: every collection stops the world, and a stop of the
// world waits for the logger's thread of idle priority to get a CPU
// (stream.Logger.Start), which held the pass-through up by 0.5–3.6 ms each
// time. A stream of 10 KB lines a millisecond has about 1 MB live and
// allocates about 0.6 MB a second; at GOGC=50 (Go's smallest goal is then
// 2 MB) that was a collection every 0.7 s. With 8 MiB of room it collects
// every ten seconds or so, and the p99 latency of its lines went from 2.01×
// tee's to 1.63× (medians of 30 interleaved rounds; 23 of the 30 faster).
//
// An import, which wants its time back, keeps Go's default. GOGC, when set,
// wins.
func teeGC(env *Env) func() {
	if env.Getenv("GOGC") != "" {
		return func() {}
	}
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := 0
	tune := func() {
		metrics.Read(live)
		if live[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		if p := gcPercent(live[0].Value.Uint64()); p != set {
			debug.SetGCPercent(p)
			set = p
		}
	}
	tune()
	return tune
}

// gcHeadroom is the least room teeGC gives the heap between collections.
const gcHeadroom = 8 << 20

// gcPercent is the GOGC for a live heap of live bytes: room for half of it,
// or gcHeadroom. Go's smallest goal is 4 MB×GOGC/100, so the 200 that a
// small heap gets gives it 8 MB. Before the first collection live is 0.
func gcPercent(live uint64) int {
	if live == 0 {
		return 200
	}
	return int(min(max(100*gcHeadroom/live, 50), 200))
}

// countingSink stands in for the session file when it cannot be created.
type countingSink struct{}

func (countingSink) Message(*stream.Message)       {}
func (countingSink) ToolUse(*stream.ToolUse)       {}
func (countingSink) ToolResult(*stream.ToolResult) {}

// warner prints warnings as `convlog: warning: …`, each kind once.
type warner struct {
	mu    sync.Mutex
	w     io.Writer
	seen  map[string]bool
	count int
}

func (w *warner) Printf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count++
	fmt.Fprintf(w.w, "convlog: warning: "+format+"\n", args...)
}

// Note prints a warning that is advice, not a loss of data: it does not
// change the exit status under --strict.
func (w *warner) Note(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.w, "convlog: warning: %s\n", msg)
}

func (w *warner) Once(kind, format string, args ...any) {
	w.mu.Lock()
	if w.seen[kind] {
		w.count++
		w.mu.Unlock()
		return
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[kind] = true
	w.mu.Unlock()
	w.Printf(format, args...)
}

// hint says what to do about a failure to write a session file.
func hint(err error, dir string) string {
	switch record.TroubleOf(err) {
	case record.CannotWrite:
		return fmt.Sprintf("check that %s is writable, or log elsewhere with --dir or CONVLOG_DIR", filepath.Clean(dir))
	case record.NoSpace:
		return "free some disk space, or log elsewhere with --dir or CONVLOG_DIR"
	case record.IOTrouble:
		return "the disk may be full or over a file size limit: free some space, or log elsewhere with --dir or CONVLOG_DIR"
	case record.LockedOut:
		return "another process holds the file locked; close it"
	}
	if errors.Is(err, record.ErrExists) {
		return "choose another --session-id"
	}
	return "check the folder, or log elsewhere with --dir or CONVLOG_DIR"
}
