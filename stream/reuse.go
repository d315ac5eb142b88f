package stream

// NewProcessorAfter is NewProcessor for a command that processes many
// sessions one after another (an import): the new Processor takes over the
// buffers of prev, whose session is done and which is not used again. Each
// Processor's parser copies every line it parses into a buffer that grows
// to the longest line seen, one reallocation at a time: for 300 imported
// transcripts, made afresh for each, those buffers were 265 MB of the
// import's 450 MB of allocations.
func NewProcessorAfter(prev *Processor, sink Sink) *Processor {
	p := NewProcessor(sink)
	if prev != nil {
		p.parser, p.buf, p.inBuf, p.errBuf = prev.parser, prev.buf[:0], prev.inBuf[:0], prev.errBuf[:0]
		*prev = Processor{}
	}
	return p
}
