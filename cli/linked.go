package cli

import (
	"context"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// linkSessions sets Linked of each session: the others in entries that
// log the same agent session (the same agent session id), as convlog tee
// of its stream and convlog import of its transcript do.
func linkSessions(entries []record.Entry) {
	byAgent := map[string][]*record.Session{}
	for i := range entries {
		s := entries[i].Session
		if entries[i].Err != nil || s == nil || s.AgentSessionID == nil || *s.AgentSessionID == "" {
			continue
		}
		byAgent[*s.AgentSessionID] = append(byAgent[*s.AgentSessionID], s)
	}
	for _, g := range byAgent {
		for _, s := range g {
			s.Linked = s.Linked[:0]
			for _, o := range g {
				if o != s {
					s.Linked = append(s.Linked, o.ID)
				}
			}
		}
	}
}

// describe adds to s what the query shows beside its columns: the cost
// estimated from its tokens when it reported none, and the sessions of the
// folder dir that log the same agent session.
func describe(ctx context.Context, r *record.Reader, dir string, s *record.Session) error {
	if s.TotalCostUSD == nil {
		rows, err := r.Usage(ctx, s.ID)
		if err != nil {
			return err
		}
		s.EstimatedCostUSD, _ = report.EstimateCost(rows)
	}
	if s.AgentSessionID == nil || *s.AgentSessionID == "" {
		return nil
	}
	entries, err := record.ListSessions(ctx, dir)
	if err != nil {
		return nil // the links are a courtesy; the session is shown all the same
	}
	for _, e := range entries {
		if e.Err == nil && e.Session != nil && e.Session.ID != s.ID && e.Session.AgentSessionID != nil && *e.Session.AgentSessionID == *s.AgentSessionID {
			s.Linked = append(s.Linked, e.Session.ID)
		}
	}
	return nil
}
