package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

//go:embed templates/pages.html
var templateFS embed.FS

// pages are the web app's templates, parsed when first needed rather than
// at every command's start.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"minus": func(d, v float64) float64 { return v - d },
	}).ParseFS(templateFS, "templates/pages.html"))
})

// Server is convlog serve's web app: the list of sessions, each session's
// page (live while it runs) and the statistics. It only reads: no request
// changes anything.
type Server struct {
	Store Store
	// Addr is the address the server listens on, host:port; requests for
	// any other host are refused, so that a web page elsewhere cannot
	// reach the server under a name of its own (DNS rebinding).
	Addr string
	// Token, when set, is asked of every request: in the query (?token=),
	// a cookie that a first request with it sets, or an Authorization
	// header.
	Token string
	// Poll is how often a live page's session file is read for new rows.
	Poll time.Duration
	// Loc is the time zone of the list and the stats.
	Loc *time.Location

	hosts   map[string]bool
	anyIP   bool // listening on every address: any IP literal with the port
	port    string
	cookie  string
	handler http.Handler
}

// NewServer serves store on addr.
func NewServer(store Store, addr, token string) (*Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Store: store, Addr: addr, Token: token, Poll: 200 * time.Millisecond, Loc: time.Local,
		hosts: map[string]bool{}, port: port, cookie: "convlog_token_" + port}
	add := func(h string) {
		s.hosts[strings.ToLower(net.JoinHostPort(h, port))] = true
		if port == "80" {
			s.hosts[strings.ToLower(h)] = true
		}
	}
	add(strings.Trim(host, "[]"))
	ip := net.ParseIP(strings.Trim(host, "[]"))
	switch {
	case ip != nil && ip.IsLoopback(), strings.EqualFold(host, "localhost"):
		add("localhost")
		add("127.0.0.1")
		add("::1")
	case ip != nil && ip.IsUnspecified(), host == "":
		s.anyIP = true
		add("localhost")
		if name, err := os.Hostname(); err == nil {
			add(name)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.list)
	mux.HandleFunc("GET /stats", s.stats)
	mux.HandleFunc("GET /s/{id}", s.session)
	mux.HandleFunc("GET /s/{id}/events", s.events)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, http.StatusNotFound, "Not found", "There is no page at this address.")
	})
	s.handler = mux
	return s, nil
}

// IsLoopback says whether addr listens on the loopback interface only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// hostAllowed says whether a request's Host names this server.
func (s *Server) hostAllowed(host string) bool {
	h := strings.ToLower(host)
	if s.hosts[h] {
		return true
	}
	if s.anyIP {
		name, port, err := net.SplitHostPort(h)
		if err != nil {
			name, port = h, "80"
		}
		return port == s.port && net.ParseIP(strings.Trim(name, "[]")) != nil
	}
	return false
}

func (s *Server) tokenOK(r *http.Request) (ok, fromQuery bool) {
	if s.Token == "" {
		return true, false
	}
	same := func(t string) bool { return subtle.ConstantTimeCompare([]byte(t), []byte(s.Token)) == 1 }
	if t := r.URL.Query().Get("token"); t != "" {
		return same(t), true
	}
	if c, err := r.Cookie(s.cookie); err == nil && same(c.Value) {
		return true, false
	}
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && same(a) {
		return true, false
	}
	return false, false
}

// ServeHTTP checks every request (method, host, token), sets the headers
// that keep pages to themselves, and routes it.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &timing{ResponseWriter: rw, start: time.Now()}
	h := w.Header()
	h.Set("Content-Security-Policy", ServeCSP())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "convlog serve only reads: GET and HEAD only", http.StatusMethodNotAllowed)
		return
	}
	if !s.hostAllowed(r.Host) {
		http.Error(w, "unknown host "+strconv.Quote(r.Host)+": this server answers to "+s.Addr, http.StatusMisdirectedRequest)
		return
	}
	ok, fromQuery := s.tokenOK(r)
	if !ok {
		http.Error(w, "a token is needed: open the address that convlog serve printed (with ?token=…)", http.StatusUnauthorized)
		return
	}
	if fromQuery && !strings.HasSuffix(r.URL.Path, "/events") {
		// The token goes into a cookie, and out of the address bar and
		// the history.
		http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: s.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q := r.URL.Query()
		q.Del("token")
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	s.handler.ServeHTTP(w, r)
}

// timing says in a Server-Timing header how long the server took to the
// response's first byte (pages are made whole before they are written).
type timing struct {
	http.ResponseWriter
	start time.Time
	wrote bool
}

func (t *timing) WriteHeader(code int) {
	if !t.wrote {
		t.wrote = true
		t.Header().Set("Server-Timing", fmt.Sprintf("app;dur=%.2f", float64(time.Since(t.start).Microseconds())/1000))
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *timing) Write(p []byte) (int, error) {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	return t.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (to flush an
// event stream).
func (t *timing) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// layout is what every page of the app has.
type layout struct {
	Title  string
	CSS    template.CSS
	Class  string
	Source string
}

func (s *Server) layout(title, class string) layout {
	return layout{Title: title, CSS: template.CSS(styleCSS), Class: class, Source: s.Store.Describe()}
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "convlog: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, status int, heading, msg string) {
	s.render(w, status, "error", struct {
		layout
		Heading, Message string
	}{s.layout("convlog: "+heading, "error"), heading, msg})
}

// listRow is a row of the list page, as text.
type listRow struct {
	ID, Short, Started, StartedFull, Model, Agent, Outcome, Result string
	Duration, Messages, ToolCalls, Cost, CostNote, Prompt          string
	Errors                                                         int64
	Running                                                        bool
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rows, err := s.Store.Rows(ctx)
	if err != nil {
		s.errorPage(w, http.StatusInternalServerError, "The sessions cannot be read", err.Error())
		return
	}
	f := parseFilter(r.URL.Query())
	models, agents, results := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var matched []*Row
	running := map[*Row]bool{}
	nRunning := 0
	for _, row := range rows {
		outcome := row.View.Outcome
		if row.S.Incomplete() && s.Store.IsRunning(row) {
			running[row] = true
			outcome = "running"
			nRunning++
		}
		if row.S.Model != nil {
			models[*row.S.Model] = true
		}
		if row.Agent != "" {
			agents[row.Agent] = true
		}
		results[outcome] = true
		if row.S.ResultSubtype != nil {
			results[*row.S.ResultSubtype] = true
		}
		if f.match(row, outcome, s.Loc) {
			matched = append(matched, row)
		}
	}
	if f.Q != "" {
		// The text filter needs every candidate's prompt.
		if err := s.Store.Prompts(ctx, matched); err != nil {
			s.errorPage(w, http.StatusInternalServerError, "The prompts cannot be read", err.Error())
			return
		}
		q := strings.ToLower(f.Q)
		matched = slices.DeleteFunc(matched, func(row *Row) bool {
			p := row.Prompt.Load()
			return p == nil || !strings.Contains(strings.ToLower(*p), q)
		})
	}
	if f.Sort != "started" || !f.Desc {
		matched = slices.Clone(matched)
		sortRows(matched, f.Sort, f.Desc)
	}
	start := min(f.Page*listPage, len(matched))
	end := min(start+listPage, len(matched))
	shown := matched[start:end]
	if err := s.Store.Prompts(ctx, shown); err != nil {
		s.errorPage(w, http.StatusInternalServerError, "The prompts cannot be read", err.Error())
		return
	}
	data := struct {
		layout
		F                       ListFilter
		Models, Agents, Results []string
		Rows                    []listRow
		Total, Matched, Running int
		First, Last             int
		Zone                    string
		SortURL, Arrow          map[string]string
		Prev, Next              string
	}{layout: s.layout("convlog sessions", "list"), F: f, Models: sortedKeys(models), Agents: sortedKeys(agents),
		Results: sortedKeys(results), Total: len(rows), Matched: len(matched), Running: nRunning, First: start + 1, Last: end,
		Zone: zoneName(s.Loc), SortURL: map[string]string{}, Arrow: map[string]string{}}
	for _, col := range []string{"started", "duration", "errors", "cost"} {
		desc := true
		if f.Sort == col {
			desc = !f.Desc
			data.Arrow[col] = map[bool]string{true: " ↓", false: " ↑"}[f.Desc]
		}
		data.SortURL[col] = f.values(func(g *ListFilter) { g.Sort, g.Desc, g.Page = col, desc, 0 })
	}
	if start > 0 {
		data.Prev = f.values(func(g *ListFilter) { g.Page-- })
	}
	if end < len(matched) {
		data.Next = f.values(func(g *ListFilter) { g.Page++ })
	}
	for _, row := range shown {
		data.Rows = append(data.Rows, s.listRow(row, running[row]))
	}
	s.render(w, http.StatusOK, "list", data)
}

func (s *Server) listRow(row *Row, running bool) listRow {
	v := row.View
	lr := listRow{ID: row.S.ID, Short: shortID(row.S.ID), Model: deref(row.S.Model), Agent: row.Agent,
		Outcome: v.Outcome, Result: v.Result, Errors: row.Errors, Running: running, Duration: "–", Cost: "–"}
	if running {
		lr.Outcome, lr.Result = "running", "running"
	}
	if row.S.StartedAt != nil {
		t := time.UnixMilli(*row.S.StartedAt).In(s.Loc)
		lr.Started, lr.StartedFull = t.Format("2006-01-02 15:04"), t.Format("2006-01-02 15:04:05 -07:00")
	}
	switch {
	case row.S.DurationMS != nil:
		lr.Duration = report.Duration(*row.S.DurationMS)
	case running && row.S.StartedAt != nil:
		lr.Duration = report.Duration(time.Now().UnixMilli()-*row.S.StartedAt) + " so far"
	}
	if row.S.TotalMessages != nil {
		lr.Messages = strconv.FormatInt(*row.S.TotalMessages, 10)
	}
	if row.S.TotalToolCalls != nil {
		lr.ToolCalls = strconv.FormatInt(*row.S.TotalToolCalls, 10)
	}
	if v.Cost != nil {
		lr.Cost = report.Cost(*v.Cost)
		if v.CostKind == "estimated" {
			lr.Cost = "~" + lr.Cost
			lr.CostNote = v.CostNote
		}
	} else {
		lr.CostNote = v.CostNote
	}
	if p := row.Prompt.Load(); p != nil {
		lr.Prompt = *p
	}
	return lr
}

func shortID(id string) string {
	if len(id) > 13 {
		return id[:13] + "…"
	}
	return id
}

func zoneName(loc *time.Location) string {
	name, off := time.Now().In(loc).Zone()
	return fmt.Sprintf("%s (UTC%s)", name, offsetText(off))
}

func offsetText(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%02d:%02d", sign, sec/3600, sec%3600/60)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if !record.IsPlainID(id) {
		s.errorPage(w, http.StatusNotFound, "No such session", "A session id has letters, digits, '-' and '_' only.")
		return
	}
	src, path, err := s.Store.Open(ctx, id)
	if err != nil {
		s.sessionError(w, id, err)
		return
	}
	defer src.Close()
	pg, err := Build(ctx, src, Running(path, false))
	if err != nil {
		s.sessionError(w, id, err)
		return
	}
	if pg.Session.Running {
		pg.Live = &Live{URL: "/s/" + url.PathEscape(pg.Session.ID) + "/events", After: pg.LastSeq, CallAfter: pg.LastCall}
	}
	var b bytes.Buffer
	if err := WritePage(&b, pg, PageOptions{}); err != nil {
		s.sessionError(w, id, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (s *Server) sessionError(w http.ResponseWriter, id string, err error) {
	var fe *record.FileError
	if errors.Is(err, ErrNoSession) || errors.As(err, &fe) && errors.Is(fe.Kind, record.ErrNotSessionFile) {
		s.errorPage(w, http.StatusNotFound, "No such session", "No session "+strconv.Quote(id)+" here.")
		return
	}
	s.errorPage(w, http.StatusInternalServerError, "Session "+id+" cannot be read", err.Error())
}

// Serve runs the server on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		<-errc
		return nil
	}
}
