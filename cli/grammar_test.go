package cli

import (
	"bytes"
	"testing"

	"github.com/alecthomas/kong"
)

// Each command is parsed with a grammar of its own (see grammar): it must
// hold that command alone, under the name the whole CLI gives it, and show
// the same help.
func TestGrammarOfEachCommand(t *testing.T) {
	full := parserOf(t, new(CLI), nil)
	if len(full.Model.Children) < 12 {
		t.Fatalf("the whole CLI has %d commands", len(full.Model.Children))
	}
	for _, cmd := range full.Model.Children {
		if cmd.Name == "help" {
			continue
		}
		var fullHelp, oneHelp bytes.Buffer
		one := parserOf(t, grammar([]string{cmd.Name, "--flag"}), &oneHelp)
		if len(one.Model.Children) != 1 || one.Model.Children[0].Name != cmd.Name {
			t.Errorf("the grammar of %q has commands %v", cmd.Name, names(one.Model.Children))
			continue
		}
		parserOf(t, new(CLI), &fullHelp).Parse([]string{cmd.Name, "--help"})
		one.Parse([]string{cmd.Name, "--help"})
		if fullHelp.Len() == 0 || fullHelp.String() != oneHelp.String() {
			t.Errorf("help of %s: %q with its own grammar, %q with the whole CLI", cmd.Name, oneHelp.String(), fullHelp.String())
		}
	}
	for _, args := range [][]string{nil, {"help", "search"}, {"--version"}, {"serch"}, {"--dir", "search"}} {
		if _, ok := grammar(args).(*CLI); !ok {
			t.Errorf("%q was not parsed with the whole CLI", args)
		}
	}
}

// parserOf is kong's parser of grammar g as Run makes it, writing to out;
// its exits return.
func parserOf(t *testing.T, g any, out *bytes.Buffer) *kong.Kong {
	t.Helper()
	if out == nil {
		out = new(bytes.Buffer)
	}
	p, err := kong.New(g, kong.Name("convlog"), kong.Writers(out, out), kong.Exit(func(int) {}),
		kong.Vars{"version": "v", "ref_help": refHelp})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func names(nodes []*kong.Node) []string {
	var s []string
	for _, n := range nodes {
		s = append(s, n.Name)
	}
	return s
}
