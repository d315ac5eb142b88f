package web

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ListFilter is what the list page's form asks for.
type ListFilter struct {
	From, To string // YYYY-MM-DD, local days, inclusive
	Model    string
	Agent    string
	Result   string // an outcome class (success, error, running, incomplete, none) or a result subtype
	Q        string // text in the first prompt
	Sort     string // started, cost, duration, errors
	Desc     bool
	Page     int
}

// listPage is how many sessions one page of the list shows.
const listPage = 100

// parseFilter reads the list's query string; values it does not know are
// ignored.
func parseFilter(q url.Values) ListFilter {
	f := ListFilter{From: q.Get("from"), To: q.Get("to"), Model: q.Get("model"), Agent: q.Get("agent"),
		Result: q.Get("result"), Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Desc: q.Get("order") != "asc"}
	switch f.Sort {
	case "started", "cost", "duration", "errors":
	default:
		f.Sort = "started"
	}
	if _, err := time.Parse(time.DateOnly, f.From); err != nil {
		f.From = ""
	}
	if _, err := time.Parse(time.DateOnly, f.To); err != nil {
		f.To = ""
	}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 0)
	return f
}

// values is the filter as a query string, with changes.
func (f ListFilter) values(change func(*ListFilter)) string {
	g := f
	if change != nil {
		change(&g)
	}
	v := url.Values{}
	for k, s := range map[string]string{"from": g.From, "to": g.To, "model": g.Model, "agent": g.Agent, "result": g.Result, "q": g.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if g.Sort != "started" {
		v.Set("sort", g.Sort)
	}
	if !g.Desc {
		v.Set("order", "asc")
	}
	if g.Page > 0 {
		v.Set("page", strconv.Itoa(g.Page))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// match says whether a row passes the filter, but for its prompt.
func (f ListFilter) match(r *Row, outcome string, loc *time.Location) bool {
	if f.Model != "" && deref(r.S.Model) != f.Model {
		return false
	}
	if f.Agent != "" && r.Agent != f.Agent {
		return false
	}
	if f.Result != "" && f.Result != outcome && f.Result != deref(r.S.ResultSubtype) {
		return false
	}
	if f.From != "" || f.To != "" {
		if r.S.StartedAt == nil {
			return false
		}
		day := time.UnixMilli(*r.S.StartedAt).In(loc).Format(time.DateOnly)
		if (f.From != "" && day < f.From) || (f.To != "" && day > f.To) {
			return false
		}
	}
	return true
}

// sortRows orders rows by a column; rows without a value come last either
// way, then newest first.
func sortRows(rows []*Row, by string, desc bool) {
	key := func(r *Row) (float64, bool) {
		switch by {
		case "cost":
			if r.View.Cost == nil {
				return 0, false
			}
			return *r.View.Cost, true
		case "duration":
			if r.S.DurationMS == nil {
				return 0, false
			}
			return float64(*r.S.DurationMS), true
		case "errors":
			return float64(r.Errors), true
		}
		if r.S.StartedAt == nil {
			return 0, false
		}
		return float64(*r.S.StartedAt), true
	}
	slices.SortStableFunc(rows, func(a, b *Row) int {
		ka, oka := key(a)
		kb, okb := key(b)
		if oka != okb {
			if oka {
				return -1
			}
			return 1
		}
		c := cmp.Compare(ka, kb)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		sa, sb := int64(0), int64(0)
		if a.S.StartedAt != nil {
			sa = *a.S.StartedAt
		}
		if b.S.StartedAt != nil {
			sb = *b.S.StartedAt
		}
		return cmp.Or(cmp.Compare(sb, sa), strings.Compare(b.S.ID, a.S.ID))
	})
}
