package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/frankenvit/frankenvit/prune"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newPruneCmd() *cobra.Command {
	var req workflow.PruneRequest
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "prune NAME OUT",
		Short: "Remove K blocks from a model's plan and store the rest as model OUT (no weights copied)",
		Long: `Chooses --remove K blocks of NAME's plan by --strategy and stores the kept blocks, in their order, as
model OUT: a manifest pointing at NAME's blobs, recording the strategy, K and the scores it measured.
Strategies: last, first, random (--seed), every-other (LayerDrop's rule), greedy (drop the block whose removal
costs least validation accuracy, repeatedly), influence (ShortGPT's Block Influence, 1 - cos(input, output),
lowest first), angular (Gromov et al.: the K consecutive blocks whose input and output are closest in angle).
greedy, influence and angular measure on the model's validation split (--split, --limit).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name, req.Out, req.Log = args[0], args[1], os.Stderr
			s, err := openStore()
			if err != nil {
				return err
			}
			out, err := workflow.Prune(s, req)
			if err != nil {
				return err
			}
			r := out.Recipe
			t := &table.Table{Title: fmt.Sprintf("model %s: %s pruned by %s", out.Model, r.From, r.Strategy),
				Header: []string{"removed", "kept plan", "scores", "test acc", "test acc of " + r.From}}
			t.Add(ints(r.Removed), out.Plan, floats(r.Scores), pct(out.TestAccuracy), pct(out.SourceTestAccuracy))
			return printResult(asJSON, out, t)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&req.Remove, "remove", 1, "number of blocks to remove")
	fl.StringVar(&req.Strategy, "strategy", string(prune.Last), strings.Join(prune.StrategyNames(), " | "))
	fl.Uint64Var(&req.Seed, "seed", 0, "seed of the random strategy")
	fl.StringVar(&req.Split, "split", "val", "split greedy, influence and angular measure on: val | train")
	fl.IntVar(&req.Limit, "limit", 0, "measure on the first N images of the split only (0 = all)")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func ints(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ",")
}

func floats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.4f", x)
	}
	return strings.Join(parts, " ")
}
