package report

import (
	"sort"

	"github.com/convlog/convlog/record"
)

// EstimateCost prices a session's usage rows that carry no reported cost,
// each in its tier; unpriced lists the models without a known price. The
// estimate is nil when nothing could be priced.
func EstimateCost(rows []record.UsageRow) (estimate *float64, unpriced []string) {
	for _, u := range rows {
		if u.Cost != nil {
			continue
		}
		t := TokenCounts{Input: u.Input, Output: u.Output, CacheWrite: u.CacheCreation, CacheWrite1h: u.CacheCreation1h, CacheRead: u.CacheRead}
		if !t.Any() {
			continue
		}
		p, ok := PriceOf(u.Model)
		if !ok {
			unpriced = append(unpriced, u.Model)
			continue
		}
		estimate = addFloat(estimate, p.CostIn(u.Tier, t))
	}
	sort.Strings(unpriced)
	return estimate, unpriced
}
