//go:build !linux

package stream

import (
	"io"
	"os"
)

// GrowPipe does nothing where pipe buffers cannot be resized.
func GrowPipe(*os.File) {}

// inputBuffer is InputBuffer's default: a pipe's capacity is not known
// here, and Linux's largest default is 1 MiB.
func inputBuffer(io.Reader) int { return 1 << 20 }
