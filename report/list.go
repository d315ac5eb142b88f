package report

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convlog/convlog/record"
)

// ListWidth is the width `convlog list` keeps to, short of --wide: a
// terminal of 100 columns.
const ListWidth = 100

// listModelWidth is as much of a model's name as the narrow list shows,
// and listModel the column of the model.
const (
	listModelWidth = 24
)

// ListOptions say how List lays out the sessions.
type ListOptions struct {
	// Wide shows whole ids, times in UTC to the millisecond, and every
	// value whole; else ids are Short, times are local to the minute, and
	// the line fits ListWidth.
	Wide  bool
	Short []string       // for each entry, its id as shown when not Wide
	Zone  *time.Location // for times when not Wide; nil for time.Local
}

// List writes one line per session, in the order given, as a table.
// Pruned sessions say so in their result.
func (t *Text) List(entries []record.Entry, opt ListOptions) error {
	if t.err != nil {
		return t.err
	}
	zone := opt.Zone
	if zone == nil {
		zone = time.Local
	}
	// The agent has a column when it tells the sessions apart: always in
	// the wide list, in the narrow one when they are not all one agent's
	// (sessions of files too old to say are not counted).
	agents := map[string]bool{}
	for i := range entries {
		if e := &entries[i]; e.Err == nil && e.Session.Agent != nil {
			agents[*e.Session.Agent] = true
		}
	}
	withAgent := opt.Wide || len(agents) > 1
	listModel := 2
	rows := [][]string{{"ID", "STARTED", "MODEL", "DURATION", "MSGS", "TOOLS", "RESULT"}}
	if withAgent {
		listModel = 3
		rows[0] = []string{"ID", "STARTED", "AGENT", "MODEL", "DURATION", "MSGS", "TOOLS", "RESULT"}
	}
	colors := []string{""}
	for i := range entries {
		e := &entries[i]
		id := e.ID
		if !opt.Wide && i < len(opt.Short) && opt.Short[i] != "" {
			id = opt.Short[i]
		}
		id = OneLine(id)
		if e.Err != nil {
			row := []string{id, "-", "-", "-", "-", "-", "unreadable: " + OneLine(FileProblem(e.Err))}
			if withAgent {
				row = append([]string{id, "-"}, row[1:]...)
			}
			rows = append(rows, row)
			colors = append(colors, red)
			continue
		}
		s := e.Session
		started := "-"
		if s.StartedAt != nil {
			if opt.Wide {
				started = ISOTime(*s.StartedAt)
			} else {
				started = time.UnixMilli(*s.StartedAt).In(zone).Format("2006-01-02 15:04")
			}
		}
		model := "-"
		if s.Model != nil {
			model = OneLine(*s.Model)
			if !opt.Wide {
				model = ClipCell(model, listModelWidth)
			}
		}
		agent := "-"
		if s.Agent != nil {
			agent = OneLine(*s.Agent)
			if !opt.Wide {
				// claude-code, gemini-cli: the tool's name says enough.
				agent = strings.TrimSuffix(strings.TrimSuffix(agent, "-code"), "-cli")
			}
		}
		dur := "-"
		if s.DurationMS != nil {
			dur = Duration(*s.DurationMS)
		}
		result, color := listResult(s, opt.Wide)
		if e.Pruned {
			result += ", pruned"
		}
		if len(s.Linked) > 0 {
			// The same agent session, logged by another session too.
			if opt.Wide {
				result += "; same agent session as " + OneLine(strings.Join(s.Linked, ", "))
			} else {
				result += ", linked"
			}
		}
		row := []string{id, started, model, dur, intOrDash(s.TotalMessages), intOrDash(s.TotalToolCalls), result}
		if withAgent {
			row = []string{id, started, agent, model, dur, intOrDash(s.TotalMessages), intOrDash(s.TotalToolCalls), result}
		}
		rows = append(rows, row)
		colors = append(colors, color)
	}

	last := len(rows[0]) - 1
	widths := make([]int, last)
	for _, r := range rows {
		for c := range last {
			widths[c] = max(widths[c], utf8.RuneCountInString(r[c]))
		}
	}
	room := 0 // for the last column; 0: no limit
	if !opt.Wide {
		used, result := 0, 0
		for _, w := range widths {
			used += w + 2
		}
		for _, r := range rows {
			result = max(result, utf8.RuneCountInString(r[last]))
		}
		// Too wide: the models give up room first, down to 12
		// characters, then the results.
		if over := used + result - ListWidth; over > 0 && widths[listModel] > 12 {
			cut := min(over, widths[listModel]-12)
			widths[listModel] -= cut
			used -= cut
			for _, r := range rows[1:] {
				r[listModel] = ClipCell(r[listModel], widths[listModel])
			}
		}
		room = max(ListWidth-used, 12)
	}
	var b strings.Builder
	for i, r := range rows {
		b.Reset()
		for c := range last {
			b.WriteString(r[c])
			b.WriteString(strings.Repeat(" ", widths[c]-utf8.RuneCountInString(r[c])+2))
		}
		// Colour only in the last column, after the padding is counted.
		b.WriteString(t.paint(colors[i], ClipCell(r[last], room)))
		t.printf("%s\n", b.String())
	}
	return t.err
}

// listResult is a session's result as the list shows it, and its colour.
// The narrow list has the subtype alone ("success", "error_max_turns");
// the wide one the type too, as query prints it.
func listResult(s *record.Session, wide bool) (string, string) {
	result := "none"
	if s.ResultType != nil {
		result = ResultText(s)
		if !wide && *s.ResultType == "result" && s.ResultSubtype != nil {
			result = *s.ResultSubtype
		}
		result = OneLine(result)
	}
	switch {
	case s.Incomplete() && s.ResultType == nil:
		return "incomplete", yellow
	case s.Incomplete():
		return "incomplete, last " + result, yellow
	case s.IsError != nil && *s.IsError:
		return result, red
	}
	return result, ""
}
