package stream

import (
	"runtime"
	"time"

	"github.com/convlog/convlog/internal/idle"
)

// Async hands what a Processor finds to a Sink that runs on a goroutine of
// its own, so that finding it in the next lines (framing, redacting and
// parsing them) and storing the last ones (SQLite) use both CPUs at once.
// On two CPUs, `cat f | convlog tee` of a 200 MB stream-json stream took
// 1.97-2.32 s with the two one after the other and 1.68-1.94 s with Async;
// of a 200 MB Gemini CLI stream 2.96-3.16 s, and 2.08-2.44 s (3 runs each,
// interleaved). Less than twice as fast, as the machine's two CPUs also
// pass the stream through and copy the WAL into the file.
//
// A Sink's byte slices are valid only during its call, so Async copies
// them, into batches of batchBytes; the goroutine behind is at most
// batches behind, which bounds the memory. A call with more bytes than a
// batch holds is not copied: it waits for the sink to take everything
// before it and is then made from the caller's goroutine, so that a 200 MB
// line is never held twice. (With that limit at 256 KiB, the 98 lines
// above it of a 200 MB stream cost a third of what Async gains: each stops
// both goroutines. With it at 4 MiB and 4 batches, the lines of 1-4 MiB
// got buffers of their own, 600 MB of garbage in 3 s of a 1 GB stream,
// and tee's peak RSS rose from 88-92 MiB to 107-109 MiB; with 1 MiB and 2
// batches it is 86-94 MiB, at the same speed: 1.40 s for 200 MB.)
//
// Commit and Pause go through the same queue, in order. Close waits for
// everything queued to be stored; the sink and the functions given to
// NewAsync must not be used by anyone else until it returns.
type Async struct {
	sink   Sink
	commit func(*Facts)
	pause  func()

	cur  *opBatch
	free chan *opBatch // batches to fill
	work chan *opBatch // batches to store, in order
	done chan struct{} // closed when the goroutine behind has ended
	// starvedAfter: see Logger.Start; the goroutine behind runs on a
	// thread of idle priority as the logger does, for the same reason.
	starvedAfter time.Duration
}

const (
	batchBytes = 1 << 20
	batches    = 2
)

type opKind uint8

const (
	opMessage opKind = iota
	opToolUse
	opToolResult
	opCommit
	opPause
)

type op struct {
	kind  opKind
	msg   Message
	use   ToolUse
	res   ToolResult
	facts *Facts
}

type opBatch struct {
	ops []op
	buf []byte
	// ack, when set, is told once the batch has been stored.
	ack chan struct{}
}

// NewAsync starts the goroutine that stores into sink, and calls commit and
// pause (either may be nil) there.
func NewAsync(sink Sink, commit func(*Facts), pause func()) *Async {
	a := &Async{
		sink: sink, commit: commit, pause: pause,
		free: make(chan *opBatch, batches), work: make(chan *opBatch, batches),
		done: make(chan struct{}), starvedAfter: defaultMaxDelay / 2,
	}
	for range batches {
		a.free <- &opBatch{}
	}
	a.cur = <-a.free
	go a.start()
	return a
}

// start stores batches on a thread of idle priority, moving to an ordinary
// thread if that one is kept waiting (Logger.Start says why).
func (a *Async) start() {
	runtime.LockOSThread() // never unlocked: see idle.Thread
	starved := idle.Thread(StoreThread, a.starvedAfter)
	if a.store(starved) {
		go a.store(nil)
	}
}

// store stores batches until the queue is closed, or until starved (if set)
// reports true, and then returns true.
func (a *Async) store(starved func() bool) (left bool) {
	for b := range a.work {
		for i := range b.ops {
			o := &b.ops[i]
			switch o.kind {
			case opMessage:
				a.sink.Message(&o.msg)
			case opToolUse:
				a.sink.ToolUse(&o.use)
			case opToolResult:
				a.sink.ToolResult(&o.res)
			case opCommit:
				if a.commit != nil {
					a.commit(o.facts)
				}
			case opPause:
				if a.pause != nil {
					a.pause()
				}
			}
			*o = op{}
		}
		b.ops, b.buf = b.ops[:0], b.buf[:0]
		if b.ack != nil {
			b.ack <- struct{}{}
			b.ack = nil
		}
		a.free <- b
		if starved != nil && starved() {
			return true
		}
	}
	close(a.done)
	return false
}

// ship queues the batch being filled and takes an empty one.
func (a *Async) ship() {
	a.work <- a.cur
	a.cur = <-a.free
}

// drain waits until everything queued so far has been stored.
func (a *Async) drain() {
	ack := make(chan struct{}, 1)
	a.cur.ack = ack
	a.ship()
	<-ack
}

// room makes room for n bytes of copies in the batch being filled; false
// means n is too large to copy, and the sink has taken everything before.
func (a *Async) room(n int) bool {
	if n > batchBytes {
		a.drain()
		return false
	}
	if len(a.cur.buf)+n > cap(a.cur.buf) || len(a.cur.ops) >= batchBytes/256 {
		if len(a.cur.ops) > 0 {
			a.ship()
		}
		if a.cur.buf == nil {
			a.cur.buf = make([]byte, 0, batchBytes)
		}
	}
	return true
}

// keep copies b into the batch being filled (room said it fits).
func (a *Async) keep(b []byte) []byte {
	if b == nil {
		return nil
	}
	start := len(a.cur.buf)
	a.cur.buf = append(a.cur.buf, b...)
	return a.cur.buf[start:len(a.cur.buf):len(a.cur.buf)]
}

// Message implements Sink.
func (a *Async) Message(m *Message) {
	if !a.room(len(m.Raw) + len(m.Text)) {
		a.sink.Message(m)
		return
	}
	c := *m
	c.Raw, c.Text = a.keep(m.Raw), a.keep(m.Text)
	a.cur.ops = append(a.cur.ops, op{kind: opMessage, msg: c})
}

// ToolUse implements Sink.
func (a *Async) ToolUse(u *ToolUse) {
	if !a.room(len(u.Input)) {
		a.sink.ToolUse(u)
		return
	}
	c := *u
	c.Input = a.keep(u.Input)
	a.cur.ops = append(a.cur.ops, op{kind: opToolUse, use: c})
}

// ToolResult implements Sink.
func (a *Async) ToolResult(r *ToolResult) {
	if !a.room(len(r.Output) + len(r.ErrorText)) {
		a.sink.ToolResult(r)
		return
	}
	c := *r
	c.Output, c.ErrorText = a.keep(r.Output), a.keep(r.ErrorText)
	a.cur.ops = append(a.cur.ops, op{kind: opToolResult, res: c})
}

// Commit queues a commit of what came before, with a copy of the facts,
// and hands the batch over: what is committed should not wait for more
// lines.
func (a *Async) Commit(f *Facts) {
	c := *f
	a.cur.ops = append(a.cur.ops, op{kind: opCommit, facts: &c})
	a.ship()
}

// Pause queues a call of the pause function.
func (a *Async) Pause() {
	a.cur.ops = append(a.cur.ops, op{kind: opPause})
	a.ship()
}

// Close stores everything queued and stops the goroutine behind.
func (a *Async) Close() {
	if a.cur == nil {
		return
	}
	if len(a.cur.ops) > 0 {
		a.ship()
	}
	a.cur = nil
	close(a.work)
	<-a.done
}
