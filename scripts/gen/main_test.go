package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func genStream(t *testing.T, args ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := runStream(args, &buf); err != nil {
		t.Fatalf("stream %v: %v", args, err)
	}
	return buf.Bytes()
}

// splitLines checks the framing shared by both formats (every line ends with
// a newline and is a JSON object) and returns the decoded lines.
func splitLines(t *testing.T, name string, data []byte) ([]map[string]any, [][]byte) {
	t.Helper()
	if len(data) == 0 || data[len(data)-1] != '\n' {
		t.Fatalf("%s: output does not end with a newline", name)
	}
	raw := bytes.Split(data[:len(data)-1], []byte{'\n'})
	lines := make([]map[string]any, len(raw))
	for i, l := range raw {
		if !utf8.Valid(l) {
			t.Fatalf("%s:%d: invalid UTF-8", name, i+1)
		}
		if err := json.Unmarshal(l, &lines[i]); err != nil {
			t.Fatalf("%s:%d: invalid JSON: %v: %.200s", name, i+1, err, l)
		}
	}
	return lines, raw
}

func blocks(m map[string]any) []any {
	msg, _ := m["message"].(map[string]any)
	c, _ := msg["content"].([]any)
	return c
}

// pairing checks that every tool_result answers exactly one earlier
// tool_use and that every tool_use is answered. It returns the ids of Task
// tool_uses and the tool_result counts.
func pairing(t *testing.T, name string, lines []map[string]any) (tasks map[string]bool, results, errs, lists, strs int) {
	t.Helper()
	open := map[string]bool{}
	tasks = map[string]bool{}
	for i, m := range lines {
		for _, b := range blocks(m) {
			b := b.(map[string]any)
			switch b["type"] {
			case "tool_use":
				id := b["id"].(string)
				if _, dup := open[id]; dup {
					t.Fatalf("%s:%d: duplicate tool_use id %s", name, i+1, id)
				}
				open[id] = true
				if b["name"] == "Task" {
					tasks[id] = true
				}
			case "tool_result":
				id := b["tool_use_id"].(string)
				if !open[id] {
					t.Fatalf("%s:%d: tool_result for unknown or answered tool_use %s", name, i+1, id)
				}
				open[id] = false
				results++
				if b["is_error"] == true {
					errs++
				}
				switch b["content"].(type) {
				case string:
					strs++
				case []any:
					lists++
				}
			}
		}
	}
	for id, o := range open {
		if o {
			t.Errorf("%s: tool_use %s has no tool_result", name, id)
		}
	}
	return tasks, results, errs, lists, strs
}

func usageOf(m map[string]any) map[string]any {
	return m["message"].(map[string]any)["usage"].(map[string]any)
}

func TestStreamShape(t *testing.T) {
	data := genStream(t, "-size", "3MB", "-seed", "1")
	lines, raw := splitLines(t, "stream", data)

	init := lines[0]
	if init["type"] != "system" || init["subtype"] != "init" {
		t.Fatalf("first line is %v/%v, want system/init", init["type"], init["subtype"])
	}
	for _, k := range []string{"session_id", "cwd", "model", "tools", "claude_code_version", "uuid"} {
		if init[k] == nil {
			t.Errorf("init line lacks %s", k)
		}
	}
	res := lines[len(lines)-1]
	if res["type"] != "result" || res["subtype"] != "success" {
		t.Fatalf("last line is %v/%v, want result/success", res["type"], res["subtype"])
	}
	for _, k := range []string{"total_cost_usd", "usage", "num_turns", "duration_ms", "duration_api_ms", "result", "modelUsage"} {
		if res[k] == nil {
			t.Errorf("result line lacks %s", k)
		}
	}
	if bytes.HasPrefix(raw[len(raw)-1], []byte(`{"type"`)) {
		t.Error(`result line starts with "type"; Claude Code puts it near the end`)
	}

	tasks, results, errs, lists, strs := pairing(t, "stream", lines)
	if results < 50 {
		t.Fatalf("only %d tool_results", results)
	}
	if share := float64(errs) / float64(results); share < 0.02 || share > 0.10 {
		t.Errorf("is_error share %.3f, want about 5%%", share)
	}
	if lists == 0 || strs == 0 {
		t.Errorf("tool_result content: %d lists, %d strings; want both", lists, strs)
	}
	if len(tasks) == 0 {
		t.Error("no Task tool_use")
	}

	// Lines of one API response share message.id and repeat its usage;
	// counted once per id, usage adds up to the result line's totals.
	seen := map[string]map[string]any{}
	sum := map[string]float64{}
	subLines, thinking, multiTool := 0, 0, 0
	toolsPerMsg := map[string]int{}
	subtypes := map[string]bool{}
	types := map[string]bool{}
	for i, m := range lines {
		types[m["type"].(string)] = true
		if m["type"] == "system" {
			subtypes[m["subtype"].(string)] = true
		}
		if p, ok := m["parent_tool_use_id"].(string); ok {
			if !tasks[p] {
				t.Fatalf("line %d: parent_tool_use_id %s is not a Task tool_use", i+1, p)
			}
			subLines++
		}
		if m["type"] != "assistant" {
			continue
		}
		id := m["message"].(map[string]any)["id"].(string)
		u := usageOf(m)
		if prev, ok := seen[id]; ok {
			if !reflect.DeepEqual(prev, u) {
				t.Fatalf("line %d: usage differs within message %s", i+1, id)
			}
		} else {
			seen[id] = u
			for _, k := range []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"} {
				sum[k] += u[k].(float64)
			}
		}
		for _, b := range blocks(m) {
			b := b.(map[string]any)
			switch b["type"] {
			case "thinking":
				thinking++
				if s, _ := b["signature"].(string); s == "" {
					t.Errorf("line %d: thinking block without signature", i+1)
				}
			case "tool_use":
				toolsPerMsg[id]++
				if toolsPerMsg[id] == 2 {
					multiTool++
				}
			}
		}
	}
	ru := res["usage"].(map[string]any)
	for k, v := range sum {
		if ru[k].(float64) != v {
			t.Errorf("result usage %s = %v, sum over messages = %v", k, ru[k], v)
		}
	}
	var cost float64
	for _, mu := range res["modelUsage"].(map[string]any) {
		cost += mu.(map[string]any)["costUSD"].(float64)
	}
	if c := res["total_cost_usd"].(float64); c <= 0 || math.Abs(c-cost) > 1e-9*c {
		t.Errorf("total_cost_usd %v, modelUsage sums to %v", c, cost)
	}
	if subLines == 0 || thinking == 0 || multiTool == 0 {
		t.Errorf("sub-agent lines %d, thinking blocks %d, multi-tool messages %d; want all > 0", subLines, thinking, multiTool)
	}
	if len(subtypes) < 3 || !types["rate_limit_event"] {
		t.Errorf("system subtypes %v, types %v: want several subtypes and a rate_limit_event", subtypes, types)
	}
	for _, want := range []string{`\n`, `\"`, `\u001b`, "日本語", "✅"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("output never contains %q", want)
		}
	}
}

func TestStreamSizes(t *testing.T) {
	for _, size := range []string{"30KB", "300KB", "2MB", "1MiB"} {
		want, err := parseSize(size)
		if err != nil {
			t.Fatal(err)
		}
		got := int64(len(genStream(t, "-size", size, "-seed", "4")))
		if d := math.Abs(float64(got-want)) / float64(want); d > 0.02 {
			t.Errorf("-size %s: wrote %d bytes, %.1f%% off", size, got, 100*d)
		}
	}
}

func TestStreamDeterministic(t *testing.T) {
	a := genStream(t, "-size", "500KB", "-seed", "7")
	b := genStream(t, "-size", "500KB", "-seed", "7")
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different output")
	}
	c := genStream(t, "-size", "500KB", "-seed", "8")
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same output")
	}
}

func TestStreamLineSize(t *testing.T) {
	const n = 5000
	lines, _ := splitLines(t, "stream", genStream(t, "-size", "1MB", "-seed", "2", "-line-size", "5000"))
	count := 0
	for _, m := range lines {
		for _, b := range blocks(m) {
			b := b.(map[string]any)
			if b["type"] != "tool_result" {
				continue
			}
			var text string
			switch c := b["content"].(type) {
			case string:
				text = c
			case []any:
				text = c[0].(map[string]any)["text"].(string)
			}
			// The size is of the JSON-escaped text; decoding shortens
			// escapes such as \n a little.
			if l := len(text); l < n*8/10 || l > n+20 {
				t.Errorf("tool_result content is %d bytes, want about %d", l, n)
			}
			count++
		}
	}
	if count < 20 {
		t.Fatalf("only %d tool_results", count)
	}
}

func TestStreamBigLine(t *testing.T) {
	const big = 2 << 20
	data := genStream(t, "-size", "300KB", "-seed", "3", "-big-line", "2MiB")
	lines, raw := splitLines(t, "stream", data)
	pairing(t, "stream", lines)
	at := -1
	for i, l := range raw {
		if len(l) == big {
			if at >= 0 {
				t.Fatal("more than one big line")
			}
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("no line of %d bytes", big)
	}
	if at < len(raw)/5 || at > len(raw)*4/5 {
		t.Errorf("big line is line %d of %d, want it in the middle", at+1, len(raw))
	}
	if b := blocks(lines[at]); len(b) != 1 || b[0].(map[string]any)["type"] != "tool_result" {
		t.Error("big line is not a tool_result")
	}
	if want := 300_000 + big; math.Abs(float64(len(data)-want)) > 0.02*float64(want) {
		t.Errorf("wrote %d bytes, want about %d", len(data), want)
	}
	if n, err := longestLine(bytes.NewReader(data)); err != nil || n != big {
		t.Errorf("longest line %d, %v; want %d", n, err, big)
	}
}

// longestLine counts across reads, and a last line without a newline.
func TestLongestLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", 0}, {"\n\n", 0}, {"ab\nabcd\nabc", 4}, {"ab\nabc\nabcdef", 6},
		{strings.Repeat("x", 3<<20) + "\ny\n", 3 << 20},
	} {
		if n, err := longestLine(strings.NewReader(c.in)); err != nil || n != c.want {
			t.Errorf("%d bytes: %d, %v; want %d", len(c.in), n, err, c.want)
		}
	}
}

func TestTranscripts(t *testing.T) {
	const files = 12
	total, _ := parseSize("3MB")
	dir := t.TempDir()
	if err := runTranscripts([]string{"-size", "3MB", "-files", "12", "-seed", "1", "-out", dir}); err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "*.jsonl"))
	if len(paths) != files {
		t.Fatalf("%d files, want %d", len(paths), files)
	}
	projects := map[string]bool{}
	models := map[string]bool{}
	days := map[string]bool{}
	var size int64
	sidechain, summaries, multiModel := 0, 0, 0
	for _, p := range paths {
		projects[filepath.Dir(p)] = true
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		size += int64(len(data))
		name := filepath.Base(p)
		lines, _ := splitLines(t, name, data)
		pairing(t, name, lines)
		session := strings.TrimSuffix(name, ".jsonl")
		uuids := map[string]bool{}
		usage := map[string]map[string]any{}
		fileModels := map[string]bool{}
		leaf, last, lastTS := "", "", ""
		for i, m := range lines {
			if m["type"] == "summary" {
				if _, ok := m["timestamp"]; ok || m["summary"] == nil {
					t.Errorf("%s:%d: bad summary line", name, i+1)
				}
				leaf = m["leafUuid"].(string)
				summaries++
				continue
			}
			for _, k := range []string{"parentUuid", "isSidechain", "userType", "cwd", "sessionId", "version", "gitBranch", "type", "uuid", "timestamp"} {
				if _, ok := m[k]; !ok {
					t.Fatalf("%s:%d: no %s", name, i+1, k)
				}
			}
			if m["sessionId"] != session {
				t.Fatalf("%s:%d: sessionId %v", name, i+1, m["sessionId"])
			}
			ts := m["timestamp"].(string)
			if ts < lastTS {
				t.Fatalf("%s:%d: timestamp %s before %s", name, i+1, ts, lastTS)
			}
			lastTS = ts
			days[ts[:10]] = true
			if p, ok := m["parentUuid"].(string); ok && !uuids[p] {
				t.Fatalf("%s:%d: parentUuid %s is not an earlier line", name, i+1, p)
			}
			last = m["uuid"].(string)
			uuids[last] = true
			if m["isSidechain"] == true {
				sidechain++
			}
			switch m["type"] {
			case "assistant":
				if r, _ := m["requestId"].(string); !strings.HasPrefix(r, "req_") {
					t.Errorf("%s:%d: requestId %v", name, i+1, m["requestId"])
				}
				msg := m["message"].(map[string]any)
				model := msg["model"].(string)
				models[model] = true
				fileModels[model] = true
				id := msg["id"].(string)
				if prev, ok := usage[id]; ok && !reflect.DeepEqual(prev, msg["usage"]) {
					t.Errorf("%s:%d: usage differs within message %s", name, i+1, id)
				}
				usage[id] = msg["usage"].(map[string]any)
			case "user":
				for _, b := range blocks(m) {
					if b.(map[string]any)["type"] == "tool_result" && m["toolUseResult"] == nil {
						t.Errorf("%s:%d: tool_result without toolUseResult", name, i+1)
					}
				}
			}
		}
		if leaf != "" && leaf != last {
			t.Errorf("%s: summary leafUuid %s is not the last line %s", name, leaf, last)
		}
		if len(fileModels) > 1 {
			multiModel++
		}
	}
	if d := math.Abs(float64(size-total)) / float64(total); d > 0.02 {
		t.Errorf("total size %d, %.1f%% off %d", size, 100*d, total)
	}
	if len(projects) < 2 || len(models) < 2 || len(days) < 3 {
		t.Errorf("%d projects, models %v, %d days; want several of each", len(projects), models, len(days))
	}
	if sidechain == 0 || summaries == 0 || multiModel == 0 {
		t.Errorf("sidechain lines %d, summary lines %d, files with two models %d; want all > 0", sidechain, summaries, multiModel)
	}

	// Same seed, same bytes, whatever order the workers ran in.
	dir2 := t.TempDir()
	if err := runTranscripts([]string{"-size", "3MB", "-files", "12", "-seed", "1", "-out", dir2}); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(dir2, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between two runs with the same seed", rel)
		}
	}
}

func TestLatencyMeasure(t *testing.T) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runLatency([]string{"-lines", "50", "-interval", "100us", "-warmup", "0", "-line-size", "300"}, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	var out bytes.Buffer
	if err := runMeasure(nil, pr, &out); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var rep latencyReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("measure output %q: %v", out.String(), err)
	}
	if rep.Lines != 50 || rep.P50 < 0 || rep.P99 < rep.P50 || rep.Max < rep.P99 {
		t.Errorf("report %+v", rep)
	}
}

func TestLatencyLines(t *testing.T) {
	var buf bytes.Buffer
	if err := runLatency([]string{"-lines", "5", "-interval", "0", "-warmup", "0", "-line-size", "1000"}, &buf); err != nil {
		t.Fatal(err)
	}
	_, raw := splitLines(t, "latency", buf.Bytes())
	if len(raw) != 7 {
		t.Fatalf("%d lines, want init + 5 + result", len(raw))
	}
	for _, l := range raw[1:6] {
		if !bytes.Contains(l, []byte(sendKey)) || len(l)+1 < 990 || len(l)+1 > 1010 {
			t.Errorf("line of %d bytes: %.100s", len(l)+1, l)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"123": 123, "500KB": 500_000, "10MB": 10_000_000, "1GB": 1_000_000_000,
		"64MiB": 64 << 20, "2KiB": 2048, "1.5MB": 1_500_000, "7b": 7, " 3 MB ": 3_000_000,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1", "ten"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
}

func TestPoolFillExact(t *testing.T) {
	p := newPool("a\"b\\c\x1bd 日本語 ✅\n\tline two\n")
	r := &rng{s: 1}
	for n := 0; n < 200; n++ {
		b := p.fill(nil, n, r)
		if len(b) != n {
			t.Fatalf("fill(%d) gave %d bytes", n, len(b))
		}
		var s string
		if err := json.Unmarshal(append(append([]byte{'"'}, b...), '"'), &s); err != nil {
			t.Fatalf("fill(%d) = %q is not a JSON string body: %v", n, b, err)
		}
	}
}
