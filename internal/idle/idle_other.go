//go:build !linux

package idle

import "time"

// Thread is only done on Linux; elsewhere work runs on ordinary threads.
func Thread(name string, limit time.Duration) func() bool { return nil }

// ThreadID is 0 here: there are no threads of idle priority to ask about.
func ThreadID() int { return 0 }

// Waited knows nothing here.
func Waited(tid int) (time.Duration, bool) { return 0, false }

// Times knows nothing here.
func Times(tid int) (ran, waited time.Duration, ok bool) { return 0, 0, false }
