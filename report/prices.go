package report

import "strings"

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input        float64 `json:"input"`
	Output       float64 `json:"output"`
	CacheWrite5m float64 `json:"cache_write_5m"` // cache writes that live 5 minutes (1.25 × input)
	CacheWrite1h float64 `json:"cache_write_1h"` // cache writes that live an hour (2 × input)
	CacheRead    float64 `json:"cache_read"`
}

// PricesAsOf dates the table below: Anthropic's published list prices for
// its API as of that day, for prompts of up to 200k tokens. They are used
// only to estimate what a session cost when the agent reported no cost
// (Claude Code transcripts carry tokens but no cost); estimates are always
// shown as such, never added to reported costs.
const PricesAsOf = "2025-11-24"

// PricesSource says in words where the table comes from.
const PricesSource = "Anthropic's published API list prices (standard tier, prompts up to 200k tokens)"

var (
	opus45  = Price{Input: 5, Output: 25, CacheWrite5m: 6.25, CacheWrite1h: 10, CacheRead: 0.50}
	opus4   = Price{Input: 15, Output: 75, CacheWrite5m: 18.75, CacheWrite1h: 30, CacheRead: 1.50}
	sonnet  = Price{Input: 3, Output: 15, CacheWrite5m: 3.75, CacheWrite1h: 6, CacheRead: 0.30}
	haiku45 = Price{Input: 1, Output: 5, CacheWrite5m: 1.25, CacheWrite1h: 2, CacheRead: 0.10}
	haiku35 = Price{Input: 0.80, Output: 4, CacheWrite5m: 1, CacheWrite1h: 1.6, CacheRead: 0.08}
	haiku3  = Price{Input: 0.25, Output: 1.25, CacheWrite5m: 0.30, CacheWrite1h: 0.50, CacheRead: 0.03}
)

// prices maps model name prefixes to prices; the longest prefix that a
// model's name starts with wins, so "claude-opus-4-5-20251101" is Opus 4.5
// and "claude-opus-4-20250514" is Opus 4. The bare names are Claude Code's
// aliases for the newest model of each family on that date.
var prices = map[string]Price{
	"claude-opus-4-5":   opus45,
	"claude-opus-4-1":   opus4,
	"claude-opus-4":     opus4,
	"claude-3-opus":     opus4,
	"claude-sonnet-4-5": sonnet,
	"claude-sonnet-4":   sonnet,
	"claude-3-7-sonnet": sonnet,
	"claude-3-5-sonnet": sonnet,
	"claude-haiku-4-5":  haiku45,
	"claude-3-5-haiku":  haiku35,
	"claude-3-haiku":    haiku3,
	"opus":              opus45,
	"sonnet":            sonnet,
	"haiku":             haiku45,
}

// PriceOf returns the price of a model by its name, as the API, Claude
// Code, Bedrock ("us.anthropic.claude-…-v1:0") or Vertex ("claude-…@date")
// write it; ok is false for a model the table does not know.
func PriceOf(model string) (p Price, ok bool) {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.Index(m, "claude-"); i > 0 {
		m = m[i:]
	}
	best := -1
	for prefix, pr := range prices {
		if strings.HasPrefix(m, prefix) && len(prefix) > best {
			best, p = len(prefix), pr
		}
	}
	return p, best >= 0
}

// TokenCounts are the tokens of some API calls; CacheWrite1h is the part of
// CacheWrite that was written to the one-hour cache, where it is known.
type TokenCounts struct {
	Input        int64 `json:"input_tokens"`
	Output       int64 `json:"output_tokens"`
	CacheWrite   int64 `json:"cache_creation_input_tokens"`
	CacheWrite1h int64 `json:"-"`
	CacheRead    int64 `json:"cache_read_input_tokens"`
}

func (t *TokenCounts) add(o TokenCounts) {
	t.Input = addCount(t.Input, o.Input)
	t.Output = addCount(t.Output, o.Output)
	t.CacheWrite = addCount(t.CacheWrite, o.CacheWrite)
	t.CacheWrite1h = addCount(t.CacheWrite1h, o.CacheWrite1h)
	t.CacheRead = addCount(t.CacheRead, o.CacheRead)
}

// Any says whether any token was counted.
func (t TokenCounts) Any() bool {
	return t.Input != 0 || t.Output != 0 || t.CacheWrite != 0 || t.CacheRead != 0
}

// Cost is what the tokens cost at price p, in US dollars. Cache writes not
// known to be one-hour writes are priced as five-minute writes.
func (p Price) Cost(t TokenCounts) float64 {
	const m = 1e6
	return (float64(t.Input)*p.Input +
		float64(t.Output)*p.Output +
		float64(t.CacheWrite-t.CacheWrite1h)*p.CacheWrite5m +
		float64(t.CacheWrite1h)*p.CacheWrite1h +
		float64(t.CacheRead)*p.CacheRead) / m
}
