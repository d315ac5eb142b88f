package stream

import (
	"sort"

	"github.com/valyala/fastjson"
)

// LongContext is the size of a request's input (input, cache writes and
// cache reads together) above which Anthropic bills the whole request at
// its long-context rates, on the models that have them.
const LongContext = 200_000

// Tiers of a request, by the size of its input.
const (
	TierStandard = "standard"
	TierLong     = "long" // more than LongContext input tokens
)

// Where a session's usage by model comes from (ModelUsage.Source).
const (
	FromResult   = "result"   // the result lines' modelUsage
	FromTotals   = "totals"   // the result lines' usage, under the session's model
	FromMessages = "messages" // each API message once, by its own model and tier
)

// ModelUsage is one session's use of one model in one pricing tier.
type ModelUsage struct {
	Model    string // "" when not known
	Tier     string
	Requests int64 // API messages counted; 0 when the figures are sums the agent gave
	Usage
	CostUSD float64 // reported for this model, when HasCost
	HasCost bool
}

// reqUsage is the usage of one API message, from its last line.
type reqUsage struct {
	model string
	u     Usage
}

// modelTotals is one agent process's modelUsage, from its last result line.
type modelTotals []ModelUsage

// resultModels reads a result line's modelUsage; nil when it has none.
func resultModels(v *fastjson.Value) modelTotals {
	mu := v.GetObject("modelUsage")
	if mu == nil || mu.Len() == 0 {
		return nil
	}
	var out modelTotals
	mu.Visit(func(k []byte, m *fastjson.Value) {
		u := ModelUsage{Model: string(k), Tier: TierStandard}
		u.Input = m.GetInt64("inputTokens")
		u.Output = m.GetInt64("outputTokens")
		u.CacheCreation = m.GetInt64("cacheCreationInputTokens")
		u.CacheRead = m.GetInt64("cacheReadInputTokens")
		if c := m.Get("costUSD"); c != nil && c.Type() == fastjson.TypeNumber {
			u.CostUSD, u.HasCost = c.GetFloat64(), true
		}
		out = append(out, u)
	})
	return out
}

// UsageKind says where the session's usage by model comes from: the result
// lines' modelUsage (Gemini CLI: stats.models) where any gave it, else the
// result lines' usage (other agents: their totals), else the assistant
// messages; "" when there is none of these.
func (p *Processor) UsageKind() string {
	switch {
	case len(p.resultModels) > 0 || len(p.agentModels) > 0:
		return FromResult
	case p.sawResult || p.agentUsage || p.agentCost:
		// Other agents' totals (Codex, Cursor, opencode give none by
		// model) count as the session's totals under its model.
		return FromTotals
	case len(p.msgUsage) > 0:
		return FromMessages
	}
	return ""
}

// ByModel is the session's usage by model as UsageKind says, except for
// FromTotals, whose one row is the session's totals under the session's
// model, which its writer knows best. Rows are in order of model and tier.
//
// modelUsage is cumulative within one agent process, like total_cost_usd:
// the last result line of each agent session counts, summed over agent
// sessions. Messages count once per API message id, by their last line,
// each in the tier of its own input.
func (p *Processor) ByModel() []ModelUsage {
	type key struct{ model, tier string }
	sum := map[key]*ModelUsage{}
	add := func(u ModelUsage) {
		k := key{u.Model, u.Tier}
		s := sum[k]
		if s == nil {
			s = &ModelUsage{Model: u.Model, Tier: u.Tier}
			sum[k] = s
		}
		s.Requests += u.Requests
		s.Usage.add(u.Usage)
		if u.HasCost {
			s.CostUSD += u.CostUSD
			s.HasCost = true
		}
	}
	switch p.UsageKind() {
	case FromResult:
		for _, sid := range p.costOrderModels {
			for _, u := range p.resultModels[sid] {
				add(u)
			}
		}
		if len(p.resultModels) == 0 {
			// Gemini CLI's figures by model; what other agents' runs in
			// the same stream added (a stream that switched agents) has no
			// model it is known to be of ("").
			rest := p.sumUsage
			for _, k := range p.runOrder {
				rest.add(p.runUsage[k])
			}
			for _, m := range p.agentModelOrder {
				u := p.agentModels[m]
				add(*u)
				rest.Input = subFigure(rest.Input, u.Input)
				rest.Output = subFigure(rest.Output, u.Output)
				rest.CacheCreation = subFigure(rest.CacheCreation, u.CacheCreation)
				rest.CacheRead = subFigure(rest.CacheRead, u.CacheRead)
				rest.CacheCreation1h = subFigure(rest.CacheCreation1h, u.CacheCreation1h)
			}
			if rest != (Usage{}) || p.agentCost {
				add(ModelUsage{Tier: TierStandard, Usage: rest, CostUSD: p.sumCost, HasCost: p.agentCost})
			}
		}
	case FromMessages:
		for k, u := range p.msgAgg {
			if u.Requests != 0 {
				add(ModelUsage{Model: k.model, Tier: k.tier, Requests: u.Requests, Usage: u.Usage})
			}
		}
	}
	out := make([]ModelUsage, 0, len(sum))
	for _, u := range sum {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Model != out[j].Model {
			return out[i].Model < out[j].Model
		}
		return out[i].Tier > out[j].Tier // standard before long
	})
	return out
}

// aggKey groups API messages by model and tier.
type aggKey struct{ model, tier string }

func tierOf(u Usage) string {
	if u.Input+u.CacheCreation+u.CacheRead > LongContext {
		return TierLong
	}
	return TierStandard
}

// noteMessage counts an API message's usage, replacing what an earlier
// line of the same message counted: sums by model and tier are kept as
// lines come, so that ByModel does not walk every message at each commit.
func (p *Processor) noteMessage(id string, r reqUsage) {
	if p.msgAgg == nil {
		p.msgAgg = map[aggKey]*ModelUsage{}
	}
	if old, ok := p.msgUsage[id]; ok {
		a := p.msgAgg[aggKey{old.model, tierOf(old.u)}]
		a.Requests--
		a.Input = subFigure(a.Input, old.u.Input)
		a.Output = subFigure(a.Output, old.u.Output)
		a.CacheCreation = subFigure(a.CacheCreation, old.u.CacheCreation)
		a.CacheRead = subFigure(a.CacheRead, old.u.CacheRead)
		a.CacheCreation1h = subFigure(a.CacheCreation1h, old.u.CacheCreation1h)
	}
	p.msgUsage[id] = r
	k := aggKey{r.model, tierOf(r.u)}
	a := p.msgAgg[k]
	if a == nil {
		a = &ModelUsage{}
		p.msgAgg[k] = a
	}
	a.Requests++
	a.Usage.add(r.u)
	p.usageGen++
}

// UsageGen changes whenever what ByModel returns may have changed.
func (p *Processor) UsageGen() int64 { return p.usageGen }

// subFigure takes b back out of a; a figure that was Unknown stays so.
func subFigure(a, b int64) int64 {
	if a == Unknown || b == Unknown {
		return Unknown
	}
	return a - b
}
