package main

import (
	_ "embed"

	"github.com/convlog/convlog/record"
)

// schemaSQL is embedded here because go:embed cannot reach a parent folder;
// record and sync get it from the root package.
//
//go:embed schema.sql
var schemaSQL string

func schema() *record.Schema {
	s, err := record.ParseSchema(schemaSQL)
	if err != nil {
		panic(err) // schema.sql is part of the binary; tests catch a bad one
	}
	return s
}
