//go:build race

package testkit

// Race is whether the tests run under the race detector; the binary is
// built the same way.
const Race = true
