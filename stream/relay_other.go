//go:build !unix

package stream

import (
	"errors"
	"time"
)

// Relay needs Unix; convlog tee logs in its own process elsewhere.
type Relay struct {
	In, Out, Log int
	BufSize      int
	MaxPending   int
	StallLimit   time.Duration
	Now          func() int64
	OutErr       func(error)
	BytesIn      int64
	OutClosed    bool
	SkippedRuns  int
	LogGone      bool
}

// Run fails: there is no relay here.
func (r *Relay) Run() error { return errors.New("relay: not supported on this system") }
