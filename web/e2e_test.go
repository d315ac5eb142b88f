package web

import (
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// toolStatuses reads each tool call's status from a session file.
func toolStatuses(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, status FROM tool_calls`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]string{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			t.Fatal(err)
		}
		want[id] = "status-" + st
	}
	return want
}

// barStatuses is each timeline bar's tool call id and status class.
const barStatuses = `Object.fromEntries([...document.querySelectorAll('svg.tl rect.bar')].map(r =>
	[r.dataset.id, [...r.classList].filter(c => c.startsWith('status-')).join(' ')]))`

// checkTimeline: one bar per tool call of the session file, with its
// status; a click on a bar opens its call in the conversation and brings
// it into view; "errors only" leaves the failed calls.
func checkTimeline(t *testing.T, tb *tab, path string) {
	t.Helper()
	want := toolStatuses(t, path)
	if len(want) < 10 {
		t.Fatalf("the fixture has %d tool calls", len(want))
	}
	got := js[map[string]string](tb, barStatuses)
	if !maps.Equal(got, want) {
		t.Errorf("timeline bars (id → status) %v, want %v", got, want)
	}
	// A sub-agent's calls are in a lane under the Task that started them.
	subY := js[float64](tb, `+document.querySelector('rect.bar[data-id="toolu_02Grep"]').getAttribute('y')`)
	taskY := js[float64](tb, `+document.querySelector('rect.bar[data-id="toolu_01Task"]').getAttribute('y')`)
	if subY <= taskY {
		t.Errorf("the sub-agent's Grep is at y %v, not under its Task at %v", subY, taskY)
	}

	// The last failed call, far down the conversation.
	const id = "toolu_02Read2"
	if js[bool](tb, `document.querySelector('details.call[data-id="`+id+`"]').open`) {
		t.Fatal("a tool call is open before any click")
	}
	tb.clickUntil(`rect.bar[data-id="`+id+`"]`, `(() => { const d = document.querySelector('details.call[data-id="`+id+`"]');
		if (!d || !d.open || !d.querySelector('.body')) return false; const r = d.getBoundingClientRect();
		return r.top >= 0 && r.top < innerHeight; })()`)
	out := js[string](tb, `document.querySelector('details.call[data-id="`+id+`"] .body').textContent`)
	if !strings.Contains(out, "File does not exist: /home/dev/shop/invoice/pdf.go") || !strings.Contains(out, "output (error)") {
		t.Errorf("the clicked call shows %q", out)
	}

	// Hovering a bar names its tool and digests its input.
	box := js[[]float64](tb, `(() => { const r = document.querySelector('rect.bar[data-id="toolu_01Bash"]');
		r.scrollIntoView({block: 'center'}); const b = r.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`)
	tb.do(chromedp.MouseEvent("mouseMoved", box[0], box[1]))
	tb.waitJS(`!document.getElementById('tip').hidden`)
	tip := js[string](tb, `document.getElementById('tip').textContent`)
	if !strings.Contains(tip, "Bash") || !strings.Contains(tip, "go test ./checkout/") || !strings.Contains(tip, "error") {
		t.Errorf("the tooltip says %q", tip)
	}

	// Errors only: the failed calls stay bright, the others dim; every
	// message left shows a failure.
	tb.do(chromedp.Click(chromedp.CSS("#f-errors")))
	bright := js[[]string](tb, `[...document.querySelectorAll('svg.tl rect.bar:not(.dim)')].map(r => r.dataset.id).sort()`)
	var failed []string
	for id, st := range want {
		if st == "status-error" {
			failed = append(failed, id)
		}
	}
	slices.Sort(failed)
	if !slices.Equal(bright, failed) {
		t.Errorf("with errors only, bright bars %q, want %q", bright, failed)
	}
	if n := js[int](tb, `[...document.querySelectorAll('#conv > .msg')].filter(e => !e.hidden && !e.classList.contains('has-error')).length`); n != 0 {
		t.Errorf("with errors only, %d messages without an error show", n)
	}
	tb.do(chromedp.Click(chromedp.CSS("#f-errors")))
	// One tool: its calls stay bright; every message left calls it.
	tb.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('f-tool'); s.value = 'Read';
		s.dispatchEvent(new Event('change')); })()`))
	bright = js[[]string](tb, `[...document.querySelectorAll('svg.tl rect.bar:not(.dim)')].map(r => r.dataset.id).sort()`)
	if want := []string{"toolu_01Read", "toolu_02Read1", "toolu_02Read2"}; !slices.Equal(bright, want) {
		t.Errorf("with the tool Read, bright bars %q, want %q", bright, want)
	}
	if n := js[int](tb, `[...document.querySelectorAll('#conv > .msg')].filter(e => !e.hidden && !e.dataset.tools.split('\n').includes('Read')).length`); n != 0 {
		t.Errorf("with the tool Read, %d messages without it show", n)
	}
	tb.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('f-tool'); s.value = '';
		s.dispatchEvent(new Event('change')); })()`))
	// Hide sub-agents: their lane and messages go.
	tb.do(chromedp.Click(chromedp.CSS("#f-hideSub")))
	if n := js[int](tb, `document.querySelectorAll('rect.bar[data-id^="toolu_02"]').length`); n != 0 {
		t.Errorf("with sub-agents hidden, %d of their bars remain", n)
	}
	if n := js[int](tb, `[...document.querySelectorAll('#conv > .msg.sub')].filter(e => !e.hidden).length`); n != 0 {
		t.Errorf("with sub-agents hidden, %d of their messages show", n)
	}
	tb.do(chromedp.Click(chromedp.CSS("#f-hideSub")))
}

// checkHostile opens everything on a page of the hostile session and
// checks that every payload is there as text and none became markup.
func checkHostile(t *testing.T, tb *tab, session bool) {
	t.Helper()
	shown := []string{"<img src=x onerror=convlogXSS('model')>"}
	if session {
		if n := js[int](tb, `document.querySelectorAll('details[open]').length`); n != 0 {
			t.Errorf("%d tool calls or thinking blocks are open at first", n)
		}
		tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('details').forEach(d => d.open = true)`))
		tb.waitJS(`[...document.querySelectorAll('details.call')].every(d => d.dataset.filled)`)
		// A long output is cut, with a way to see all of it.
		long := js[string](tb, `document.querySelector('details.call[data-id="toolu_long"] .out').textContent`)
		if strings.Contains(long, "after the cut") || !strings.Contains(long, "show all 10,854 characters") {
			t.Errorf("the long output shows %d characters, ending %q", len(long), long[max(0, len(long)-80):])
		}
		tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('button.more').forEach(b => b.click())`))
		shown = append(shown, "<script>convlogXSS('script')</script>", `<img src=x onerror="convlogXSS('img')">`,
			"[click me](javascript:convlogXSS('mdlink'))", "</script><script>convlogXSS('breakout')</script><!--",
			`o/r"><script>convlogXSS('repo')</script>`, `<img src=x onerror="convlogXSS('late')"> after the cut`)
	}
	text := js[string](tb, `document.body.innerText`)
	for _, p := range shown {
		if !strings.Contains(text, p) {
			t.Errorf("the page does not show %q as text", p)
		}
	}
	checks := map[string]string{
		"elements that load or embed":                     `document.querySelectorAll('img, iframe, object, embed, video, audio, source, base, form[action^="javascript"], link:not([rel="icon"])').length`,
		"event handler attributes":                        `[...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length`,
		"links that are not http(s), mailto or the app's": `[...document.querySelectorAll('a[href]')].filter(a => !/^(https?:\/\/|mailto:|\/|\?)/.test(a.getAttribute('href'))).length`,
		"script elements beyond the page's own":           `document.scripts.length - (document.getElementById('data') ? 2 : 0)`,
		"style elements beyond the page's own":            `document.querySelectorAll('style').length - 1`,
		"svg elements that are not the page's charts":     `document.querySelectorAll('svg:not(.tl):not(.chart-svg)').length`,
	}
	for what, expr := range checks {
		if n := js[int](tb, expr); n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
}

func TestServe(t *testing.T) {
	sessions := filepath.Join(t.TempDir(), "sessions")
	teePaced(t, sessions, "paced", "session.jsonl")
	teeFixture(t, sessions, "hostile", "xss.jsonl",
		`GITHUB_REPOSITORY=o/r"><script>convlogXSS('repo')</script>`, "GITHUB_RUN_ID=7")
	srv := startServe(t, "--dir", sessions)
	origin := strings.TrimSuffix(srv.URL, "/")

	t.Run("session", func(t *testing.T) {
		tb := newTab(t)
		tb.open(srv.URL+"s/paced", true)
		checkTimeline(t, tb, filepath.Join(sessions, "paced.db"))
		head := js[string](tb, `document.getElementById('head').innerText`)
		for _, want := range []string{"claude-sonnet-4-5-20250929", "Claude Code 2.1.76", "success", "$0.1872", "reported",
			"/home/dev/shop", "UTC", "ERRORS\n2", "TOOL CALLS\n11"} {
			if !strings.Contains(head, want) {
				t.Errorf("the header lacks %q:\n%s", want, head)
			}
		}
		// The secret that tee redacted shows as its marker.
		tb.clickUntil(`rect.bar[data-id="toolu_02Bash"]`,
			`document.querySelector('details.call[data-id="toolu_02Bash"] .redacted, details.call[data-id="toolu_02Bash"] pre') !== null`)
		if out := js[string](tb, `document.querySelector('details.call[data-id="toolu_02Bash"] .body').textContent`); !strings.Contains(out, "[REDACTED:github]") {
			t.Errorf("the redacted output shows %q", out)
		}
		tb.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		tb.screenshot("session")
		tb.check(origin)
	})
	t.Run("hostile", func(t *testing.T) {
		tb := newTab(t)
		for _, page := range []struct {
			path    string
			session bool
		}{{"s/hostile", true}, {"", false}, {"stats", false}} {
			tb.open(srv.URL+page.path, page.session)
			checkHostile(t, tb, page.session)
		}
		tb.check(origin, "data:")
	})
	t.Run("list and stats", func(t *testing.T) {
		tb := newTab(t)
		tb.open(srv.URL, false)
		ids := js[[]string](tb, `[...document.querySelectorAll('table.list td.id a')].map(a => a.getAttribute('href'))`)
		if !slices.Equal(ids, []string{"/s/hostile", "/s/paced"}) {
			t.Errorf("the list links to %q, want the two sessions, newest first", ids)
		}
		tb.screenshot("list")
		if _, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`a[href="/s/paced"]`))); err != nil {
			t.Fatal(err)
		}
		tb.waitJS(`location.pathname === '/s/paced' && document.documentElement.dataset.rendered === '1'`)
		tb.open(srv.URL+"stats", false)
		if n := js[int](tb, `document.querySelectorAll('svg.chart-svg rect').length`); n < 10 {
			t.Errorf("the stats page has %d bars", n)
		}
		tb.screenshot("stats")
		tb.check(origin, "data:") // the date fields' own icons
	})
}

func TestHTMLFile(t *testing.T) {
	dir := t.TempDir()
	sessions := filepath.Join(dir, "sessions")
	teePaced(t, sessions, "paced", "session.jsonl")
	teeFixture(t, sessions, "hostile", "xss.jsonl",
		`GITHUB_REPOSITORY=o/r"><script>convlogXSS('repo')</script>`, "GITHUB_RUN_ID=7")
	out := filepath.Join(dir, "pages")
	if res := run(t, dir, nil, nil, "html", "--dir", sessions, "-o", out+"/", "paced", "hostile"); res.Code != 0 {
		t.Fatalf("convlog html: exit %d: %s", res.Code, res.Stderr)
	}
	tb := newTab(t)
	page := "file://" + filepath.Join(out, "paced.html")
	tb.open(page, true)
	checkTimeline(t, tb, filepath.Join(sessions, "paced.db"))
	tb.open("file://"+filepath.Join(out, "hostile.html"), true)
	checkHostile(t, tb, true)
	tb.check("file://" + out + "/")
	tb.mu.Lock()
	if len(tb.requests) != 2 {
		t.Errorf("requests %q, want the two pages only", tb.requests)
	}
	tb.mu.Unlock()
	if fi, err := os.Stat(filepath.Join(out, "paced.html")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("page: %v, mode %v", err, fi.Mode())
	}
}

// A picture a tool returned is shown as the picture, in the page written
// to a file: Anthropic's block and MCP's; an SVG, or data that is not
// base64, stays text, and runs nothing.
func TestHTMLImages(t *testing.T) {
	dir := t.TempDir()
	sessions := filepath.Join(dir, "sessions")
	if err := os.MkdirAll(sessions, 0o700); err != nil {
		t.Fatal(err)
	}
	teeFixture(t, sessions, "images", "images.jsonl")
	page := filepath.Join(dir, "images.html")
	if res := run(t, dir, nil, nil, "html", "--dir", sessions, "-o", page, "images"); res.Code != 0 {
		t.Fatalf("convlog html: exit %d: %s", res.Code, res.Stderr)
	}
	tb := newTab(t)
	tb.open("file://"+page, true)
	tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('details.call').forEach(d => d.open = true)`))
	tb.waitJS(`[...document.querySelectorAll('details.call')].every(d => d.dataset.filled)`)
	tb.waitJS(`[...document.querySelectorAll('img.pic')].every(i => i.complete)`)
	for id, want := range map[string]int{"toolu_png": 1, "toolu_mcp": 1, "toolu_svg": 0, "toolu_bad": 0} {
		call := `document.querySelector('details.call[data-id="` + id + `"]')`
		if n := js[int](tb, call+`.querySelectorAll('img').length`); n != want {
			t.Errorf("%s: %d pictures, want %d", id, n, want)
		}
		if want == 1 {
			if w := js[int](tb, call+`.querySelector('img.pic').naturalWidth`); w != 2 {
				t.Errorf("%s: the picture is %d pixels wide, want 2 (not decoded?)", id, w)
			}
			if out := js[string](tb, call+`.querySelector('.out').textContent`); strings.Contains(out, "iVBOR") || !strings.Contains(out, "[image image/png]") {
				t.Errorf("%s: the output shows %q", id, out)
			}
		} else if out := js[string](tb, call+`.querySelector('.out').textContent`); !strings.Contains(out, `"type":"image"`) {
			t.Errorf("%s: the output shows %q, want the block as text", id, out)
		}
	}
	tb.check("file://", "data:image/png;base64,")
}

// TestLive: a page open on a session that convlog tee is writing shows
// each new tool call as it is logged, without a reload; a pending call's
// bar grows; the end of the session ends the page's stream.
func TestLive(t *testing.T) {
	sessions := t.TempDir()
	rt := startLiveTee(t, sessions, "live")
	lines := fixtureLines(t, "session.jsonl")
	const first = 5 // up to the first thinking block
	for _, l := range lines[:first] {
		rt.Send(l)
	}
	pollDB(t, rt.Path, "SELECT count(*) FROM messages", first)
	srv := startServe(t, "--dir", sessions)
	tb := newTab(t)
	tb.open(srv.URL+"s/live", true)
	if badge := js[string](tb, `document.querySelector('#head .badge').textContent`); !strings.Contains(badge, "running") {
		t.Fatalf("the badge of a running session says %q", badge)
	}
	tb.waitJS(`document.documentElement.dataset.live === 'open'`)
	tb.do(chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`))

	// The tool_use of Bash: its bar appears, pending, and grows.
	sent := time.Now()
	rt.Send(lines[first])
	tb.waitJS(`document.querySelector('rect.bar[data-id="toolu_01Bash"].status-pending') !== null`)
	t.Logf("the new tool call was on the page %v after tee passed its line on", time.Since(sent).Round(time.Millisecond))
	w0 := js[float64](tb, `+document.querySelector('rect.bar[data-id="toolu_01Bash"]').getAttribute('width')`)
	tb.waitJS(`+document.querySelector('rect.bar[data-id="toolu_01Bash"]').getAttribute('width') > ` + ftoa(w0+2))
	if js[int](tb, `document.querySelectorAll('details.call[data-id="toolu_01Bash"]').length`) != 1 {
		t.Error("the new call is not in the conversation")
	}
	// Its result, and the rest of the session.
	for _, l := range lines[first+1 : first+5] {
		rt.Send(l)
	}
	tb.waitJS(`document.querySelector('rect.bar[data-id="toolu_01Bash"].status-error') !== null`)
	tb.waitJS(`document.querySelector('rect.bar[data-id="toolu_01Glob"].status-success') !== null`)
	for _, l := range lines[first+5:] {
		rt.Send(l)
	}
	rt.Finish()
	tb.waitJS(`document.documentElement.dataset.live === 'ended'`)
	got := js[map[string]string](tb, barStatuses)
	if want := toolStatuses(t, rt.Path); !maps.Equal(got, want) {
		t.Errorf("after the end, bars %v, want %v", got, want)
	}
	if badge := js[string](tb, `document.querySelector('#head .badge').textContent`); badge != "success" {
		t.Errorf("the badge at the end says %q", badge)
	}
	if !js[bool](tb, `window.sameDocument === true`) {
		t.Error("the page was reloaded")
	}
	if !js[bool](tb, `document.getElementById('m31') !== null && document.getElementById('m32') !== null`) {
		t.Error("the last messages are not on the page")
	}
	tb.check(strings.TrimSuffix(srv.URL, "/"))
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
