// Package testkit is what convlog's tests share: the real binary built once
// and run in real pipes, the real libSQL server, the schema, and session
// files written as `convlog tee` writes them.
package testkit
