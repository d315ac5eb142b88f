package report

import (
	"regexp"
	"strings"

	"github.com/convlog/convlog/stream"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input        float64 `json:"input"`
	Output       float64 `json:"output"`
	CacheWrite5m float64 `json:"cache_write_5m"` // cache writes that live 5 minutes (1.25 × input)
	CacheWrite1h float64 `json:"cache_write_1h"` // cache writes that live an hour (2 × input)
	CacheRead    float64 `json:"cache_read"`
	// Long is the price of a long-context request (more than 200k input
	// tokens, stream.LongContext) on models that have such a rate; nil for
	// the others, which bill every request at the standard rate.
	Long *Price `json:"long_context,omitempty"`
}

// PricesAsOf dates the table below: the providers' published list prices
// for their APIs as of that day, with Anthropic's long-context rates of the
// models that have them (a request of more than 200k input tokens, counting
// cache reads and writes, is billed whole at those: input, output and
// cache). They are used only to estimate what a session cost when the
// agent reported no cost (Claude Code transcripts, Gemini CLI, Codex and
// Cursor streams carry tokens but no cost); estimates are always shown as
// such, never added to reported costs.
const PricesAsOf = "2025-11-24"

// PricesSource says in words where the table comes from.
const PricesSource = "published API list prices: Anthropic (claude.com/pricing; long-context rates for requests over 200k input tokens), " +
	"Google (ai.google.dev/gemini-api/docs/pricing, prompts up to 200k tokens), OpenAI (platform.openai.com/docs/pricing)"

var (
	opus45  = Price{Input: 5, Output: 25, CacheWrite5m: 6.25, CacheWrite1h: 10, CacheRead: 0.50}
	opus4   = Price{Input: 15, Output: 75, CacheWrite5m: 18.75, CacheWrite1h: 30, CacheRead: 1.50}
	sonnet4 = Price{Input: 3, Output: 15, CacheWrite5m: 3.75, CacheWrite1h: 6, CacheRead: 0.30,
		Long: &Price{Input: 6, Output: 22.50, CacheWrite5m: 7.50, CacheWrite1h: 12, CacheRead: 0.60}}
	sonnet  = Price{Input: 3, Output: 15, CacheWrite5m: 3.75, CacheWrite1h: 6, CacheRead: 0.30}
	haiku45 = Price{Input: 1, Output: 5, CacheWrite5m: 1.25, CacheWrite1h: 2, CacheRead: 0.10}
	haiku35 = Price{Input: 0.80, Output: 4, CacheWrite5m: 1, CacheWrite1h: 1.6, CacheRead: 0.08}
	haiku3  = Price{Input: 0.25, Output: 1.25, CacheWrite5m: 0.30, CacheWrite1h: 0.50, CacheRead: 0.03}
)

// cached is the price of a model whose provider charges nothing extra for
// writing its cache (Google's implicit caching, OpenAI's prompt caching):
// a cache write costs what input does, a cache read its own price.
func cached(input, output, cacheRead float64) Price {
	return Price{Input: input, Output: output, CacheWrite5m: input, CacheWrite1h: input, CacheRead: cacheRead}
}

// prices maps model names to prices. A model's name matches an entry when
// it is the entry, or the entry followed by a date, a version or a preview
// suffix ("claude-opus-4-5-20251101", "claude-opus-4-5@20251101",
// "gemini-2.5-flash-preview-09-2025"); the longest entry wins. So
// "claude-opus-4-20250514" is Opus 4, and "gpt-5-codex" is not "gpt-5".
// The bare Claude names are Claude Code's aliases for the newest model of
// each family on that date. Gemini's prices are for prompts up to 200k
// tokens (longer ones cost more); its output price covers thinking tokens,
// which Gemini CLI's stream does not count apart, so its estimates are low
// by what the model thought.
//
// Opus 4.6 and 4.7 are priced as Opus 4.5 and Sonnet 4.6 as Sonnet 4.5:
// their list prices, which ccusage 20.0.24's prices give to the cent on
// real transcripts of them (five-minute and one-hour cache writes apart).
var prices = map[string]Price{
	"claude-opus-4-7":   opus45,
	"claude-opus-4-6":   opus45,
	"claude-sonnet-4-6": sonnet4,
	"claude-opus-4-5":   opus45,
	"claude-opus-4-1":   opus4,
	"claude-opus-4":     opus4,
	"claude-3-opus":     opus4,
	"claude-sonnet-4-5": sonnet4,
	"claude-sonnet-4":   sonnet4,
	"claude-3-7-sonnet": sonnet,
	"claude-3-5-sonnet": sonnet,
	"claude-haiku-4-5":  haiku45,
	"claude-3-5-haiku":  haiku35,
	"claude-3-haiku":    haiku3,
	"opus":              opus45,
	"sonnet":            sonnet4,
	"haiku":             haiku45,

	"gemini-3-pro":          cached(2, 12, 0.20),
	"gemini-2.5-pro":        cached(1.25, 10, 0.125),
	"gemini-2.5-flash":      cached(0.30, 2.50, 0.03),
	"gemini-2.5-flash-lite": cached(0.10, 0.40, 0.01),
	"gemini-2.0-flash":      cached(0.10, 0.40, 0.025),
	"gemini-2.0-flash-lite": cached(0.075, 0.30, 0.075),

	"gpt-5.1":            cached(1.25, 10, 0.125),
	"gpt-5.1-codex":      cached(1.25, 10, 0.125),
	"gpt-5.1-codex-max":  cached(1.25, 10, 0.125),
	"gpt-5.1-codex-mini": cached(0.25, 2, 0.025),
	"gpt-5":              cached(1.25, 10, 0.125),
	"gpt-5-codex":        cached(1.25, 10, 0.125),
	"gpt-5-mini":         cached(0.25, 2, 0.025),
	"gpt-5-nano":         cached(0.05, 0.40, 0.005),
	"codex-mini-latest":  cached(1.50, 6, 0.375),
	"gpt-4.1":            cached(2, 8, 0.50),
	"gpt-4.1-mini":       cached(0.40, 1.60, 0.10),
	"gpt-4.1-nano":       cached(0.10, 0.40, 0.025),
	"gpt-4o":             cached(2.50, 10, 1.25),
	"gpt-4o-mini":        cached(0.15, 0.60, 0.075),
	"o3":                 cached(2, 8, 0.50),
	"o3-mini":            cached(1.10, 4.40, 0.55),
	"o4-mini":            cached(1.10, 4.40, 0.275),
}

// claudeDisplay is a Claude model as Cursor names it: "Claude 4.5 Sonnet".
var claudeDisplay = regexp.MustCompile(`^claude-(\d+)(?:\.(\d+))?-(opus|sonnet|haiku)\b`)

// modelKey is a model's name as the table spells it: lower case, without
// a provider's prefix ("us.anthropic.", "openai/", "models/"), and with a
// display name's spaces as dashes ("Claude 4.5 Sonnet" is
// "claude-sonnet-4-5", "GPT-5" is "gpt-5").
func modelKey(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	if i := strings.Index(m, "claude-"); i > 0 {
		m = m[i:]
	}
	m = strings.Join(strings.Fields(m), "-")
	if g := claudeDisplay.FindStringSubmatch(m); g != nil {
		v := g[1]
		if g[2] != "" {
			v += "-" + g[2]
		}
		m = "claude-" + g[3] + "-" + v + m[len(g[0]):]
	}
	return m
}

// suffixOK says whether what follows a table entry in a model's name still
// names that model: nothing, a date or version, or a preview's suffix.
func suffixOK(rest string) bool {
	switch {
	case rest == "":
		return true
	case rest[0] == '@' || rest[0] == ':':
		return true
	case rest[0] != '-' || len(rest) < 2:
		return false
	case rest[1] >= '0' && rest[1] <= '9':
		// A date or a build ("-20250514", "-2025-04-16", "-001"), but not
		// a minor version ("-6"): "claude-opus-4-6" is not Opus 4, whose
		// price is three times its own, and a version the table does not
		// know gets no estimate rather than another model's.
		digits := len(rest) - 1 - len(strings.TrimLeft(rest[1:], "0123456789"))
		return digits > 2
	}
	return strings.HasPrefix(rest, "-latest") || strings.HasPrefix(rest, "-preview") || strings.HasPrefix(rest, "-exp")
}

// PriceOf returns the price of a model by its name, as the APIs, the
// agents, Bedrock ("us.anthropic.claude-…-v1:0"), Vertex ("claude-…@date")
// or Cursor ("Claude 4.5 Sonnet") write it; ok is false for a model the
// table does not know.
func PriceOf(model string) (p Price, ok bool) {
	m := modelKey(model)
	best := -1
	for prefix, pr := range prices {
		if strings.HasPrefix(m, prefix) && len(prefix) > best && suffixOK(m[len(prefix):]) {
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

// CostIn is what the tokens of requests of tier (stream.TierStandard or
// stream.TierLong) cost at price p, in US dollars.
func (p Price) CostIn(tier string, t TokenCounts) float64 {
	if tier == stream.TierLong && p.Long != nil {
		return p.Long.Cost(t)
	}
	return p.Cost(t)
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
