package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/convlog/convlog/record"
	"github.com/convlog/convlog/report"
)

// More fixed sessions for the Markdown goldens.
const (
	goldenHostile = "0f0f0f0f-1111-4222-8333-444455556666"
	goldenErrored = "0e0e0e0e-1111-4222-8333-444455556666"
)

// hostileError is a failed call's error text made to break a summary:
// table pipes, fences, HTML, Markdown, terminal escapes, CRLF.
const hostileError = "| pipe | in | cells |\n```\ncode\n```\n<script>alert(1)</script> **bold** _it_ " +
	"[link](javascript:alert(1)) ![img](http://example.com/y.png) ~~strike~~ $x^2$ &amp; \\ \x1b[31mred\x1b[0m\r\nCRLF"

// hostileResult is a final result text with fences inside and a very long
// line, cut in the summary.
var hostileResult = "Done.\n\n````\nnested ``` fence\n````\n<details><summary>x</summary>hidden</details>\n" +
	strings.Repeat("x", 9000)

// hostileLines is a session of many tool calls with hostile names and
// errors, timed so that its figures are known: 20 Bash calls of 1…20 s
// (p95 19 s, total 210 s), 22 failing Flaky calls, calls of oddly named
// tools, a call with no result, and a result line with hostileResult.
func hostileLines(t testing.TB) [][]byte {
	t.Helper()
	now := time.UnixMilli(goldenStart)
	var lines [][]byte
	add := func(v map[string]any) {
		v["timestamp"] = now.UTC().Format(time.RFC3339Nano)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}
	call := func(id, name string, took time.Duration, content string, isError bool) {
		add(map[string]any{"type": "assistant", "message": map[string]any{"role": "assistant",
			"content": []any{map[string]any{"type": "tool_use", "id": id, "name": name, "input": map[string]any{}}}}})
		now = now.Add(took)
		add(map[string]any{"type": "user", "message": map[string]any{"role": "user",
			"content": []any{map[string]any{"type": "tool_result", "tool_use_id": id, "content": content, "is_error": isError}}}})
		now = now.Add(100 * time.Millisecond)
	}
	add(map[string]any{"type": "system", "subtype": "init", "model": "claude|<b>bold</b>`x`", "cwd": "/w", "session_id": goldenHostile})
	for i := 1; i <= 20; i++ {
		call(fmt.Sprintf("toolu_bash%02d", i), "Bash", time.Duration(i)*time.Second, "ok", false)
	}
	call("toolu_pipe", "Bad|Tool", 1500*time.Millisecond, hostileError, true)
	call("toolu_img", "<img src=x onerror=alert(1)>", 20*time.Millisecond, strings.Repeat("very long line ", 200), true)
	call("toolu_long", "mcp__"+strings.Repeat("x", 300), 5*time.Millisecond, "", true)
	for i := 1; i <= 22; i++ {
		call(fmt.Sprintf("toolu_flaky%02d", i), "Flaky", 10*time.Millisecond, fmt.Sprintf("try again #%d", i), true)
	}
	add(map[string]any{"type": "assistant", "message": map[string]any{"role": "assistant",
		"content": []any{map[string]any{"type": "tool_use", "id": "toolu_pending", "name": "Read", "input": map[string]any{}}}}})
	now = now.Add(time.Second)
	add(map[string]any{"type": "result", "subtype": "success", "is_error": false, "num_turns": 3,
		"total_cost_usd": 1.5, "result": hostileResult,
		"usage": map[string]any{"input_tokens": 10, "output_tokens": 20}})
	return lines
}

// writeMarkdownSessions adds the hostile session, and one that ended in an
// error result without text or tool calls, to a golden folder.
func writeMarkdownSessions(t testing.TB, dir string) {
	t.Helper()
	lines := hostileLines(t)
	writeGoldenSession(t, dir, record.Meta{ID: goldenHostile, StartedAt: goldenStart}, lines, goldenStart+300_000)
	errored := [][]byte{
		[]byte(`{"type":"system","subtype":"init","model":"claude-haiku","cwd":"/w","timestamp":"2025-12-22T10:30:00.100Z"}`),
		[]byte(`{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":1,"errors":["API Error: 529 overloaded",{"code":"x"}],"timestamp":"2025-12-22T10:30:04.000Z"}`),
	}
	writeGoldenSession(t, dir, record.Meta{ID: goldenErrored, StartedAt: goldenStart}, errored, goldenStart+4_000)
}

func TestQueryMarkdownGolden(t *testing.T) {
	dir := goldenDir(t)
	writeMarkdownSessions(t, dir)
	for _, c := range []struct{ golden, id string }{
		{"query/summary.md.golden", goldenFull},
		{"query/incomplete.md.golden", goldenIncomplete},
		{"query/noresult.md.golden", goldenNoResult},
		{"query/oldschema.md.golden", goldenOld},
		{"query/hostile.md.golden", goldenHostile},
		{"query/errored.md.golden", goldenErrored},
	} {
		t.Run(c.golden, func(t *testing.T) {
			stdout, stderr, code := queryRun(t, nil, "query", "--dir", dir, c.id, "--markdown")
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			checkMarkdown(t, stdout)
			queryGolden(t, c.golden, []byte(stdout))
		})
	}
}

// TestQueryMarkdownHostile checks what the hostile golden must show, as a
// reader sees it once GitHub has rendered it.
func TestQueryMarkdownHostile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	writeMarkdownSessions(t, dir)
	stdout, _, _ := queryRun(t, nil, "query", "--dir", dir, goldenHostile, "--markdown")
	// Rendered, with cells reduced to <td>text</td>, and code spans and
	// the links GitHub makes of bare URLs to their text, so that what a
	// reader sees can be compared.
	out := renderGFM(t, stdout)
	out = regexp.MustCompile(`<(td|th) style="[^"]*">`).ReplaceAllString(out, "<$1>")
	out = regexp.MustCompile(`</?code>|<a href="[^"]*">|</a>`).ReplaceAllString(strings.ReplaceAll(out, ">\n<", "><"), "")
	text := html.UnescapeString(strings.ReplaceAll(out, "<br>", "\n"))
	for _, want := range []string{
		"<td>claude|<b>bold</b>`x`</td>", // the model, as text
		"<td>Bash</td><td>20</td><td>0</td><td>3m30s</td><td>19.0s</td>",
		"<td>Bad|Tool</td>",
		"<td><img src=x onerror=alert(1)></td>",
		"<td>" + strings.ReplaceAll(strings.ReplaceAll(hostileError, "\r\n", "\n"), "\x1b", `\x1b`) + "</td>",
		"<td>" + report.Clip(strings.TrimSpace(strings.Repeat("very long line ", 200)), 500) + "</td>",
		"<td>(no error text)</td>",
		"<td>Flaky</td><td>22</td><td>22</td>",
		"…and 5 more; convlog query " + goldenHostile + " --tools lists every call.",
		"1 tool call got no result.",
		"<td>mcp__" + strings.Repeat("x", 95) + "… [+205 chars]</td>",
		"<pre>" + hostileResult[:8000] + "… [+" + fmt.Sprint(len(hostileResult)-8000) + " chars]\n</pre>",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered summary lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("rendered (cut):\n%s", report.Clip(text, 6000))
	}
}

var (
	gfmRenderer = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	tagRe       = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>`)
	pipeRe      = regexp.MustCompile(`(^|[^\\])((\\\\)*)\|`)
)

func renderGFM(t testing.TB, md string) string {
	t.Helper()
	var b bytes.Buffer
	if err := gfmRenderer.Convert([]byte(md), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkMarkdown checks a summary as GitHub would see it: rendered with raw
// HTML let through, it holds only the elements the summary itself makes;
// links are only the bare URLs that GitHub links by itself; every row of a
// table has as many cells as its header.
func checkMarkdown(t *testing.T, md string) {
	t.Helper()
	if !strings.HasSuffix(md, "\n") || !strings.HasPrefix(md, "### ") {
		t.Errorf("not a heading and whole lines: %q…", md[:min(len(md), 40)])
	}
	allowed := map[string]bool{"h3": true, "h4": true, "p": true, "table": true, "thead": true, "tbody": true,
		"tr": true, "th": true, "td": true, "br": true, "pre": true, "code": true, "a": true}
	for _, m := range tagRe.FindAllStringSubmatch(renderGFM(t, md), -1) {
		name, attrs := strings.ToLower(m[2]), m[3]
		if !allowed[name] {
			t.Errorf("element <%s%s> in the rendered summary", name, attrs)
		}
		if attrs != "" && name != "a" && !regexp.MustCompile(`^ style="text-align:(left|right)"$`).MatchString(attrs) {
			t.Errorf("attributes on <%s>: %s", name, attrs)
		}
		if name == "a" && m[1] == "" && !regexp.MustCompile(`^ href="https?://`).MatchString(attrs) {
			t.Errorf("link other than a bare URL: <a%s>", attrs)
		}
	}
	header := 0
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = 0
			continue
		}
		cells := len(pipeRe.FindAllString(line, -1)) - 1
		if header == 0 {
			header = cells
		} else if cells != header {
			t.Errorf("%d cells in a row of a %d-column table: %s", cells, header, line)
		}
	}
}

// TestTeeSummary runs the real binary as a step of a GitHub Actions job
// would: GITHUB_STEP_SUMMARY names a file that other steps write too.
func TestTeeSummary(t *testing.T) {
	input := bytes.Join(fixtureLines(t, "session.jsonl"), []byte("\n"))
	work := t.TempDir()
	summary := filepath.Join(work, "step-summary.md")
	os.WriteFile(summary, []byte("# Build\n\nearlier output"), 0o644)
	markdownOf := func(id string) string {
		t.Helper()
		res := runConvlog(t, work, nil, nil, "query", id, "--markdown")
		if res.code != 0 {
			t.Fatalf("query %s: exit %d, %s", id, res.code, res.stderr)
		}
		return string(res.stdout)
	}
	tee := func(env []string, args ...string) {
		t.Helper()
		res := runConvlog(t, work, input, env, append([]string{"tee", "-q"}, args...)...)
		if res.code != 0 || !bytes.Equal(res.stdout, input) || len(res.stderr) != 0 {
			t.Fatalf("tee %v: exit %d, stdout equal %v, stderr %s", args, res.code, bytes.Equal(res.stdout, input), res.stderr)
		}
	}
	readFile := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return string(b)
	}

	// Appended after what is there, then after the first summary.
	step := []string{"GITHUB_STEP_SUMMARY=" + summary}
	tee(step, "--session-id", "first")
	tee(step, "--session-id", "second")
	want := "# Build\n\nearlier output\n" + markdownOf("first") + "\n" + markdownOf("second")
	if got := readFile(summary); got != want {
		t.Fatalf("step summary:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(want, "### ✅ convlog session `first`") {
		t.Fatalf("summary of first:\n%s", want)
	}

	// CONVLOG_SUMMARY wins over GITHUB_STEP_SUMMARY, and --summary over
	// both; a missing file is created, private as the sessions are.
	own := filepath.Join(work, "own.md")
	tee(append(step, "CONVLOG_SUMMARY="+own), "--session-id", "third")
	flag := filepath.Join(work, "flag.md")
	tee(append(step, "CONVLOG_SUMMARY="+own), "--session-id", "fourth", "--summary", flag)
	if readFile(own) != markdownOf("third") || readFile(flag) != markdownOf("fourth") || readFile(summary) != want {
		t.Errorf("own %q\nflag %q", readFile(own), readFile(flag))
	}
	if fi, err := os.Stat(own); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("created summary file: %v, %v", fi.Mode(), err)
	}

	// Switched off.
	tee(step, "--session-id", "fifth", "--no-summary")
	tee(append(step, "CONVLOG_NO_SUMMARY=1"), "--session-id", "sixth")
	tee(append(step, "CONVLOG_SUMMARY="), "--session-id", "seventh")
	if readFile(summary) != want {
		t.Errorf("written although switched off:\n%s", readFile(summary))
	}

	// A summary that cannot be written: one warning, the session kept, the
	// exit status 0, or 1 under --strict.
	bad := []string{"GITHUB_STEP_SUMMARY=" + filepath.Join(work, "no", "such", "dir", "summary.md")}
	for _, strict := range []bool{false, true} {
		id := fmt.Sprintf("unwritable-%v", strict)
		args := []string{"tee", "-q", "--session-id", id}
		if strict {
			args = append(args, "--strict")
		}
		res := runConvlog(t, work, input, bad, args...)
		warnings := regexp.MustCompile(`(?m)^convlog: warning: cannot write the summary to .*summary\.md: .*no such file or directory$`).FindAll(res.stderr, -1)
		wantCode := map[bool]int{false: 0, true: 1}[strict]
		if res.code != wantCode || len(warnings) != 1 || strings.Count(string(res.stderr), "\n") != 1 || !bytes.Equal(res.stdout, input) {
			t.Errorf("strict %v: exit %d, stderr %q", strict, res.code, res.stderr)
		}
		if _, err := os.Stat(filepath.Join(work, ".turso", "sessions", id+".db")); err != nil {
			t.Errorf("session not kept: %v", err)
		}
	}
}

// TestTeeNoLogNoSummary: --no-log leaves no trace, a summary included.
func TestTeeNoLogNoSummary(t *testing.T) {
	in, _ := os.ReadFile("testdata/sample.jsonl")
	work := t.TempDir()
	res := runConvlog(t, work, in, []string{
		"GITHUB_STEP_SUMMARY=" + filepath.Join(work, "step.md"), "CONVLOG_SUMMARY=" + filepath.Join(work, "own.md"),
	}, "tee", "--no-log", "--summary", filepath.Join(work, "flag.md"))
	if res.code != 0 || !bytes.Equal(res.stdout, in) || len(res.stderr) != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Fatalf("--no-log left %v", entries)
	}
}
