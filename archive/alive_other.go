//go:build !unix

package archive

import "os"

// processAlive says whether a process of that id exists: elsewhere,
// finding it opens it, which fails when there is none.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
