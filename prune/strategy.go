package prune

import (
	"fmt"
	"strings"
)

// Strategy names a rule for choosing the blocks to remove.
type Strategy string

const (
	Last       Strategy = "last"
	First      Strategy = "first"
	Random     Strategy = "random"
	EveryOther Strategy = "every-other"
	Greedy     Strategy = "greedy"
	Influence  Strategy = "influence"
	Angular    Strategy = "angular"
)

// Strategies lists every strategy in the order the CLI documents them.
var Strategies = []Strategy{Last, First, Random, EveryOther, Greedy, Influence, Angular}

// ParseStrategy accepts a strategy name as typed on the command line.
func ParseStrategy(s string) (Strategy, error) {
	for _, st := range Strategies {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown pruning strategy %q (want one of %s)", s, strings.Join(StrategyNames(), ", "))
}

// ParseStrategies reads a comma-separated list; "all" is every strategy.
// Duplicates are refused.
func ParseStrategies(s string) ([]Strategy, error) {
	if strings.TrimSpace(s) == "all" {
		return append([]Strategy(nil), Strategies...), nil
	}
	var out []Strategy
	seen := map[Strategy]bool{}
	for _, f := range strings.Split(s, ",") {
		st, err := ParseStrategy(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		if seen[st] {
			return nil, fmt.Errorf("pruning strategy %q is listed twice in %q", st, s)
		}
		seen[st] = true
		out = append(out, st)
	}
	return out, nil
}

// StrategyNames lists the names of every strategy.
func StrategyNames() []string {
	names := make([]string, len(Strategies))
	for i, s := range Strategies {
		names[i] = string(s)
	}
	return names
}

// NeedsData reports whether the strategy measures the model on data.
func (s Strategy) NeedsData() bool { return s == Greedy || s == Influence || s == Angular }

// Seeded reports whether the strategy draws from a seed.
func (s Strategy) Seeded() bool { return s == Random }
