package stream

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"
)

// recordSink writes down every call, with copies of what it was given.
type recordSink struct{ calls []string }

func (r *recordSink) Message(m *Message) {
	r.calls = append(r.calls, fmt.Sprintf("msg %d %s %s %s", m.Seq, m.Type, sum(m.Raw), sum(m.Text)))
}

func (r *recordSink) ToolUse(u *ToolUse) {
	r.calls = append(r.calls, fmt.Sprintf("use %s %s %s", u.ID, u.Name, sum(u.Input)))
}

func (r *recordSink) ToolResult(res *ToolResult) {
	r.calls = append(r.calls, fmt.Sprintf("result %s %v %s %s", res.ID, res.IsError, sum(res.Output), sum(res.ErrorText)))
}

// sum stands for b in a call's record: its length and checksum.
func sum(b []byte) string {
	return fmt.Sprintf("%d:%08x", len(b), crc32.ChecksumIEEE(b))
}

// Async makes the same calls, in the same order, as the sink would get
// directly: commits and pauses among them, big lines (not copied) and lines
// of every size in between, with the caller's buffers overwritten after
// each call, and the facts of each commit as they were at the commit.
func TestAsyncSameCallsInOrder(t *testing.T) {
	direct := &recordSink{}
	behind := &recordSink{}
	a := NewAsync(behind,
		func(f *Facts) { behind.calls = append(behind.calls, fmt.Sprintf("commit %d", f.Lines)) },
		func() { behind.calls = append(behind.calls, "pause") })
	both := func(do func(s Sink)) {
		do(direct)
		do(a)
	}
	sizes := []int{0, 1, 100, 5000, batchBytes/2 + 1, batchBytes - 10, batchBytes, batchBytes + 1, 3 * batchBytes}
	buf := make([]byte, 3*batchBytes)
	var facts Facts
	for i := range 60 {
		size := sizes[i%len(sizes)]
		fill := func(n int, c byte) []byte {
			b := buf[:n]
			for j := 0; j < n; j += 4096 {
				b[j] = c + byte(j%7)
			}
			return b
		}
		raw := fill(size, byte('a'+i%20))
		m := Message{Seq: int64(i), Type: "assistant", Raw: raw, Text: raw[:size/2]}
		direct.Message(&m)
		a.Message(&m)
		fill(size, '!') // what the caller does to its buffer next
		in := fill(size/3, 'A')
		u := ToolUse{ID: fmt.Sprint("t", i), Name: "Bash", Input: in}
		both(func(s Sink) { s.ToolUse(&u) })
		fill(size, '?')
		out := fill(size, '0')
		r := ToolResult{ID: u.ID, IsError: i%3 == 0, Output: out, ErrorText: out[:size/4]}
		both(func(s Sink) { s.ToolResult(&r) })
		fill(size, '#')
		facts.Lines = int64(i)
		if i%7 == 0 {
			direct.calls = append(direct.calls, fmt.Sprintf("commit %d", facts.Lines))
			a.Commit(&facts)
			facts.Lines = -1 // changed after the commit: not what it stores
		}
		if i%50 == 0 {
			direct.calls = append(direct.calls, "pause")
			a.Pause()
		}
	}
	direct.Message(&Message{Seq: 1000, Type: "last"})
	a.Message(&Message{Seq: 1000, Type: "last"})
	a.Close()
	a.Close() // a second Close does nothing
	if len(behind.calls) != len(direct.calls) {
		t.Fatalf("%d calls behind Async, %d direct", len(behind.calls), len(direct.calls))
	}
	for i := range direct.calls {
		if behind.calls[i] != direct.calls[i] {
			t.Fatalf("call %d: behind Async %.200s, direct %.200s", i, behind.calls[i], direct.calls[i])
		}
	}
}

// Lines of a few MiB, common in tool outputs, get no buffers of their own:
// once the batches exist, storing them allocates next to nothing (a buffer
// each made 600 MB of garbage in 3 s of a 1 GB stream, and tee's peak RSS
// rose by 17 MiB).
func TestAsyncLargeLinesAllocateNoBuffers(t *testing.T) {
	a := NewAsync(&funcSink{msg: func(*Message) {}}, nil, nil)
	defer a.Close()
	line := bytes.Repeat([]byte("y"), 3<<20)
	for range 4 { // the batches, filled once
		a.Message(&Message{Raw: line[:batchBytes/2]})
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 40 {
		a.Message(&Message{Raw: line[:batchBytes+1+i*(1<<15)]})
		a.Message(&Message{Raw: line[:100]})
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > batchBytes {
		t.Errorf("80 lines, 40 of them over %d bytes, allocated %d bytes", batchBytes, n)
	}
}

// A payload too big to copy waits for the sink to take everything queued
// before it: the sink then has it while the caller's buffer still holds it.
func TestAsyncBigPayloadNotCopied(t *testing.T) {
	var seen []byte
	s := &funcSink{msg: func(m *Message) {
		if len(m.Raw) > batchBytes {
			seen = m.Raw
		}
	}}
	a := NewAsync(s, nil, nil)
	small := Message{Raw: []byte("small")}
	a.Message(&small)
	big := bytes.Repeat([]byte("x"), batchBytes+1)
	a.Message(&Message{Raw: big})
	if seen == nil || &seen[0] != &big[0] {
		t.Fatal("the big line was copied, or not stored by the time Message returned")
	}
	a.Close()
}

type funcSink struct{ msg func(*Message) }

func (f *funcSink) Message(m *Message)     { f.msg(m) }
func (f *funcSink) ToolUse(*ToolUse)       {}
func (f *funcSink) ToolResult(*ToolResult) {}

func BenchmarkAsyncMessage(b *testing.B) {
	raw := []byte(strings.Repeat("x", 4000))
	a := NewAsync(&funcSink{msg: func(*Message) {}}, nil, nil)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		a.Message(&Message{Raw: raw})
	}
	a.Close()
}
