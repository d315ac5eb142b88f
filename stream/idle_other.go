//go:build !linux

package stream

import "time"

// idleThread is only done on Linux; elsewhere the logger runs on an
// ordinary thread.
func idleThread(limit time.Duration) func() bool { return nil }
