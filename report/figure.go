package report

import (
	"math"
	"strconv"
	"strings"
)

// figure is a nullable integer read leniently. SQLite keeps whatever a
// file was given (an older convlog stored a token count of 1e19 as a REAL),
// and one session's value that is no int64 must not stop the statistics of
// all the others: it reads as unknown.
type figure struct {
	n  int64
	ok bool
}

// Scan implements sql.Scanner.
func (f *figure) Scan(v any) error {
	*f = figure{}
	switch v := v.(type) {
	case int64:
		f.n, f.ok = v, true
	case float64:
		if !math.IsNaN(v) && v >= -(1<<63) && v < 1<<63 {
			f.n, f.ok = int64(v), true
		}
	case []byte:
		f.parse(string(v))
	case string:
		f.parse(v)
	}
	return nil
}

func (f *figure) parse(s string) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		f.n, f.ok = n, true
	} else if x, err := strconv.ParseFloat(s, 64); err == nil {
		f.Scan(x)
	}
}

// amount is a nullable real read leniently: a value that is not a finite
// number (an older convlog stored a cost of 1e400 as +Inf) reads as
// unknown; JSON could not say it anyway.
type amount struct {
	f  float64
	ok bool
}

// Scan implements sql.Scanner.
func (a *amount) Scan(v any) error {
	*a = amount{}
	switch v := v.(type) {
	case float64:
		a.f = v
	case int64:
		a.f = float64(v)
	case []byte:
		a.f, _ = strconv.ParseFloat(strings.TrimSpace(string(v)), 64)
	case string:
		a.f, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
	default:
		return nil
	}
	a.ok = !math.IsInf(a.f, 0) && !math.IsNaN(a.f)
	if !a.ok {
		a.f = 0
	}
	return nil
}

func nullInt(v figure) *int64 {
	if !v.ok {
		return nil
	}
	return &v.n
}

func nullFloat(v amount) *float64 {
	if !v.ok {
		return nil
	}
	return &v.f
}

// addCount adds token counts; past the largest int64 it stays there.
func addCount(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}
