//go:build race

package redact

// raceDetector: the race detector makes this package's code several times
// slower, which the timing tests scale down for. (testkit.Race says the
// same, but importing testkit would bring SQLite into this package's test
// and fuzzing builds.)
const raceDetector = true
