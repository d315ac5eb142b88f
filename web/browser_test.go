package web

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// One Chromium serves all the tests of the package, each test in tabs of
// its own; it starts on first use and stops in TestMain.
var (
	browserMu   sync.Mutex
	browserCtx  context.Context
	browserStop func()
)

func chromiumPath() (string, error) {
	if p := os.Getenv("CONVLOG_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium: run scripts/install-test-deps.sh, or set CONVLOG_CHROMIUM to a Chrome or Chromium binary")
}

func browser(t testing.TB) context.Context {
	t.Helper()
	browserMu.Lock()
	defer browserMu.Unlock()
	if browserCtx != nil {
		return browserCtx
	}
	path, err := chromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "convlog-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// Headless, and quiet: without the background-networking flags
	// Chromium reaches out to the network by itself, which would count as
	// a request of the page.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(dir)
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	browserCtx = bctx
	browserStop = func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	return browserCtx
}

func closeBrowser() {
	browserMu.Lock()
	defer browserMu.Unlock()
	if browserStop != nil {
		browserStop()
	}
}

// tab is a browser tab that records what a test must not see: console
// errors and warnings, uncaught exceptions, log entries (a blocked script
// or request is one), every request the page makes, and every call of the
// test hook convlogXSS, which only injected script would make.
type tab struct {
	t        testing.TB
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	requests []string
	xss      []string
}

func newTab(t testing.TB) *tab {
	t.Helper()
	tb := &tab{t: t}
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	tb.ctx = ctx
	err := chromedp.Do(ctx, chromedp.ExposeFunc("convlogXSS", func(_ context.Context, arg any) (bool, error) {
		tb.mu.Lock()
		tb.xss = append(tb.xss, fmt.Sprint(arg))
		tb.mu.Unlock()
		return true, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func (tb *tab) listen(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			tb.problems = append(tb.problems, "console."+string(e.Type)+": "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		tb.problems = append(tb.problems, "exception: "+msg)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			tb.problems = append(tb.problems, fmt.Sprintf("log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		tb.requests = append(tb.requests, e.Request.URL)
	}
}

// open navigates to url and waits until the page has drawn everything
// (session pages say so on <html data-rendered>; other pages when loaded).
func (tb *tab) open(url string, session bool) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(url)); err != nil {
		tb.t.Fatalf("open %s: %v", url, err)
	}
	if session {
		tb.waitJS("document.documentElement.dataset.rendered === '1'")
	}
}

// waitJS waits until a JavaScript expression is true in the page.
func (tb *tab) waitJS(expr string) {
	tb.t.Helper()
	_, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(10*time.Millisecond),
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		tb.t.Fatalf("waiting for %s: %v; problems so far: %q", expr, err, tb.seen())
	}
}

// clickUntil clicks the element sel until the expression cond is true in
// the page, three times at most. A real click lands where the element was
// when it was measured: on a loaded machine, the page can redraw its
// timeline, or show a tooltip there, in between, and the click then meets
// something else.
func (tb *tab) clickUntil(sel, cond string) {
	tb.t.Helper()
	for try := 1; ; try++ {
		tb.do(chromedp.Click(chromedp.CSS(sel)))
		_, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(10*time.Millisecond),
			chromedp.WithPollingTimeout(10*time.Second)))
		if err == nil {
			return
		}
		if try == 3 {
			tb.t.Fatalf("clicked %s %d times, and still not %s: %v; problems so far: %q", sel, try, cond, err, tb.seen())
		}
		tb.t.Logf("clicked %s, and not yet %s; again", sel, cond)
	}
}

// js evaluates an expression in the page.
func js[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb *tab) seen() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.problems...)
}

// check fails the test on any problem, on any call of the injection hook,
// and on any request whose URL does not start with one of the origins.
func (tb *tab) check(origins ...string) {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Errorf("the page reported: %s", p)
	}
	for _, x := range tb.xss {
		tb.t.Errorf("injected script ran: convlogXSS(%s)", x)
	}
	for _, u := range tb.requests {
		ok := false
		for _, o := range origins {
			ok = ok || strings.HasPrefix(u, o)
		}
		if !ok {
			tb.t.Errorf("request outside %q: %s", origins, u)
		}
	}
}

// screenshot writes the whole page to web/testdata/screenshots/name.png
// (ignored by git), or into the folder CONVLOG_SCREENSHOTS names, for
// people to look at.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	dir := os.Getenv("CONVLOG_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	// A viewport as tall as the page, so that everything is laid out and
	// painted (the conversation skips the painting of what is off screen).
	h := js[float64](tb, "Math.min(document.documentElement.scrollHeight, 6000)")
	tb.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: 1280, Height: int64(h), DeviceScaleFactor: 1})
		return err
	}))
	buf, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))
}
