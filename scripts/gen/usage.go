package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// runUsage compares the tokens by model that ccusage found (its daily
// --json) with those of convlog stats --json over the same transcripts. It
// prints one line per model, tokens and costs side by side, and fails when
// any model's tokens differ. Costs are shown, not judged: ccusage prices a
// request of more than 200k input tokens by token kind above the threshold,
// convlog the whole request at the long-context rates, as Anthropic bills.
func runUsage(args []string, out io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: gen usage CCUSAGE.json CONVLOG-STATS.json")
	}
	cc, err := ccusageByModel(args[0])
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	cl, err := convlogByModel(args[1])
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	names := map[string]bool{}
	for m := range cc {
		names[m] = true
	}
	for m := range cl {
		names[m] = true
	}
	sorted := make([]string, 0, len(names))
	for m := range names {
		sorted = append(sorted, m)
	}
	sort.Strings(sorted)
	bad := 0
	for _, m := range sorted {
		a, b := cc[m], cl[m]
		verdict := "same tokens"
		if a.tokens != b.tokens {
			verdict = "TOKENS DIFFER"
			bad++
		}
		cost := "same cost"
		if math.Abs(a.cost-b.cost) >= 0.005 {
			cost = fmt.Sprintf("cost differs by $%.2f", b.cost-a.cost)
		}
		fmt.Fprintf(out, "%s\tccusage %v $%.2f\tconvlog %v $%.2f\t%s, %s\n", m, a.tokens, a.cost, b.tokens, b.cost, verdict, cost)
	}
	if len(sorted) == 0 {
		return errors.New("neither found any usage")
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d models have other token counts in convlog than in ccusage", bad, len(sorted))
	}
	return nil
}

// tokens are input, output, cache writes and cache reads.
type tokens [4]int64

type modelUsage struct {
	tokens tokens
	cost   float64
}

// ccusageByModel adds up ccusage's daily report by model.
func ccusageByModel(path string) (map[string]modelUsage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep struct {
		Daily []struct {
			Models []struct {
				Name        string  `json:"modelName"`
				Input       int64   `json:"inputTokens"`
				Output      int64   `json:"outputTokens"`
				CacheCreate int64   `json:"cacheCreationTokens"`
				CacheRead   int64   `json:"cacheReadTokens"`
				Cost        float64 `json:"cost"`
			} `json:"modelBreakdowns"`
		} `json:"daily"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, err
	}
	out := map[string]modelUsage{}
	for _, d := range rep.Daily {
		for _, m := range d.Models {
			u := out[m.Name]
			u.tokens[0] += m.Input
			u.tokens[1] += m.Output
			u.tokens[2] += m.CacheCreate
			u.tokens[3] += m.CacheRead
			u.cost += m.Cost
			out[m.Name] = u
		}
	}
	return out, nil
}

// convlogByModel reads convlog stats --json's cost by model.
func convlogByModel(path string) (map[string]modelUsage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep struct {
		Models []struct {
			Model       *string  `json:"model"`
			Reported    *float64 `json:"reported_cost_usd"`
			Estimated   *float64 `json:"estimated_cost_usd"`
			Input       int64    `json:"input_tokens"`
			Output      int64    `json:"output_tokens"`
			CacheCreate int64    `json:"cache_creation_input_tokens"`
			CacheRead   int64    `json:"cache_read_input_tokens"`
		} `json:"cost_by_model"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, err
	}
	out := map[string]modelUsage{}
	for _, m := range rep.Models {
		name := "(unknown)"
		if m.Model != nil {
			name = *m.Model
		}
		u := modelUsage{tokens: tokens{m.Input, m.Output, m.CacheCreate, m.CacheRead}}
		for _, c := range []*float64{m.Reported, m.Estimated} {
			if c != nil {
				u.cost += *c
			}
		}
		out[name] = u
	}
	return out, nil
}
