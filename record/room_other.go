//go:build !unix

package record

import "math"

// freeSpace is not known here.
func freeSpace(string) int64 { return math.MaxInt64 }

// fileSizeLimit is not known here.
func fileSizeLimit() int64 { return math.MaxInt64 }
