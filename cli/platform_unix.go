//go:build unix

package cli

import (
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ignoreFileSizeLimit: over a file size limit (ulimit -f) a write must fail
// with EFBIG, which is reported like a full disk, rather than kill convlog.
func ignoreFileSizeLimit() { signal.Ignore(syscall.SIGXFSZ) }

// flushSignals returns once every signal that reached the process before
// it was called has been handed to the channels of signal.Notify. The Go
// runtime does that from a goroutine of its own, some time after the
// kernel delivered the signal. SIGWINCH flushes that hand-over: the
// runtime hands on the signals waiting for it in the order of their
// numbers, and SIGWINCH's is above SIGHUP's, SIGINT's and SIGTERM's, so
// once it has come back, any of them that came before has been handed on.
// (SIGWINCH is ignored by default; a window resized at that moment only
// ends the wait early.)
func flushSignals() {
	marker := make(chan os.Signal, 1)
	signal.Notify(marker, syscall.SIGWINCH)
	defer signal.Stop(marker)
	if syscall.Kill(os.Getpid(), syscall.SIGWINCH) == nil {
		// Bounded, should the signal be blocked where tee was started.
		t := time.NewTimer(time.Second)
		select {
		case <-marker:
		case <-t.C:
		}
		t.Stop()
	}
}

// keyOf is the file's device and inode, which tell a file seen twice (by
// two paths, or a link back up the tree).
func keyOf(st fs.FileInfo) (fileKey, bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{uint64(s.Dev), uint64(s.Ino)}, true
}
