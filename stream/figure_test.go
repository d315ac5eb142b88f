package stream

import (
	"math"
	"testing"

	"github.com/valyala/fastjson"
)

// Counts in a stream that do not fit an int64 are Unknown, and so is any
// sum they are part of, or that overflows.
func TestFigures(t *testing.T) {
	for in, want := range map[string]int64{
		`{}`:                           0,
		`{"n":"12"}`:                   0,
		`{"n":12}`:                     12,
		`{"n":-3}`:                     -3,
		`{"n":2.0}`:                    2,
		`{"n":1e3}`:                    1000,
		`{"n":9223372036854775807}`:    math.MaxInt64,
		`{"n":9223372036854775808}`:    Unknown,
		`{"n":1e19}`:                   Unknown,
		`{"n":1e400}`:                  Unknown,
		`{"n":2.5}`:                    Unknown,
		`{"n":-9223372036854775809e0}`: Unknown,
	} {
		v := fastjson.MustParse(in)
		if got := figure(v, "n"); got != want {
			t.Errorf("%s: %d, want %d", in, got, want)
		}
	}
	for _, c := range []struct{ a, b, want int64 }{
		{1, 2, 3},
		{math.MaxInt64, 1, Unknown},
		{math.MinInt64 + 1, -2, Unknown},
		{Unknown, 5, Unknown},
		{5, Unknown, Unknown},
	} {
		if got := addFigure(c.a, c.b); got != c.want {
			t.Errorf("%d + %d = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
