//go:build unix

package archive

import (
	"errors"
	"syscall"
)

// processAlive says whether a process of that id exists (signal 0 checks
// without sending anything; EPERM means it exists under another user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
