package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/convlog/convlog/record"
)

// tail follows a session file that convlog tee is writing: each poll reads,
// in one read transaction, the messages after the last one it saw, the tool
// calls after the last one and those that were pending and have a result
// now, and the session row.
type tail struct {
	db        *sql.DB
	id        string
	b         *builder
	pending   map[string]bool
	lastView  []byte
	lastFound time.Time // of the last poll that found anything
}

// openTail starts after message sequence after and tool call sequence
// callAfter: what the page holds.
func openTail(ctx context.Context, path, id string, after, callAfter int64) (*tail, error) {
	db, err := record.OpenReadOnly(ctx, path)
	if err != nil {
		return nil, err
	}
	t := &tail{db: db, id: id, b: newBuilder(), pending: map[string]bool{}, lastFound: time.Now()}
	t.b.lastSeq, t.b.lastCall = after, callAfter
	// The calls the page has: their results are not shown again, they are
	// not placed again, and the pending ones are watched.
	err = scanRows(ctx, db, "SELECT id, status FROM tool_calls WHERE session_id = ? AND sequence <= ?", []any{id, callAfter},
		func(_ []string, vals []any) error {
			cid := deref(asText(vals[0]))
			t.b.known[cid], t.b.placed[cid] = true, true
			if st := asText(vals[1]); st == nil || *st == "pending" {
				t.pending[cid] = true
			}
			return nil
		})
	if err != nil {
		db.Close()
		return nil, err
	}
	return t, nil
}

func (t *tail) Close() error { return t.db.Close() }

// poll reads what is new; changed says whether there is anything to send.
func (t *tail) poll(ctx context.Context) (d *Delta, changed bool, err error) {
	tx, err := t.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	src := &DBSource{db: tx, id: t.id}
	s, err := src.Session(ctx)
	if err != nil {
		return nil, false, err
	}
	cond, args := "sequence > ?", []any{t.b.lastCall}
	if len(t.pending) > 0 {
		cond += " OR (status IS NOT 'pending' AND id IN (?" + strings.Repeat(",?", len(t.pending)-1) + "))"
		for id := range t.pending {
			args = append(args, id)
		}
	}
	if err := src.toolCallsWhere(ctx, cond, args, func(c *record.ToolCall) error { t.b.call(c); return nil }); err != nil {
		return nil, false, err
	}
	if err := src.messagesAfter(ctx, t.b.lastSeq, func(m *record.Message) error { t.b.message(m); return nil }); err != nil {
		return nil, false, err
	}
	items, calls, hidden := t.b.finish()
	for _, c := range calls {
		if c.St == "pending" {
			t.pending[c.ID] = true
		} else {
			delete(t.pending, c.ID)
		}
	}
	d = &Delta{Session: View(s, true), Items: items, Calls: calls, Hidden: hidden, Now: time.Now().UnixMilli(), Ended: !s.Incomplete()}
	view, _ := json.Marshal(d.Session)
	changed = len(items) > 0 || len(calls) > 0 || hidden > 0 || d.Ended || !bytes.Equal(view, t.lastView)
	t.lastView = view
	if changed {
		t.lastFound = time.Now()
	}
	return d, changed, nil
}

// events is a running session's event stream (server-sent events): a
// "delta" event with what was logged since, within a poll interval of its
// being committed; "gone" when the session's logger is no longer there.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if !record.IsPlainID(id) {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	src, path, err := s.Store.Open(ctx, id)
	if err != nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	src.Close()
	if path == "" {
		http.Error(w, "this session has no file here to follow", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	after, err1 := strconv.ParseInt(q.Get("after"), 10, 64)
	callAfter, err2 := strconv.ParseInt(q.Get("calls"), 10, 64)
	if err1 != nil || err2 != nil {
		http.Error(w, "after= and calls= must be numbers", http.StatusBadRequest)
		return
	}
	t, err := openTail(ctx, path, id, after, callAfter)
	if err != nil {
		http.Error(w, "convlog: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer t.Close()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		var buf bytes.Buffer
		buf.WriteString("event: " + event + "\ndata: ")
		buf.Write(b)
		buf.WriteString("\n\n")
		if _, err := w.Write(buf.Bytes()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if _, err := w.Write([]byte(": convlog live\n\n")); err != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(s.Poll)
	defer tick.Stop()
	lastBeat := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d, changed, err := t.poll(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			// A moment's lock (the writer changing the page size) or a
			// reader that fell behind: try again at the next tick.
			continue
		case changed:
			if !send("delta", d) {
				return
			}
			lastBeat = time.Now()
			if d.Ended {
				return
			}
		}
		if time.Since(t.lastFound) > 5*time.Second && !Running(path, false) {
			send("gone", struct{}{})
			return
		}
		if time.Since(lastBeat) > 15*time.Second {
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
			lastBeat = time.Now()
		}
	}
}
