package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/stream"
)

// ImportCmd is `convlog import`.
type ImportCmd struct {
	Paths       []string `arg:"" optional:"" sep:"none" name:"path" help:"Files, or folders to search for *.jsonl files (and Gemini CLI's session-*.json)."`
	Claude      bool     `help:"Import every transcript under Claude Code's projects folders: $CLAUDE_CONFIG_DIR/projects (a comma-separated list of folders may be given), else ~/.config/claude/projects and ~/.claude/projects."`
	Codex       bool     `help:"Import every session file of Codex: $CODEX_HOME/sessions and $CODEX_HOME/archived_sessions (CODEX_HOME is ~/.codex unless set)."`
	Gemini      bool     `help:"Import every chat Gemini CLI saved: ~/.gemini/tmp/*/chats/session-*.json and .jsonl (under $GEMINI_CLI_HOME instead of ~ when set)."`
	Dir         string   `env:"CONVLOG_DIR" default:".turso/sessions" placeholder:"DIR" help:"Folder for session files."`
	Jobs        int      `default:"0" help:"Files imported at once (default: the number of CPUs, at most 4)."`
	Format      string   `enum:"auto,claude,gemini,codex,cursor,opencode" default:"auto" help:"The agent whose streams these are: claude, gemini, codex, cursor or opencode (default: told from each file's lines)."`
	RedactFlags `embed:""`
}

// Run implements `convlog import`.
func (c *ImportCmd) Run(env *Env) error {
	softMemoryLimit(env)
	redactor, err := c.redactor(env)
	if err != nil {
		return err
	}
	paths := c.Paths
	if c.Claude {
		dirs, err := claudeProjects(env)
		if err != nil {
			return err
		}
		paths = append(paths, dirs...)
	}
	if c.Codex {
		dirs, err := codexSessions(env)
		if err != nil {
			return err
		}
		paths = append(paths, dirs...)
	}
	if c.Gemini {
		dir, err := geminiChats(env)
		if err != nil {
			return err
		}
		paths = append(paths, dir)
	}
	if len(paths) == 0 {
		return &exitError{Code: 2, Err: errors.New("import: name files or folders, or give --claude, --codex or --gemini")}
	}
	failed := 0
	report := func(err error) {
		failed++
		fmt.Fprintf(env.Stderr, "convlog: import %v\n", err)
	}
	files := collectJSONL(paths, report)
	work, copies := dropCopies(env.Ctx, groupSubagents(env.Ctx, files))
	size := make(map[string]int64, len(files))
	for _, f := range files {
		size[f.path] = f.size
	}
	var total int64
	nfiles := 0
	for _, j := range work {
		total += j.size
		for _, p := range j.subagents {
			total += size[p]
		}
		nfiles += 1 + len(j.subagents)
	}
	prog := newProgress(env.Stderr, nfiles, total)
	jobs := c.Jobs
	if jobs <= 0 {
		jobs = min(runtime.GOMAXPROCS(0), 4)
	}
	// Each job's writer fills its page cache (64 MB) in one transaction.
	record.SetupPageCache(jobs*record.BulkCachePages + 64)
	// Ctrl-C stops between files and removes the unfinished temporary file;
	// sessions already imported stay.
	ctx, stop := signal.NotifyContext(env.Ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var (
		mu      sync.Mutex
		results []record.ImportResult
		next    atomic.Int64
		wg      sync.WaitGroup
	)
	sch := env.Schema
	format, _ := stream.ParseFormat(c.Format) // kong checked it
	for range min(jobs, max(len(work), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var reuse record.ImportBuffers
			for {
				i := int(next.Add(1) - 1)
				if i >= len(work) || ctx.Err() != nil {
					return
				}
				res, err := record.Import(ctx, work[i].path, c.Dir, sch,
					record.ImportOptions{Progress: prog.addBytes, Redactor: redactor, Format: format, Reuse: &reuse, Subagents: work[i].subagents})
				for range 1 + len(work[i].subagents) {
					prog.fileDone()
				}
				mu.Lock()
				if err != nil {
					prog.clear()
					report(err)
				} else {
					results = append(results, res)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	prog.finish()

	var imported, sessions, skipped, replaced, noTimes int
	var msgs, tools int64
	for _, r := range results {
		switch {
		case r.Skipped:
			skipped += r.Files
		default:
			imported += r.Files
			sessions++
			msgs += r.Messages
			tools += r.ToolCalls
			if r.Replaced {
				replaced += r.Files
			}
			if r.NoTimes {
				noTimes++
			}
		}
	}
	fmt.Fprintf(env.Stdout, "Imported %d %s (%d updated), %d unchanged, %d failed: %d %s, %d messages, %d tool calls into %s\n",
		imported, plural(imported, "file", "files"), replaced, skipped, failed,
		sessions, plural(sessions, "session", "sessions"), msgs, tools, c.Dir)
	if noTimes > 0 {
		fmt.Fprintf(env.Stdout, "%d %s carried no timestamps: their start times and durations are unknown (NULL); each ended when its file was last modified.\n",
			noTimes, plural(noTimes, "file", "files"))
	}
	if copies > 0 {
		fmt.Fprintf(env.Stdout, "%d %s left out: %s another file's session, imported from the larger (or newer) file.\n",
			copies, plural(copies, "file", "files"), plural(copies, "a copy of", "copies of"))
	}
	if failed > 0 {
		return &exitError{Code: 1}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// claudeProjects are the folders of Claude Code's transcripts that
// --claude imports: the projects folder of each folder CLAUDE_CONFIG_DIR
// names (several may be given, separated by commas, as ccusage reads it),
// else of both places Claude Code has kept them, $XDG_CONFIG_HOME/claude
// (~/.config/claude) and ~/.claude. Reading only one of those, convlog
// would count less than ccusage on a machine that has both. A folder that
// links to the other is read once, as collectJSONL takes each file once.
func claudeProjects(env *Env) ([]string, error) {
	var bases []string
	if v := strings.TrimSpace(env.Getenv("CLAUDE_CONFIG_DIR")); v != "" {
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				bases = append(bases, b)
			}
		}
	} else {
		home, err := homeDir(env, "--claude", "CLAUDE_CONFIG_DIR")
		if err != nil {
			return nil, err
		}
		xdg := env.Getenv("XDG_CONFIG_HOME")
		if xdg == "" {
			xdg = filepath.Join(home, ".config")
		}
		bases = []string{filepath.Join(xdg, "claude"), filepath.Join(home, ".claude")}
	}
	var dirs, tried []string
	for _, b := range bases {
		dir := filepath.Join(b, "projects")
		tried = append(tried, dir)
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("--claude: no Claude Code projects folder at %s; set CLAUDE_CONFIG_DIR if it lives elsewhere", strings.Join(tried, " or "))
	}
	return dirs, nil
}

// codexSessions are the folders of Codex's session files (rollouts) that
// --codex imports: sessions, and archived_sessions where Codex moves those
// the user archives, both in $CODEX_HOME (~/.codex).
func codexSessions(env *Env) ([]string, error) {
	base := env.Getenv("CODEX_HOME")
	if base == "" {
		home, err := homeDir(env, "--codex", "CODEX_HOME")
		if err != nil {
			return nil, err
		}
		base = filepath.Join(home, ".codex")
	}
	var dirs []string
	for _, name := range []string{"sessions", "archived_sessions"} {
		dir := filepath.Join(base, name)
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("--codex: no Codex sessions folder at %s; set CODEX_HOME if Codex keeps its files elsewhere", filepath.Join(base, "sessions"))
	}
	return dirs, nil
}

// geminiChats is the folder under which Gemini CLI keeps each project's
// saved chats (tmp/<project>/chats/session-*.json): ~/.gemini/tmp, where
// $GEMINI_CLI_HOME, when set, stands for the home folder, as it does for
// Gemini CLI.
func geminiChats(env *Env) (string, error) {
	home := env.Getenv("GEMINI_CLI_HOME")
	if home == "" {
		var err error
		if home, err = homeDir(env, "--gemini", "GEMINI_CLI_HOME"); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(home, ".gemini", "tmp")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("--gemini: no Gemini CLI folder at %s; set GEMINI_CLI_HOME if Gemini CLI keeps its files elsewhere", dir)
	}
	return dir, nil
}

// importable says whether a file found in a folder is one to import: a
// JSONL file, or a chat Gemini CLI saved (session-<time>-<id>.json).
func importable(name string) bool {
	return strings.HasSuffix(name, ".jsonl") || strings.HasPrefix(name, "session-") && strings.HasSuffix(name, ".json")
}

// homeDir is $HOME, or the user's home folder; the error names the flag
// that needs it and the variable that does without it.
func homeDir(env *Env, flag, setting string) (string, error) {
	if home := env.Getenv("HOME"); home != "" {
		return home, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%s: cannot find the home folder (%v); set %s", flag, err, setting)
	}
	return home, nil
}

type foundFile struct {
	path string
	size int64
}

// importJob is a file to import, with the transcripts of its session's
// sub-agents.
type importJob struct {
	foundFile
	subagents []string
}

// groupSubagents puts each transcript of a Claude Code sub-agent
// (agent-<id>.jsonl) with its session's transcript, <session id>.jsonl,
// found beside it (before 2.1) or two folders up (<session
// id>/subagents/, since): its lines carry the session's id, and imported
// alone it would be taken for the session and replace it. A sub-agent's
// transcript whose session's is not among files is imported alone, as a
// session of its own.
func groupSubagents(ctx context.Context, files []foundFile) []importJob {
	byStem := map[string]int{} // the absolute path without .jsonl → index in jobs
	var jobs []importJob
	var agents []foundFile
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f.path), "agent-") {
			agents = append(agents, f)
			continue
		}
		if abs, err := filepath.Abs(f.path); err == nil {
			byStem[strings.TrimSuffix(abs, ".jsonl")] = len(jobs)
		}
		jobs = append(jobs, importJob{foundFile: f})
	}
	for _, a := range agents {
		session, agent := record.PeekSubagent(ctx, a.path)
		abs, err := filepath.Abs(a.path)
		if agent == "" || session == "" || strings.ContainsAny(session, `/\`) || err != nil {
			jobs = append(jobs, importJob{foundFile: a})
			continue
		}
		dir := filepath.Dir(abs)
		i, ok := byStem[filepath.Join(dir, session)]
		if !ok && filepath.Base(dir) == "subagents" && filepath.Base(filepath.Dir(dir)) == session {
			i, ok = byStem[filepath.Dir(dir)]
		}
		if !ok {
			jobs = append(jobs, importJob{foundFile: a})
			continue
		}
		jobs[i].subagents = append(jobs[i].subagents, a.path)
	}
	return jobs
}

// dropCopies keeps one of the jobs whose files make the same session
// (copies of one transcript, in both of Claude Code's folders, or in a
// backup): the one with the most bytes (its sub-agents' transcripts
// counted), then the newest, then the first by path. Imported one after
// the other, each would replace the session made of the other at every
// run, and the run would count the session as many times. Only files that
// share their name with another are read for it (a copy keeps its name),
// so that an import of 120 unchanged files still takes 100 ms, not 125.
// It returns the jobs kept and how many files it left out.
func dropCopies(ctx context.Context, jobs []importJob) (kept []importJob, copies int) {
	type ranked struct {
		job   int
		size  int64
		mtime time.Time
	}
	better := func(a, b ranked) bool {
		switch {
		case a.size != b.size:
			return a.size > b.size
		case !a.mtime.Equal(b.mtime):
			return a.mtime.After(b.mtime)
		}
		return jobs[a.job].path < jobs[b.job].path
	}
	named := map[string]int{}
	for _, j := range jobs {
		named[filepath.Base(j.path)]++
	}
	ids := make([]string, len(jobs))
	best := map[string]ranked{}
	for i, j := range jobs {
		if named[filepath.Base(j.path)] < 2 {
			continue
		}
		st, err := os.Stat(j.path)
		if err != nil {
			continue // Import says what is wrong
		}
		if ids[i] = record.ImportSessionID(ctx, j.path); ids[i] == "" {
			continue
		}
		r := ranked{i, st.Size(), st.ModTime()}
		for _, p := range j.subagents {
			// A copy made without its sub-agents' transcripts holds less.
			if st, err := os.Stat(p); err == nil {
				r.size += st.Size()
			}
		}
		if b, ok := best[ids[i]]; !ok || better(r, b) {
			best[ids[i]] = r
		}
	}
	for i, j := range jobs {
		if ids[i] != "" && best[ids[i]].job != i {
			copies += 1 + len(j.subagents)
			continue
		}
		kept = append(kept, j)
	}
	return kept, copies
}

// collectJSONL expands folders into their *.jsonl files, following symbolic
// links but not in circles: a folder met again through a link is a loop,
// reported and not entered.
func collectJSONL(paths []string, report func(error)) []foundFile {
	var out []foundFile
	seenFile := map[fileKey]bool{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			report(&record.ImportError{Path: p, Err: errors.Unwrap(err)})
			continue
		}
		if !st.IsDir() {
			if k, ok := keyOf(st); !ok || !seenFile[k] {
				seenFile[k] = true
				out = append(out, foundFile{p, st.Size()})
			}
			continue
		}
		walk(p, map[fileKey]bool{}, seenFile, &out, report)
	}
	return out
}

type fileKey struct{ dev, ino uint64 }

func walk(dir string, onPath map[fileKey]bool, seenFile map[fileKey]bool, out *[]foundFile, report func(error)) {
	st, err := os.Stat(dir)
	if err != nil {
		report(&record.ImportError{Path: dir, Err: errors.Unwrap(err)})
		return
	}
	k, _ := keyOf(st)
	if onPath[k] {
		report(&record.ImportError{Path: dir, Err: errors.New("is a link back into a folder it is in (a loop); not followed")})
		return
	}
	onPath[k] = true
	defer delete(onPath, k)
	entries, err := os.ReadDir(dir)
	if err != nil {
		report(&record.ImportError{Path: dir, Err: errors.Unwrap(err)})
		return
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p) // follows links
		if err != nil {
			if importable(e.Name()) || e.Type()&fs.ModeSymlink != 0 {
				report(&record.ImportError{Path: p, Err: errors.Unwrap(err)})
			}
			continue
		}
		if st.IsDir() {
			walk(p, onPath, seenFile, out, report)
			continue
		}
		if !importable(e.Name()) {
			continue
		}
		if fk, ok := keyOf(st); ok {
			if seenFile[fk] {
				continue
			}
			seenFile[fk] = true
		}
		*out = append(*out, foundFile{p, st.Size()})
	}
}

// progress draws a one-line progress bar on a terminal, and nothing
// elsewhere; not at all for imports that take less than half a second.
type progress struct {
	mu    sync.Mutex
	line  statusLine
	files int
	total int64
	done  int
	bytes int64
}

func newProgress(w io.Writer, files int, total int64) *progress {
	return &progress{line: newStatusLine(w, 500*time.Millisecond), files: files, total: total}
}

func (p *progress) addBytes(n int64) {
	if !p.line.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes += n
	p.draw()
}

func (p *progress) fileDone() {
	if !p.line.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.draw()
}

func (p *progress) draw() {
	if !p.line.due(false) {
		return
	}
	rate := float64(p.bytes) / time.Since(p.line.start).Seconds()
	eta := "?"
	if rate > 0 && p.total >= p.bytes {
		eta = (time.Duration(float64(p.total-p.bytes)/rate) * time.Second).Round(time.Second).String()
	}
	frac := 0.0
	if p.total > 0 {
		frac = float64(p.bytes) / float64(p.total)
	}
	const width = 24
	filled := int(frac * width)
	bar := strings.Repeat("#", min(filled, width)) + strings.Repeat(".", width-min(filled, width))
	p.line.show(fmt.Sprintf("[%s] %d/%d files, %.1f/%.1f MB, %.1f MB/s, ETA %s ",
		bar, p.done, p.files, float64(p.bytes)/1e6, float64(p.total)/1e6, rate/1e6, eta))
}

// clear removes the bar so that an error line starts on a clean line.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line.clear()
}

func (p *progress) finish() { p.clear() }
