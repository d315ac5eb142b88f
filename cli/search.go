package cli

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/convlog/convlog/archive"
	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
	cloudsync "github.com/convlog/convlog/sync"
)

// SearchCmd is `convlog search`: full-text search over every local session
// (the archive's search index), or over the synced database with --url.
type SearchCmd struct {
	Query    []string `arg:"" optional:"" sep:"none" help:"What to find: words (all of them), \"a phrase\", prefix*, AND, OR, NOT, ( ), and filters tool:NAME, in:user|assistant|thinking|input|output|error|summary|tool, status:success|error|pending, model:TEXT, agent:TEXT."`
	Limit    int      `short:"n" default:"20" placeholder:"N" help:"Show the N best hits, 20 unless given (with --sessions, the N best sessions)."`
	Since    string   `placeholder:"DATE" help:"Only hits on or after DATE: YYYY-MM-DD (UTC), an RFC 3339 time, or an age such as 7d, 2w or 12h."`
	Until    string   `placeholder:"DATE" help:"Only hits on or before DATE (YYYY-MM-DD includes that whole day)."`
	CWD      string   `name:"cwd" placeholder:"DIR" help:"Only sessions that ran in DIR or a folder below it."`
	JSON     bool     `name:"json" help:"Print one JSON object a line per hit (or session), for jq."`
	Sessions bool     `name:"sessions" help:"Print one line per matching session, with its number of hits."`
	Reindex  bool     `name:"reindex" help:"Build the search index anew (then search, if a query is given)."`

	AcrossFlags `embed:""`

	since, until int64
	short        func(string) string // a session's short id (shortIDs)
}

// Validate is called by kong, so that bad flags are usage errors.
func (c *SearchCmd) Validate() error {
	now := time.Now()
	var err error
	if c.since, err = parseBound(c.Since, now, false); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if c.until, err = parseBound(c.Until, now, true); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	if c.Limit < 1 {
		return errors.New("--limit: give a number of hits, 1 or more")
	}
	return nil
}

// shortIDs are the sessions' short ids as list prints them (record.ShortIDs:
// the shortest prefix, 8 characters at least, that names one session among
// them all, their agent session ids included), unique among all the
// archive's sessions (main.sessions), not only its folder's: over the
// folder's view, which checks each row against the folder's list, reading
// them took 1.5 ms of a 40 ms search over 600 sessions, 0.3 ms so. A
// prefix unique in the archive is unique in its folder; it is longer than
// list's only where a session of another folder begins the same way.
func shortIDs(ctx context.Context, rd archive.Reader) (func(string) string, error) {
	rows, err := rd.QueryContext(ctx, "SELECT id, agent_session_id FROM main.sessions")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var entries []record.Entry
	for rows.Next() {
		var id string
		var agent sql.NullString
		if err := rows.Scan(&id, &agent); err != nil {
			return nil, err
		}
		e := record.Entry{ID: id, Session: &record.Session{ID: id}}
		if agent.Valid {
			e.Session.AgentSessionID = &agent.String
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	short := record.ShortIDs(entries)
	byID := make(map[string]string, len(entries))
	for i, e := range entries {
		byID[e.ID] = short[i]
	}
	return func(id string) string {
		if s, ok := byID[id]; ok {
			return s
		}
		return id
	}, nil
}

// searchMap is the most of the archive that search maps: SQLite's own
// ceiling on 64-bit Linux, just under 2 GiB.
const searchMap = 0x7fff0000

// Run implements `convlog search`.
func (c *SearchCmd) Run(env *Env) error {
	text := strings.TrimSpace(strings.Join(c.Query, " "))
	if text == "" && !c.Reindex {
		return &exitError{Code: 2, Err: errors.New("nothing to search for: give a word, as in convlog search flaky")}
	}
	var q *archive.SearchQuery
	if text != "" {
		var err error
		if q, err = archive.ParseQuery(text); err != nil {
			return &exitError{Code: 2, Err: fmt.Errorf("search: %w", err)}
		}
	}
	ctx := env.Ctx
	var rd archive.Reader
	wrap := func(err error) error { return err }
	if c.URL != "" {
		remote, err := c.openRemote(env)
		if err != nil {
			return err
		}
		defer remote.Close()
		if c.Reindex {
			c.reindexed(env, c.URL, remote)
			if q == nil {
				return nil
			}
		}
		var cancel context.CancelFunc
		ctx, cancel = remote.ctx(ctx)
		defer cancel()
		rd, wrap = remote, remote.wrap
	} else {
		if err := checkDir(c.Dir); err != nil {
			return err
		}
		arch := archive.Open(c.Dir, c.Archive, env.Schema)
		shown := followUpdate(env, arch)
		if c.Reindex {
			_, err := arch.Reindex(ctx)
			shown()
			if err != nil {
				return err
			}
		}
		db, err := arch.Query(ctx, func(p error) {
			shown()
			fmt.Fprintf(env.Stderr, "convlog: warning: %v (left out)\n", p)
		})
		shown()
		if err != nil {
			return err
		}
		defer db.Close()
		if c.Reindex {
			c.reindexed(env, arch.Path, db)
			if q == nil {
				return nil
			}
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		// The archive read through a memory map: a search reads a few
		// hundred scattered pages (the index's, each hit's row), one read
		// call each otherwise. Over 1 GB of sessions, a warm search takes
		// a tenth less CPU: a rare word 55 → 49 ms, a common one 150 →
		// 137 ms (medians of 9 interleaved rounds of 5 runs). Only search
		// maps it: a query or a page of serve that reads the whole archive
		// would count every page it touched in its RSS.
		if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = "+strconv.Itoa(searchMap)); err != nil {
			return err
		}
		// One read transaction: the index and the rows it names as of one
		// moment.
		tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer tx.Rollback()
		rd = tx
	}
	if q == nil {
		return nil
	}
	some, err := c.checkIndex(ctx, env, rd)
	if err != nil {
		return wrap(err)
	}
	if c.short, err = shortIDs(ctx, rd); err != nil {
		return wrap(err)
	}
	opts := archive.SearchOptions{Limit: c.Limit, Since: c.since, Until: c.until, CWD: c.CWD}
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	color := useColor(env)
	var n int
	switch {
	case !some:
	case c.Sessions:
		n, err = c.writeSessions(ctx, rd, q, opts, out, color)
	default:
		n, err = c.writeHits(ctx, rd, q, opts, out, color)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		if errors.Is(err, archive.ErrNoIndex) {
			return c.noIndex()
		}
		return wrap(err)
	}
	if n == 0 {
		msg := "no hits for " + text
		if len(q.Unknown) > 0 {
			msg += fmt.Sprintf(" (%s is not a filter; the filters are %s:)", strings.Join(q.Unknown, ", "), strings.Join(archive.Filters, ":, "))
		}
		return &exitError{Code: 1, Err: errors.New(msg)}
	}
	return nil
}

// checkIndex says what is wrong when the database cannot be searched, and
// warns when rows are not indexed yet; some is false when there is
// nothing to search.
func (c *SearchCmd) checkIndex(ctx context.Context, env *Env, rd archive.Reader) (some bool, err error) {
	ready, err := archive.SearchReady(ctx, rd)
	if err != nil {
		return false, err
	}
	if !ready {
		// No sessions at all: nothing to find, and nothing to say about an index.
		var tables int
		if err := rd.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'messages'").Scan(&tables); err == nil && tables == 0 {
			return false, nil
		}
		if err := rd.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM messages)").Scan(&some); err == nil && !some {
			return false, nil
		}
		var made int
		if err := rd.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = '"+archive.SearchTable+"'").Scan(&made); err == nil && made > 0 && c.URL != "" {
			// The archive's own is made anew by its update; a synced
			// database's waits to be asked.
			return false, fmt.Errorf("%s has a search index of another version of convlog: make it anew with convlog search --reindex --url %s", c.URL, c.URL)
		}
		return false, c.noIndex()
	}
	queued, err := archive.QueueLength(ctx, rd)
	if err != nil {
		return false, err
	}
	if queued > 0 {
		fmt.Fprintf(env.Stderr, "convlog: warning: %d new messages or tool calls are not in the search index yet; hits in them are missing (another convlog is indexing them: search again in a moment)\n", queued)
	}
	return true, nil
}

// reindexed says that the index of where was made anew, and its size.
func (c *SearchCmd) reindexed(env *Env, where string, db archive.Reader) {
	st, err := archive.StatsOf(env.Ctx, db)
	if err != nil || st.Documents == 0 {
		fmt.Fprintf(env.Stderr, "Made the search index of %s anew.\n", where)
		return
	}
	share := ""
	if st.TextBytes > 0 {
		share = fmt.Sprintf(" (%.0f%% of the text)", 100*float64(st.IndexBytes)/float64(st.TextBytes))
	}
	fmt.Fprintf(env.Stderr, "Made the search index of %s anew: %d documents, %.1f MB of text, an index of %.1f MB%s.\n",
		where, st.Documents, float64(st.TextBytes)/1e6, float64(st.IndexBytes)/1e6, share)
}

func (c *SearchCmd) noIndex() error {
	if c.URL != "" {
		return fmt.Errorf("%s has no search index: make it with convlog search --reindex --url %s (it then stays up to date as sessions are synced)", c.URL, c.URL)
	}
	return errors.New("the archive has no search index: make it with convlog search --reindex")
}

// where says where a hit matched: user, assistant, thinking, tool input
// Bash, tool output Read, tool error Bash, error, summary.
func where(d archive.Doc) string {
	switch d.Kind {
	case archive.KindInput:
		return strings.TrimSpace("tool input " + d.Tool)
	case archive.KindOutput:
		if d.Status == "error" {
			return strings.TrimSpace("tool error " + d.Tool)
		}
		return strings.TrimSpace("tool output " + d.Tool)
	}
	return d.Kind
}

// snippetWidth is the length of a snippet, in characters.
const snippetWidth = 160

// Colours of the plain output on a terminal.
const (
	colorID    = "\x1b[33m"   // yellow, as git shows commits
	colorMatch = "\x1b[1;31m" // bold red, as grep shows matches
	colorDim   = "\x1b[2m"
	colorOff   = "\x1b[0m"
)

// renderSnippet writes spans on one line: matches in colour, or between
// [ and ] without it.
func renderSnippet(spans []archive.Span, color bool) string {
	var b strings.Builder
	for _, s := range spans {
		t := report.OneLine(s.Text)
		switch {
		case !s.Match:
			b.WriteString(t)
		case color:
			b.WriteString(colorMatch + t + colorOff)
		default:
			b.WriteString("[" + t + "]")
		}
	}
	return b.String()
}

// localTime is a time as the plain output shows it: local, to the minute.
func localTime(ms *int64) string {
	if ms == nil {
		return "-"
	}
	return time.UnixMilli(*ms).Local().Format("2006-01-02 15:04")
}

func orDash(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return report.OneLine(*s)
}

// hitHeader is the start of a hit's or a session's line: short id, time,
// folder, and the agent's own session id (what `claude --resume` takes).
func hitHeader(s *archive.SessionInfo, at *int64, color bool, short func(string) string) string {
	id := short(s.ID)
	if color {
		id = colorID + id + colorOff
	}
	line := fmt.Sprintf("%s  %s  %s", id, localTime(at), orDash(s.CWD))
	if s.AgentSessionID != nil && *s.AgentSessionID != "" {
		line += "  " + s.Agent + " session " + report.OneLine(*s.AgentSessionID)
	}
	return line
}

func (c *SearchCmd) writeHits(ctx context.Context, rd archive.Reader, q *archive.SearchQuery, o archive.SearchOptions, out io.Writer, color bool) (int, error) {
	hits, err := archive.Search(ctx, rd, q, o)
	if err != nil {
		return 0, err
	}
	for i, h := range hits {
		spans := q.Snippet(h.Doc.Text, snippetWidth)
		if c.JSON {
			if err := writeJSONLine(out, hitJSONOf(&h, spans, c.short)); err != nil {
				return 0, err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(out)
		}
		seq := "#?"
		if h.Sequence != nil {
			seq = fmt.Sprintf("#%d", *h.Sequence)
		}
		label := seq + " " + where(h.Doc)
		if color {
			label = colorDim + label + colorOff
		}
		fmt.Fprintf(out, "%s\n    %s  %s\n", hitHeader(h.Session, h.Time, color, c.short), label, renderSnippet(spans, color))
	}
	return len(hits), nil
}

func (c *SearchCmd) writeSessions(ctx context.Context, rd archive.Reader, q *archive.SearchQuery, o archive.SearchOptions, out io.Writer, color bool) (int, error) {
	found, err := archive.SearchSessions(ctx, rd, q, o)
	if err != nil {
		return 0, err
	}
	for _, s := range found {
		if c.JSON {
			if err := writeJSONLine(out, sessionHitsJSONOf(&s, c.short)); err != nil {
				return 0, err
			}
			continue
		}
		hits := "1 hit"
		if s.Hits != 1 {
			hits = fmt.Sprintf("%d hits", s.Hits)
		}
		fmt.Fprintf(out, "%s  %s\n", hitHeader(s.Session, s.Session.StartedAt, color, c.short), hits)
	}
	return len(found), nil
}

// sessionJSON is what every --json object says of its session.
type sessionJSON struct {
	SessionID      string  `json:"session_id"`
	ShortID        string  `json:"short_id"`
	AgentSessionID *string `json:"agent_session_id"`
	Agent          string  `json:"agent"`
	Model          *string `json:"model"`
	CWD            *string `json:"cwd"`
}

func sessionJSONOf(s *archive.SessionInfo, short func(string) string) sessionJSON {
	return sessionJSON{SessionID: s.ID, ShortID: short(s.ID), AgentSessionID: s.AgentSessionID, Agent: s.Agent, Model: s.Model, CWD: s.CWD}
}

// hitJSON is a hit as --json prints it, one object a line.
type hitJSON struct {
	sessionJSON
	Sequence  *int64  `json:"sequence"`
	Timestamp *int64  `json:"timestamp"`
	Time      *string `json:"time"`
	Where     string  `json:"where"`
	In        string  `json:"in"`
	Tool      *string `json:"tool"`
	Status    *string `json:"status"`
	Snippet   string  `json:"snippet"`
	Score     float64 `json:"score"`
}

func hitJSONOf(h *archive.Hit, spans []archive.Span, short func(string) string) *hitJSON {
	j := &hitJSON{
		sessionJSON: sessionJSONOf(h.Session, short),
		Sequence:    h.Sequence, Timestamp: h.Time, Time: isoOf(h.Time), Where: where(h.Doc), In: h.Doc.Kind,
		Snippet: renderSnippet(spans, false), Score: h.Score,
	}
	if h.Doc.Tool != "" {
		j.Tool = &h.Doc.Tool
	}
	if h.Doc.Status != "" {
		j.Status = &h.Doc.Status
	}
	return j
}

// sessionHitsJSON is a session as --sessions --json prints it.
type sessionHitsJSON struct {
	sessionJSON
	StartedAt *int64  `json:"started_at"`
	Started   *string `json:"started"`
	Hits      int64   `json:"hits"`
	LastHitAt *int64  `json:"last_hit_at"`
	BestScore float64 `json:"best_score"`
}

func sessionHitsJSONOf(sh *archive.SessionHits, short func(string) string) *sessionHitsJSON {
	s := sh.Session
	return &sessionHitsJSON{
		sessionJSON: sessionJSONOf(s, short),
		StartedAt:   s.StartedAt, Started: isoOf(s.StartedAt), Hits: sh.Hits, LastHitAt: sh.Last, BestScore: sh.Best,
	}
}

func isoOf(ms *int64) *string {
	if ms == nil {
		return nil
	}
	s := report.ISOTime(*ms)
	return &s
}

func writeJSONLine(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// openRemote opens the database of --url for searching, after bringing
// its search index up to date (making it anew with --reindex).
func (c *SearchCmd) openRemote(env *Env) (*acrossDB, error) {
	ctx := env.Ctx
	t := cloudsync.Target{URL: c.URL, Token: env.Getenv("TURSO_AUTH_TOKEN")}
	if t.IsFile() {
		err := archive.KeepFileSearch(ctx, t.Display(), c.Reindex)
		if err != nil && !errors.Is(err, archive.ErrNoIndex) {
			return nil, fmt.Errorf("%s: %w", t.Display(), err)
		}
	}
	db, err := c.open(env)
	if err != nil {
		return nil, err
	}
	if t.IsFile() {
		return db, nil
	}
	qctx, cancel := db.ctx(ctx)
	defer cancel()
	ok, err := archive.HasFTS5(qctx, db)
	if err != nil {
		db.Close()
		return nil, db.wrap(err)
	}
	if !ok {
		db.Close()
		return nil, fmt.Errorf("%s cannot be searched: the server has no full-text search (SQLite's FTS5), which convlog search needs; search the local sessions instead (without --url), or sync to a libSQL server that has FTS5, such as Turso Cloud", t.Display())
	}
	err = archive.KeepRemoteSearch(ctx, db.DB, c.Reindex)
	switch {
	case errors.Is(err, archive.ErrNoIndex):
	case err != nil && c.Reindex:
		db.Close()
		return nil, fmt.Errorf("make the search index of %s: %w", t.Display(), db.wrap(err))
	case err != nil:
		// A read-only token: search what is indexed, and say what is not.
		fmt.Fprintf(env.Stderr, "convlog: warning: could not index the rows synced since the last search: %v\n", db.wrap(err))
	}
	return db, nil
}
