package record

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// NewSessionID is the id of a new session: a random UUID (version 4).
//
// A UUIDv7 starts with the time in milliseconds, so every session started
// within about a minute shares its first 8 characters, and people cannot
// name one by a short prefix. A random UUID spreads its first 8 characters
// (32 bits) over four billion values: among thousands of sessions the
// chance that two share them is a fraction of a percent, and `convlog list`
// then prints as many characters as make each unique, as git does. Time
// order comes from sessions.started_at, never from the id.
func NewSessionID() string { return uuid.NewString() }

// MinShortID is the fewest characters of an id that `convlog list` prints.
const MinShortID = 8

// ShortIDs returns, for each entry, the shortest prefix of its id, at
// least MinShortID characters, that names it alone: no other entry's id,
// nor its agent session id, begins with it. Where no prefix is unique (an
// id that begins another), the whole id.
func ShortIDs(entries []Entry) []string {
	type key struct {
		name  string
		owner int
	}
	keys := make([]key, 0, 2*len(entries))
	for i := range entries {
		keys = append(keys, key{entries[i].ID, i})
		if a := entries[i].AgentID(); a != "" {
			keys = append(keys, key{a, i})
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(strings.Compare(a.name, b.name), cmp.Compare(a.owner, b.owner)) })
	short := make([]string, len(entries))
	for k, kk := range keys {
		id := entries[kk.owner].ID
		if kk.name != id || short[kk.owner] != "" {
			continue
		}
		// In sorted order the common prefix with other keys only shrinks
		// with distance, so the nearest key of another entry on each side
		// shares the most.
		n := 0
		for j := k - 1; j >= 0; j-- {
			if keys[j].owner != kk.owner {
				n = max(n, commonPrefix(id, keys[j].name))
				break
			}
		}
		for j := k + 1; j < len(keys); j++ {
			if keys[j].owner != kk.owner {
				n = max(n, commonPrefix(id, keys[j].name))
				break
			}
		}
		short[kk.owner] = id[:min(len(id), max(MinShortID, n+1))]
	}
	return short
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// AgentID is the agent's own session id (the one `claude --resume` takes),
// or "" when it is not known.
func (e *Entry) AgentID() string {
	if e.Session == nil || e.Session.AgentSessionID == nil {
		return ""
	}
	return *e.Session.AgentSessionID
}

// Resolve finds the sessions that ref names among entries (newest first,
// as ListSessions orders them):
//   - Last: the newest readable session;
//   - a session id, whole: that session;
//   - an agent session id, whole: every session logged of that agent
//     session (a resumed conversation logged by several runs of tee, or a
//     tee and an import of its transcript), newest first;
//   - a prefix of either: the same, when all it begins names one session,
//     or one agent session; else an *AmbiguousError lists the candidates.
//
// Nothing found is a *NotFoundError. A ref that is not a plain id is
// ErrBadRef: it can never reach a file.
func Resolve(entries []Entry, ref string) ([]*Entry, error) {
	if !IsPlainID(ref) {
		return nil, fmt.Errorf("%q: %w", ref, ErrBadRef)
	}
	if ref == Last {
		for i := range entries {
			if entries[i].Err == nil {
				return []*Entry{&entries[i]}, nil
			}
		}
		return nil, &NotFoundError{Ref: ref, Count: len(entries)}
	}
	for i := range entries {
		if entries[i].ID == ref {
			return []*Entry{&entries[i]}, nil
		}
	}
	var byAgent, all []*Entry
	agent := ""
	oneAgent := true
	for i := range entries {
		e := &entries[i]
		viaID := strings.HasPrefix(e.ID, ref)
		a := e.AgentID()
		viaAgent := a != "" && strings.HasPrefix(a, ref)
		if !viaID && !viaAgent {
			continue
		}
		all = append(all, e)
		if a == ref {
			byAgent = append(byAgent, e)
		}
		switch {
		case !viaAgent:
			oneAgent = false
		case agent == "":
			agent = a
		case agent != a:
			oneAgent = false
		}
	}
	switch {
	case len(byAgent) > 0:
		return byAgent, nil
	case len(all) == 0:
		return nil, &NotFoundError{Ref: ref, Count: len(entries)}
	case len(all) == 1, oneAgent:
		return all, nil
	}
	amb := &AmbiguousError{Ref: ref, Candidates: all}
	for _, c := range all {
		amb.Matches = append(amb.Matches, c.ID)
	}
	slices.Sort(amb.Matches)
	return nil, amb
}

// Find returns the file of the session ref names among the session files
// of dir (Resolve; the newest of an agent session logged several times).
// Commands name sessions through the folder and the archive together, so
// that pruned sessions are found too; this is for a folder alone.
func Find(ctx context.Context, dir, ref string) (string, error) {
	if !IsPlainID(ref) {
		return "", fmt.Errorf("%q: %w", ref, ErrBadRef)
	}
	entries, err := ListSessions(ctx, dir)
	if err != nil {
		return "", err
	}
	found, err := Resolve(entries, ref)
	if err != nil {
		var nf *NotFoundError
		if errors.As(err, &nf) {
			nf.Dir = dir
		}
		return "", err
	}
	return found[0].Path, nil
}

// NotFoundError is a session reference that names no session.
type NotFoundError struct {
	Ref   string
	Dir   string // the session folder, when known
	Count int    // sessions there
}

func (e *NotFoundError) Error() string {
	where := "the session folder"
	if e.Dir != "" {
		where = e.Dir
	}
	if e.Ref == Last {
		return fmt.Sprintf("no readable session in %s (%d %s)", where, e.Count, plural(e.Count, "file", "files"))
	}
	return fmt.Sprintf("no session %q in %s (%d %s there; convlog list shows them, --dir looks elsewhere)",
		e.Ref, where, e.Count, plural(e.Count, "session", "sessions"))
}

// AmbiguousError is a prefix that begins the ids of several sessions.
type AmbiguousError struct {
	Ref        string
	Matches    []string // the candidates' ids, sorted
	Candidates []*Entry // newest first
}

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "session prefix %q is ambiguous; it begins %d sessions (a longer prefix names one):", e.Ref, len(e.Candidates))
	for _, c := range e.Candidates {
		b.WriteString("\n  " + c.ID)
		if c.Session != nil && c.Session.StartedAt != nil {
			b.WriteString("  started " + time.UnixMilli(*c.Session.StartedAt).Format("2006-01-02 15:04:05"))
		}
		if a := c.AgentID(); a != "" && strings.HasPrefix(a, e.Ref) {
			b.WriteString("  agent session " + a)
		}
		if c.Pruned {
			b.WriteString("  (pruned)")
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
