package web

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/convlog/convlog/internal/testkit"
	"github.com/convlog/convlog/report"
)

// The benchmarks behind the web figures of scripts/bench.sh. Each takes its
// input from an environment variable that bench.sh sets, or makes a smaller
// one of its own, so that `go test -bench Web ./web` runs by itself.

// BenchmarkWebPage opens a session page from file:// in Chromium and
// reports when it was interactive (header, timeline and the first screen of
// the conversation drawn, handlers attached) and when the whole
// conversation was in the page, in ms from the start of navigation.
// CONVLOG_BENCH_PAGE names the page (bench.sh: a 10,000-message session).
func BenchmarkWebPage(b *testing.B) {
	page := os.Getenv("CONVLOG_BENCH_PAGE")
	if page == "" {
		dir := b.TempDir()
		testkit.BigSession(b, dir, "big", 2000, 1500)
		page = filepath.Join(dir, "big.html")
		if res := run(b, dir, nil, nil, "html", "--dir", dir, "-o", page, "big"); res.Code != 0 {
			b.Fatalf("convlog html: %s", res.Stderr)
		}
	}
	// The baseline: a page with the same data and a script that only
	// parses it, the least a page drawn by a script from its data needs.
	b.StopTimer()
	raw, err := os.ReadFile(page)
	if err != nil {
		b.Fatal(err)
	}
	start := bytes.Index(raw, []byte(`id="data">`)) + len(`id="data">`)
	end := start + bytes.Index(raw[start:], []byte("</script>"))
	baseline := filepath.Join(b.TempDir(), "baseline.html")
	os.WriteFile(baseline, slices.Concat([]byte("<!doctype html>\n<meta charset=\"utf-8\">\n<title>baseline</title>\n"),
		raw[start-len(`<script type="application/json" id="data">`):end],
		[]byte("</script>\n<script>JSON.parse(document.getElementById('data').textContent);\n"+
			"requestAnimationFrame(() => setTimeout(() => { document.documentElement.dataset.readyAt = performance.now(); }, 0));</script>\n")), 0o600)
	b.StartTimer()
	var ready, rendered, static []float64
	for b.Loop() {
		tb := newTab(b)
		tb.open("file://"+page, true)
		ready = append(ready, js[float64](tb, `+document.documentElement.dataset.readyAt`))
		rendered = append(rendered, js[float64](tb, `+document.documentElement.dataset.renderedAt`))
		tb.open("file://"+baseline, false)
		tb.waitJS(`document.documentElement.dataset.readyAt !== undefined`)
		static = append(static, js[float64](tb, `+document.documentElement.dataset.readyAt`))
		tb.check("file://")
	}
	b.ReportMetric(median(ready), "ms-interactive")
	b.ReportMetric(median(rendered), "ms-rendered")
	b.ReportMetric(median(static), "ms-data-parsed")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	vals := make([]int64, len(s))
	for i, v := range s {
		vals[i] = int64(v * 1000)
	}
	return float64(report.Percentile(vals, p)) / 1000
}

// BenchmarkWebServe runs convlog serve on a folder of sessions and asks for
// the list page, sorted and filtered in turn, reporting the server's own
// time for it (its Server-Timing header): p50 and p95, and the server's
// peak RSS after the list, a session page and the stats page.
// CONVLOG_BENCH_SESSIONS names the folder (bench.sh: 10,000 sessions);
// without it, 300 sessions are made.
func BenchmarkWebServe(b *testing.B) {
	dir := os.Getenv("CONVLOG_BENCH_SESSIONS")
	if dir == "" {
		dir = b.TempDir()
		for i := range 300 {
			s := testkit.NewSession(b, dir, fmt.Sprintf("s%04d", i))
			s.Line(testkit.InitLine).Line(`{"type":"user","message":{"role":"user","content":"fix the tests, please"}}`)
			s.Line(testkit.ToolUse(fmt.Sprintf("t%d", i), "go test ./...")).Line(testkit.ToolResult(fmt.Sprintf("t%d", i), "ok", i%3 == 0))
			s.Line(testkit.AssistantText(1, "done")).Line(testkit.ResultLine).Finish()
		}
	}
	started := time.Now()
	srv := startServe(b, "--dir", dir)
	// Reported after the loop: b.Loop's start deletes what was reported.
	start := time.Since(started)
	paths := []string{"", "?sort=cost", "?sort=duration&order=asc", "?sort=errors", "?result=success", "?q=tests", "?page=3", "?model=claude-test"}
	var server []float64
	// Each request once first: the first search waits for the prompts that
	// the server looks up in the background after its start. The figures
	// are those of a server in use.
	for _, p := range paths {
		srv.timedGet(b, p)
	}
	for b.Loop() {
		for _, p := range paths {
			server = append(server, srv.timedGet(b, p))
		}
	}
	srv.timedGet(b, "stats")
	ids, _ := os.ReadDir(dir)
	for _, e := range ids {
		if id, ok := strings.CutSuffix(e.Name(), ".db"); ok {
			srv.timedGet(b, "s/"+id)
			break
		}
	}
	b.Logf("list page, server time in ms: %v", server)
	b.ReportMetric(start.Seconds(), "s-start")
	b.ReportMetric(percentile(server, 50), "ms-list-p50")
	b.ReportMetric(percentile(server, 95), "ms-list-p95")
	b.ReportMetric(float64(peakRSS(b, srv.Cmd.Process.Pid))/1024, "MiB-peak-rss")
}

// timedGet asks for a page and returns the server's time for it, in ms.
func (s *served) timedGet(b testing.TB, path string) float64 {
	resp, body := s.get(b, path)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /%s: %s\n%s", path, resp.Status, body)
	}
	st := resp.Header.Get("Server-Timing")
	_, dur, ok := strings.Cut(st, "dur=")
	ms, err := strconv.ParseFloat(dur, 64)
	if !ok || err != nil {
		b.Fatalf("Server-Timing %q", st)
	}
	return ms
}

// peakRSS is a process's peak resident set, in KiB.
func peakRSS(b testing.TB, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// BenchmarkWebLive: a page open on a running session; 100 tool calls are
// logged one after the other through convlog tee, each once the page shows
// the one before; the page notes when each bar appears. Reported: p50 and
// p95 of the time from tee passing the tool_use line on (it logs it at the
// same moment) to its bar in the page.
func BenchmarkWebLive(b *testing.B) {
	// 100 updates take about 20 s; scripts/bench.sh --quick asks for fewer.
	updates := 100
	if n, err := strconv.Atoi(os.Getenv("CONVLOG_BENCH_LIVE_UPDATES")); err == nil && n > 0 {
		updates = n
	}
	var lat []float64
	for b.Loop() {
		dir := b.TempDir()
		rt := startLiveTee(b, dir, "live")
		rt.Send(testkit.InitLine)
		pollDB(b, rt.Path, "SELECT count(*) FROM messages", 1)
		srv := startServe(b, "--dir", dir)
		tb := newTab(b)
		tb.open(srv.URL+"s/live", true)
		tb.waitJS(`document.documentElement.dataset.live === 'open'`)
		tb.do(chromedp.Evaluate[chromedp.Void](`window.seen = {};
			new MutationObserver(() => { for (const r of document.querySelectorAll('rect.bar')) if (!(r.dataset.id in seen)) seen[r.dataset.id] = Date.now(); })
				.observe(document.getElementById('timeline'), {subtree: true, childList: true});`))
		sent := map[string]int64{}
		for i := range updates {
			id := fmt.Sprintf("toolu_live_%d", i)
			rt.Send(testkit.ToolUse(id, "make "+strconv.Itoa(i)))
			sent[id] = time.Now().UnixMilli()
			tb.waitJS(`'` + id + `' in window.seen`)
			rt.Send(testkit.ToolResult(id, "ok", false))
		}
		seen := js[map[string]float64](tb, `window.seen`)
		for id, at := range sent {
			lat = append(lat, seen[id]-float64(at))
		}
		rt.Finish()
	}
	b.ReportMetric(percentile(lat, 50), "ms-live-p50")
	b.ReportMetric(percentile(lat, 95), "ms-live-p95")
}
