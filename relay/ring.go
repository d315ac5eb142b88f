package relay

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"unsafe"
)

// The pass-through process reads the input straight into memory that tee
// shares (a memfd on Linux), so that every byte it takes from stdin is where
// tee can find it, even if the process is killed the instant its read
// returns. The memory is laid out as:
//
//	[0, ringHeader)                 geometry, and two slots for the state
//	[ringHeader, +BufSize)          scratch: where a read the logger will not get lands
//	[ringHeader+BufSize, the end)   the ring: frames of the relay stream not yet sent
//
// The ring holds the relay stream (frames.go) from the first byte not yet
// written to the relay pipe to the last frame made, in runs: each run starts
// at the ring's offset 0, and the next one begins when the current one
// reaches the top (see passer.room), or when everything has been sent, so
// that only as much memory is touched as the logger falls behind. At most
// two runs hold bytes not yet sent: the older one's tail, and the new one.
//
// A data read lands in the ring right behind room for its frame header, so
// that the frame is made in place; a read while the logger is skipped lands
// in the scratch area.
//
// The state (ringState) describes the ring, and the read being made, at
// every moment: the process writes it to the slot not in use and then
// switches to that slot with one store, before every read and before
// anything it describes is sent. A process killed at any instruction leaves
// one whole state behind.
const (
	ringHeader = 4096
	slotSize   = 128
	ringMagic  = 0x676e6972676f6c63 // "clogring", little-endian

	hdrMagic   = 0
	hdrBufSize = 8
	hdrCur     = 16 // uint32: the slot in use
	hdrSlots   = 64
)

// ringState is what tee needs to carry on after the pass-through process:
// where the frames not yet sent are, how much input the process has
// accounted for, and where its next read lands. Positions in the relay
// stream count every byte written to the relay pipe, the hello included.
type ringState struct {
	End  int64 // the stream position after the last frame made
	Run0 int64 // the stream position where the older run begins
	Run1 int64 // where the current run begins: at offset 0, up to End

	Input int64 // input bytes read and accounted for, in frames or in Gap
	Out   int64 // input bytes written to stdout (Input unless stdout failed)
	OutNL int64 // newlines among them
	GapNL int64 // newlines in the open gap: skipped bytes not yet in a gap frame

	GapOpen   bool // skipped bytes not yet in a gap frame
	GapEOL    bool // they end with '\n'
	Skip      bool // the next read lands in the scratch area, and is skipped
	OutClosed bool // stdout failed: nothing more is written to it
	OutLastNL bool // the last byte written to stdout was '\n' (or none was)
}

const (
	flagGapOpen = 1 << iota
	flagGapEOL
	flagSkip
	flagOutClosed
	flagOutLastNL
)

func (s *ringState) put(b []byte) {
	le := binary.LittleEndian
	for i, v := range [...]int64{s.End, s.Run0, s.Run1, s.Input, s.Out, s.OutNL, s.GapNL} {
		le.PutUint64(b[8*i:], uint64(v))
	}
	var f uint64
	set := func(bit uint64, on bool) {
		if on {
			f |= bit
		}
	}
	set(flagGapOpen, s.GapOpen)
	set(flagGapEOL, s.GapEOL)
	set(flagSkip, s.Skip)
	set(flagOutClosed, s.OutClosed)
	set(flagOutLastNL, s.OutLastNL)
	le.PutUint64(b[56:], f)
}

func (s *ringState) get(b []byte) {
	le := binary.LittleEndian
	for i, v := range [...]*int64{&s.End, &s.Run0, &s.Run1, &s.Input, &s.Out, &s.OutNL, &s.GapNL} {
		*v = int64(le.Uint64(b[8*i:]))
	}
	f := le.Uint64(b[56:])
	s.GapOpen, s.GapEOL, s.Skip = f&flagGapOpen != 0, f&flagGapEOL != 0, f&flagSkip != 0
	s.OutClosed, s.OutLastNL = f&flagOutClosed != 0, f&flagOutLastNL != 0
}

// offset is where stream position pos is in the ring.
func (s *ringState) offset(pos int64) int64 {
	if pos < s.Run1 {
		return pos - s.Run0
	}
	return pos - s.Run1
}

// landing is the ring offset where a data read lands, behind its header.
func (s *ringState) landing() int64 { return s.End - s.Run1 + frameHeader }

// ring is the shared memory, as the pass-through process uses it.
type ring struct {
	mem     []byte
	scratch []byte
	data    []byte
	cur     *atomic.Uint32
}

// ringSize is the size of shared memory for reads of bufSize and a ring that
// can hold room bytes of frames.
func ringSize(bufSize, room int) int {
	size := ringHeader + bufSize + room + ringSlack(bufSize)
	return (size + 4095) &^ 4095
}

// ringSlack is the room the ring needs over the limit of what may be pending:
// the read that went past it, one before it that could not start a new run,
// and the gap and end frames.
func ringSlack(bufSize int) int { return 2*(frameHeader+bufSize) + 4096 }

// newRing lays the ring out in mem (zeroed), for reads of up to bufSize,
// with st as its state. The mark that says there is one goes in last.
func newRing(mem []byte, bufSize int, st *ringState) (*ring, error) {
	if len(mem) < ringHeader+bufSize+ringSlack(bufSize) || bufSize <= 0 {
		return nil, errors.New("relay: shared memory too small")
	}
	binary.LittleEndian.PutUint64(mem[hdrBufSize:], uint64(bufSize))
	r := &ring{
		mem:     mem,
		scratch: mem[ringHeader : ringHeader+bufSize],
		data:    mem[ringHeader+bufSize:],
		cur:     (*atomic.Uint32)(unsafe.Pointer(&mem[hdrCur])),
	}
	r.commit(st)
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&mem[hdrMagic])), ringMagic)
	return r, nil
}

// commit makes s the state: written to the slot not in use, then that slot
// is switched to with one store.
func (r *ring) commit(s *ringState) {
	next := 1 - r.cur.Load()
	s.put(r.mem[hdrSlots+slotSize*int(next):])
	r.cur.Store(next)
}

// readRing reads the state a dead pass-through process left in mem, with
// the scratch area and the ring.
func readRing(mem []byte) (st ringState, scratch, data []byte, err error) {
	if len(mem) < ringHeader || binary.LittleEndian.Uint64(mem[hdrMagic:]) != ringMagic {
		return st, nil, nil, errors.New("relay: no state in the shared memory")
	}
	bufSize := int(binary.LittleEndian.Uint64(mem[hdrBufSize:]))
	if bufSize <= 0 || ringHeader+bufSize > len(mem) {
		return st, nil, nil, errors.New("relay: bad geometry in the shared memory")
	}
	cur := binary.LittleEndian.Uint32(mem[hdrCur:])
	if cur > 1 {
		return st, nil, nil, errors.New("relay: bad state slot in the shared memory")
	}
	st.get(mem[hdrSlots+slotSize*int(cur):])
	return st, mem[ringHeader : ringHeader+bufSize], mem[ringHeader+bufSize:], nil
}
