package web

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/convlog/convlog/report"
)

// The charts are SVG drawn here, on the server, from the figures of
// convlog stats: bars and nothing else, so no chart library is needed.

type vchart struct {
	W, H, Left float64
	Bars       []vbar
	YTicks     []ytick
	XLabels    []xlabel
	Empty      bool
}

type vbar struct {
	Segs  []seg
	Title string
}

type seg struct {
	X, Y, W, H float64
	Class      string
}

type ytick struct {
	Y     float64
	Label string
}

type xlabel struct {
	X     float64
	Label string
}

type hchart struct {
	W, H, Left float64
	Rows       []hrow
	Empty      bool
}

type hrow struct {
	Y      float64
	Label  string
	Segs   []seg
	Value  string
	ValueX float64
	Title  string
}

// series is one stacked part of a day's bar.
type series struct {
	class, name string
	value       func(report.DayCost) float64
	format      func(float64) string
}

// dayChart stacks the series of each day.
func dayChart(days []report.DayCost, ss []series) vchart {
	c := vchart{W: 560, H: 220, Left: 56}
	const top, bottom = 10.0, 24.0
	plotH := c.H - top - bottom
	var maxSum float64
	for _, d := range days {
		sum := 0.0
		for _, s := range ss {
			sum += s.value(d)
		}
		maxSum = max(maxSum, sum)
	}
	if len(days) == 0 || maxSum <= 0 {
		c.Empty = true
		return c
	}
	step := niceStep(maxSum / 4)
	top4 := step * math.Ceil(maxSum/step)
	for v := 0.0; v <= top4+step/2; v += step {
		c.YTicks = append(c.YTicks, ytick{Y: top + plotH - v/top4*plotH, Label: ss[0].format(v)})
	}
	slot := (c.W - c.Left - 4) / float64(len(days))
	w := max(slot*0.8, 1)
	every := int(math.Ceil(60 / slot)) // a label every 60 px at most
	for i, d := range days {
		x := c.Left + 2 + float64(i)*slot + (slot-w)/2
		day := "(no date)"
		if d.Day != nil {
			day = *d.Day
		}
		bar := vbar{Title: day}
		y := top + plotH
		for _, s := range ss {
			v := s.value(d)
			bar.Title += fmt.Sprintf("\n%s: %s", s.name, s.format(v))
			if v <= 0 {
				continue
			}
			h := v / top4 * plotH
			y -= h
			bar.Segs = append(bar.Segs, seg{X: round1(x), Y: round1(y), W: round1(w), H: round1(h), Class: s.class})
		}
		c.Bars = append(c.Bars, bar)
		if i%every == 0 {
			label := day
			if len(label) == 10 {
				label = label[5:] // MM-DD
			}
			c.XLabels = append(c.XLabels, xlabel{X: round1(x + w/2), Label: label})
		}
	}
	return c
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// niceStep is a round number near v: 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func money(v float64) string {
	if v >= 100 {
		return "$" + strconv.FormatFloat(v, 'f', 0, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 2, 64)
}

func count(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 1, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func msText(ms float64) string {
	return report.Duration(int64(ms))
}

func hchartOf(n int) hchart {
	h := hchart{W: 560, Left: 150}
	h.H = float64(max(n, 1))*20 + 6
	h.Empty = n == 0
	return h
}

// errorChart is each tool's error rate, the most failing first.
func errorChart(tools []report.ToolStats) hchart {
	h := hchartOf(len(tools))
	plot := h.W - h.Left - 120
	for i, t := range tools {
		y := float64(i)*20 + 3
		w := t.ErrorRatePct / 100 * plot
		name := deref(t.ToolName)
		h.Rows = append(h.Rows, hrow{Y: y, Label: clipText(name, 22),
			Segs:  []seg{{X: h.Left, Y: y, W: round1(plot), H: 14, Class: "c-ok"}, {X: h.Left, Y: y, W: round1(w), H: 14, Class: "c-err"}},
			Value: fmt.Sprintf("%d of %d (%.1f%%)", t.Errors, t.Calls, t.ErrorRatePct), ValueX: h.Left + plot + 6,
			Title: fmt.Sprintf("%s: %d errors in %d calls", name, t.Errors, t.Calls)})
	}
	return h
}

// durationChart is each tool's p50 and p95 on a log scale, from 10 ms to
// the slowest p95.
func durationChart(tools []report.ToolStats) hchart {
	var timed []report.ToolStats
	top := 10.0
	for _, t := range tools {
		if t.P95DurationMS != nil && len(timed) < 20 {
			timed = append(timed, t)
			top = max(top, float64(*t.P95DurationMS))
		}
	}
	h := hchartOf(len(timed))
	plot := h.W - h.Left - 120
	scale := func(ms float64) float64 {
		if ms <= 10 {
			return 1
		}
		return max(1, math.Log10(ms/10)/math.Log10(top/10)*plot)
	}
	if top <= 10 {
		scale = func(float64) float64 { return 1 }
	}
	for i, t := range timed {
		y := float64(i)*20 + 3
		p95 := float64(*t.P95DurationMS)
		p50 := p95
		if t.P50DurationMS != nil {
			p50 = float64(*t.P50DurationMS)
		}
		name := deref(t.ToolName)
		h.Rows = append(h.Rows, hrow{Y: y, Label: clipText(name, 22),
			Segs: []seg{{X: h.Left, Y: y, W: round1(scale(p95)), H: 14, Class: "c-p95"},
				{X: h.Left, Y: y, W: round1(scale(p50)), H: 14, Class: "c-p50"}},
			Value: msText(p50) + " / " + msText(p95), ValueX: h.Left + plot + 6,
			Title: fmt.Sprintf("%s: p50 %s, p95 %s over %d timed calls", name, msText(p50), msText(p95), t.Timed)})
	}
	return h
}

func slowChart(slow []report.SlowSession) hchart {
	h := hchartOf(len(slow))
	plot := h.W - h.Left - 120
	top := 1.0
	for _, s := range slow {
		top = max(top, float64(s.DurationMS))
	}
	for i, s := range slow {
		y := float64(i)*20 + 3
		h.Rows = append(h.Rows, hrow{Y: y, Label: shortID(s.ID),
			Segs:  []seg{{X: h.Left, Y: y, W: round1(max(1, float64(s.DurationMS)/top*plot)), H: 14, Class: "c-slow"}},
			Value: msText(float64(s.DurationMS)), ValueX: h.Left + plot + 6, Title: s.ID})
	}
	return h
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

type slowRow struct {
	ID, Short, Started, Model, Duration, Messages, ToolCalls string
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	var rng report.StatsRange
	since, until := q.Get("since"), q.Get("until")
	if t, err := time.ParseInLocation(time.DateOnly, since, s.Loc); err == nil {
		rng.Since = t.UnixMilli()
	} else {
		since = ""
	}
	if t, err := time.ParseInLocation(time.DateOnly, until, s.Loc); err == nil {
		rng.Until = t.AddDate(0, 0, 1).UnixMilli()
	} else {
		until = ""
	}
	st, err := s.Store.Stats(ctx, rng)
	if err != nil {
		s.errorPage(w, http.StatusInternalServerError, "The statistics cannot be read", err.Error())
		return
	}
	f0 := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	var reported, estimated float64
	for _, d := range st.CostByDay {
		reported += f0(d.ReportedCostUSD)
		estimated += f0(d.EstimatedCostUSD)
	}
	data := struct {
		layout
		S                                 *report.Stats
		Since, Until, Reported, Estimated string
		PricesAsOf                        string
		CostChart, TokenChart             vchart
		ErrorChart, DurChart, SlowChart   hchart
		Slow                              []slowRow
	}{layout: s.layout("convlog statistics", "stats"), S: st, Since: since, Until: until,
		Reported: report.Cost(reported), Estimated: "~" + report.Cost(estimated), PricesAsOf: report.PricesAsOf,
		CostChart: dayChart(st.CostByDay, []series{
			{"c-cost", "reported", func(d report.DayCost) float64 { return f0(d.ReportedCostUSD) }, money},
			{"c-est", "estimated", func(d report.DayCost) float64 { return f0(d.EstimatedCostUSD) }, money},
		}),
		TokenChart: dayChart(st.CostByDay, []series{
			{"c-in", "input", func(d report.DayCost) float64 { return float64(d.Input) }, count},
			{"c-out", "output", func(d report.DayCost) float64 { return float64(d.Output) }, count},
			{"c-cw", "cache write", func(d report.DayCost) float64 { return float64(d.CacheWrite) }, count},
			{"c-cr", "cache read", func(d report.DayCost) float64 { return float64(d.CacheRead) }, count},
		}),
		ErrorChart: errorChart(byErrorRate(st.Tools)),
		DurChart:   durationChart(st.Tools),
		SlowChart:  slowChart(st.Slowest),
	}
	for _, sl := range st.Slowest {
		row := slowRow{ID: sl.ID, Short: shortID(sl.ID), Model: deref(sl.Model), Duration: msText(float64(sl.DurationMS))}
		if sl.StartedAt != nil {
			row.Started = time.UnixMilli(*sl.StartedAt).In(s.Loc).Format("2006-01-02 15:04")
		}
		if sl.Messages != nil {
			row.Messages = strconv.FormatInt(*sl.Messages, 10)
		}
		if sl.ToolCalls != nil {
			row.ToolCalls = strconv.FormatInt(*sl.ToolCalls, 10)
		}
		data.Slow = append(data.Slow, row)
	}
	s.render(w, http.StatusOK, "stats", data)
}

// byErrorRate orders tools by error rate, then by calls; at most 20.
func byErrorRate(tools []report.ToolStats) []report.ToolStats {
	out := slices.Clone(tools)
	slices.SortStableFunc(out, func(a, b report.ToolStats) int {
		return cmp.Or(cmp.Compare(b.ErrorRatePct, a.ErrorRatePct), cmp.Compare(b.Calls, a.Calls))
	})
	return out[:min(len(out), 20)]
}
