package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// benchInput is stream-json shaped input of about size bytes: tool calls
// with results of mixed sizes, so that parsing and pairing do real work.
func benchInput(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"system","subtype":"init","cwd":"/w","session_id":"bench","model":"claude-sonnet-4-5","tools":["Bash"]}` + "\n")
	pad := bytes.Repeat([]byte("lorem ipsum dolor sit amet, \\\"quoted\\\" \\n text "), 200)
	for i := 0; b.Len() < size; i++ {
		n := 200 + (i*7919)%4800
		if i%50 == 0 {
			n = 100_000
		}
		for len(pad) < n {
			pad = append(pad, pad...)
		}
		out := pad[:n]
		for out[len(out)-1] == '\\' {
			out = out[:len(out)-1]
		}
		fmt.Fprintf(&b, `{"type":"assistant","message":{"id":"msg_%d","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Running step %d"},{"type":"tool_use","id":"toolu_%d","name":"Bash","input":{"command":"make test-%d"}}],"usage":{"input_tokens":10,"output_tokens":20}},"session_id":"bench"}`+"\n", i, i, i, i)
		fmt.Fprintf(&b, `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_%d","content":"%s","is_error":%v}]},"session_id":"bench"}`+"\n", i, out, i%20 == 0)
	}
	b.WriteString(`{"type":"result","subtype":"success","is_error":false,"total_cost_usd":1.5,"usage":{"input_tokens":1,"output_tokens":2},"session_id":"bench"}` + "\n")
	return b.Bytes()
}

// pipeThrough runs name args with input on stdin (fed through a pipe by a Go
// writer, as an agent would) and stdout to /dev/null; it returns the time.
func pipeThrough(b *testing.B, dir string, input []byte, name string, args ...string) time.Duration {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = testkit.CleanEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	cmd.Stdout = devnull
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	if _, err := stdin.Write(input); err != nil {
		b.Fatal(err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkTeeThroughput compares `convlog tee` (logging on) with plain
// `tee /dev/null` on the same input in the same run.
//
//	go test -run '^$' -bench TeeThroughput -benchtime 3x ./cli
func BenchmarkTeeThroughput(b *testing.B) {
	size := 64 << 20
	if s := os.Getenv("CONVLOG_BENCH_MB"); s != "" {
		mb, _ := strconv.Atoi(s)
		size = mb << 20
	}
	input := benchInput(size)
	dir := b.TempDir()
	var ct, tt []time.Duration
	for i := 0; b.Loop(); i++ {
		tt = append(tt, pipeThrough(b, dir, input, "tee", os.DevNull))
		ct = append(ct, pipeThrough(b, dir, input, testkit.Bin, "tee", "--quiet", "--dir", filepath.Join(dir, strconv.Itoa(i))))
	}
	mbps := func(d time.Duration) float64 { return float64(len(input)) / 1e6 / d.Seconds() }
	c, t := median(ct), median(tt)
	b.ReportMetric(mbps(c), "convlog-MB/s")
	b.ReportMetric(mbps(t), "tee-MB/s")
	b.ReportMetric(c.Seconds()/t.Seconds(), "ratio")
	b.Logf("%d MB: convlog tee %.0f MB/s, tee %.0f MB/s, convlog/tee time %.2fx", len(input)>>20, mbps(c), mbps(t), c.Seconds()/t.Seconds())
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// lineLatencies sends n lines of about size bytes, one every interval, and
// measures how long each takes to come out of the command.
func lineLatencies(b *testing.B, dir string, n, size int, interval time.Duration, name string, args ...string) []time.Duration {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = testkit.CleanEnv()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sent := make([]time.Time, n)
	lat := make([]time.Duration, 0, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReaderSize(stdout, 1<<20)
		for range n {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			// The line carries its index in its first field.
			i, _ := strconv.Atoi(string(line[7:bytes.IndexByte(line, ',')]))
			lat = append(lat, time.Since(sent[i]))
		}
		io.Copy(io.Discard, r)
	}()
	pad := bytes.Repeat([]byte("x"), max(size-60, 1))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		line := fmt.Appendf(nil, `{"seq":%d,"type":"assistant","pad":"%s"}`+"\n", i, pad)
		sent[i] = time.Now()
		stdin.Write(line)
	}
	stdin.Close()
	<-done
	cmd.Wait()
	return lat
}

// BenchmarkTeeLatency: per-line latency at one line per ms, convlog tee next
// to tee, for small and 10 KB lines.
//
//	go test -run '^$' -bench TeeLatency -benchtime 1x ./cli
func BenchmarkTeeLatency(b *testing.B) {
	for _, size := range []int{200, 10 << 10} {
		b.Run(fmt.Sprintf("line=%dB", size), func(b *testing.B) {
			dir := b.TempDir()
			var c, t []time.Duration
			for b.Loop() {
				t = lineLatencies(b, dir, 2000, size, time.Millisecond, "tee", os.DevNull)
				c = lineLatencies(b, dir, 2000, size, time.Millisecond, testkit.Bin, "tee", "--quiet", "--dir", dir)
			}
			pc, pt := percentiles(c), percentiles(t)
			b.ReportMetric(float64(pc[0].Microseconds()), "convlog-p50-µs")
			b.ReportMetric(float64(pc[1].Microseconds()), "convlog-p99-µs")
			b.ReportMetric(float64(pt[0].Microseconds()), "tee-p50-µs")
			b.ReportMetric(float64(pt[1].Microseconds()), "tee-p99-µs")
			b.Logf("%d B lines: convlog p50 %v p99 %v; tee p50 %v p99 %v", size, pc[0], pc[1], pt[0], pt[1])
		})
	}
}

func percentiles(d []time.Duration) [2]time.Duration {
	if len(d) == 0 {
		return [2]time.Duration{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return [2]time.Duration{s[len(s)/2], s[len(s)*99/100]}
}
