//go:build !linux

package relay

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/convlog/convlog/stream"
)

// Outside Linux, tee passes the input through in its own process: there is
// no binary to run again (SelfExe is empty), so Start is never called.
func SelfExe() string { return "" }

// Process is what Start would need.
type Process struct {
	Exe     string
	In, Out *os.File
	Stderr  io.Writer
	Setting string
}

// Start does nothing outside Linux.
func Start(Process, *Handover, *stream.Logger) (stop func()) { return func() {} }

// ErrByHand is what Main returns.
var ErrByHand = errors.New("tee --relay is not supported on this system")

// Main refuses: there is no pass-through process outside Linux.
func Main(io.Writer, time.Duration) error { return ErrByHand }
