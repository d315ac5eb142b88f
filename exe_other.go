//go:build !linux

package main

import (
	"errors"
	"os"

	"github.com/convlog/convlog/stream"
)

// Outside Linux, tee passes the input through in its own process: there is
// no binary to run again (selfExe is empty), so startRelay is never called.
func selfExe() string { return "" }

func startRelay(*Env, *os.File, *os.File, *stream.Handover, *stream.Logger) (stop func()) {
	return func() {}
}

func relayMain(*Env) error {
	return &exitError{Code: 2, Err: errors.New("tee --relay is not supported on this system")}
}
