package main

import "os"

// selfExe names this very binary, even if its file has been replaced or
// removed since it started (an upgrade during a long session).
func selfExe() string {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return ""
	}
	return "/proc/self/exe"
}
