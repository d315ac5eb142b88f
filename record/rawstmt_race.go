//go:build race

package record

// bindInPlace is off under the race detector, whose pointer checks
// (checkptr) stop SQLite's C code, compiled to Go, from reading Go memory
// through the addresses it is given: the arguments are copied into C memory
// first, as the database/sql driver does. The tests also run without the
// race detector (scripts/test.sh), so that binding in place is tested too.
const bindInPlace = false
