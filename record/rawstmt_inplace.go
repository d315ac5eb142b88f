//go:build !race

package record

// bindInPlace: SQLite reads a statement's text and blob arguments straight
// from Go memory.
const bindInPlace = true
