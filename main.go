// Command convlog sits in a shell pipeline behind an AI coding agent and keeps
// a queryable record of every session: `agent … | convlog tee`.
//
// This file only wires: the commands are in package cli, and the schema,
// embedded here because go:embed cannot reach a parent folder, is handed to
// them.
package main

import (
	"context"
	_ "embed"
	"os"

	"github.com/convlog/convlog/cli"
	"github.com/convlog/convlog/relay"
)

//go:embed schema.sql
var schemaSQL string

func main() {
	env := &cli.Env{
		Ctx:    context.Background(),
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
		Exe:    relay.SelfExe(),
		Schema: cli.MustSchema(schemaSQL),
	}
	os.Exit(cli.Run(os.Args[1:], env))
}
