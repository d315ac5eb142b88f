package report

import (
	"math"
	"testing"
)

func TestPriceOfAgentsModels(t *testing.T) {
	for model, want := range map[string]float64{
		"claude-opus-4-5-20251101":                     5,
		"claude-opus-4-20250514":                       15,
		"claude-opus-4-6":                              5, // not Opus 4's
		"claude-opus-4-7":                              5,
		"claude-opus-4-6-20260205":                     5,
		"claude-sonnet-4-6":                            3,
		"claude-opus-4-1-20250805":                     15,
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0": 3,
		"claude-opus-4-5@20251101":                     5,
		"anthropic/claude-sonnet-4-5":                  3, // opencode's provider/model
		"Claude 4.5 Sonnet":                            3, // Cursor's display names
		"Claude 4 Opus":                                15,
		"GPT-5":                                        1.25,
		"gemini-2.5-pro":                               1.25,
		"gemini-2.5-flash":                             0.30,
		"gemini-2.5-flash-lite":                        0.10,
		"gemini-2.5-flash-preview-09-2025":             0.30,
		"models/gemini-2.0-flash":                      0.10,
		"gemini-3-pro-preview":                         2,
		"gpt-5-codex":                                  1.25,
		"gpt-5.1-codex-mini":                           0.25,
		"gpt-5-mini-2025-08-07":                        0.25,
		"openai/gpt-4.1":                               2,
		"codex-mini-latest":                            1.50,
		"o3":                                           2,
		"o3-2025-04-16":                                2,
		// Unknown, or an alias that names no one model: no estimate.
		"o3-deep-research":  -1,
		"auto":              -1,
		"auto-gemini-2.5":   -1,
		"gemini-3.5-flash":  -1,
		"Composer 2.5":      -1,
		"gpt-5-chat-latest": -1,
		"claude-fable-5-1":  -1,
		"claude-opus-4-9":   -1, // a minor version the table does not know
		"claude-sonnet-4-9": -1,
		"gemini-2.5-pro-2":  -1,
		"":                  -1,
	} {
		p, ok := PriceOf(model)
		got := p.Input
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("%q: input price %v, want %v", model, got, want)
		}
	}
	// OpenAI: cached input at its own price, cache writes at input's.
	p, _ := PriceOf("gpt-5-codex")
	c := p.Cost(TokenCounts{Input: 1e6, Output: 1e6, CacheWrite: 1e6, CacheRead: 1e6})
	if want := 1.25 + 10 + 1.25 + 0.125; math.Abs(c-want) > 1e-9 {
		t.Errorf("cost %v, want %v", c, want)
	}
}
