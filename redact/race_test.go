//go:build race

package redact

// raceDetector: the race detector makes this package's code several times
// slower, which the timing tests scale down for.
const raceDetector = true
