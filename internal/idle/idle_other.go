//go:build !linux

package idle

import "time"

// Thread is only done on Linux; elsewhere work runs on ordinary threads.
func Thread(limit time.Duration) func() bool { return nil }
