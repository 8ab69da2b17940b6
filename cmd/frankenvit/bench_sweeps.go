package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/prune"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

// sweepOutputs are the files a sweep or a merge of shards writes.
type sweepOutputs struct {
	csv, json, plot string
	perModel        bool
}

func (o *sweepOutputs) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.csv, "csv", "", "write the summary table as CSV to FILE")
	fl.StringVar(&o.json, "json", "", "write every measurement and the summary as JSON to FILE (input of bench merge-results)")
	fl.StringVar(&o.plot, "plot", "", "draw the curves with 95% intervals to FILE.svg or FILE.png")
	fl.BoolVar(&o.perModel, "per-model", false, "summarise each model on its own instead of each population")
}

// check refuses output files that could not be written, before any work.
func (o *sweepOutputs) check() error {
	return checkOutputs(o.plot, outputFile{"--csv", o.csv}, outputFile{"--json", o.json})
}

// write prints the summary table and writes the files asked for.
func (o *sweepOutputs) write(doc *sweep.Document) error {
	r := sweep.Render(doc, o.perModel)
	if err := r.WriteFiles(sweep.Files{CSV: o.csv, JSON: o.json, Plots: []string{o.plot}}); err != nil {
		var fe *sweep.FileError
		if errors.As(err, &fe) {
			return fmt.Errorf("--%s: %v", fe.Kind, fe.Err)
		}
		return err
	}
	return r.Display.Render(os.Stdout)
}

// sweepFlags are shared by the orders and depth sweeps.
type sweepFlags struct {
	opt   sweep.Options
	shard string
	out   sweepOutputs
}

func (f *sweepFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.opt.Data, "data", "", "data set (default: each model's own)")
	fl.StringVar(&f.opt.Split, "split", "test", "split accuracy is measured on: test | val")
	fl.IntVar(&f.opt.Limit, "limit", 0, "measure on the first N images of the split only (0 = all)")
	fl.Uint64Var(&f.opt.Seed, "seed", 0, "seed of every random order and removal")
	fl.StringVar(&f.shard, "shard", "", "run only part i of n of the work (i/n, 0-based), e.g. $SLURM_ARRAY_TASK_ID/4")
	f.out.register(cmd)
}

func (f *sweepFlags) run(kind string, names []string) error {
	return f.runWith(func(s *checkpoint.Store, shard *sweep.Shard) (*sweep.Document, error) {
		req := workflow.SweepRequest{Kind: kind, Options: f.opt, Shard: shard, Log: os.Stderr}
		req.Options.Names = names
		return workflow.Sweep(s, req)
	})
}

// runWith checks the output files, reads --shard, opens the store, runs the
// sweep and writes its outputs.
func (f *sweepFlags) runWith(run func(*checkpoint.Store, *sweep.Shard) (*sweep.Document, error)) error {
	if err := f.out.check(); err != nil {
		return err
	}
	var shard *sweep.Shard
	if f.shard != "" {
		sh, err := sweep.ParseShard(f.shard)
		if err != nil {
			return err
		}
		shard = &sh
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	doc, err := run(s, shard)
	if err != nil {
		return err
	}
	return f.out.write(doc)
}

func newBenchOrdersCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "orders NAME|PREFIX...",
		Short: "Accuracy of models or populations under sequential, reversed, random, per-batch and per-sample block orders",
		Long: `For every model (a population PREFIX stands for its members) measures test accuracy with its blocks run
sequentially, reversed, and in --orders K random permutations (one for the whole split each; mean, std, min,
max), and --repeats times with a fresh permutation per --order-batch images (per-batch, as LayerShuffle trains)
and per image (per-sample). Populations are summarised over their members.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return f.run(sweep.Orders, args) },
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.opt.Orders, "orders", 20, "K random permutations, each over the whole split")
	fl.IntVar(&f.opt.Repeats, "repeats", 5, "repeats of the per-batch and per-sample evaluations (0: skip them)")
	fl.IntVar(&f.opt.OrderBatch, "order-batch", 64, "images sharing one order in the per-batch evaluation")
	return cmd
}

func newBenchDepthCmd() *cobra.Command {
	var f sweepFlags
	var strategies string
	cmd := &cobra.Command{
		Use:   "depth NAME|PREFIX...",
		Short: "Accuracy against the number of blocks removed, for every pruning strategy",
		Long: `For every model (a population PREFIX stands for its members) and every strategy of --strategies, removes
0 .. depth-1 blocks and measures test accuracy; random removal draws --seeds removals per depth. greedy,
influence and angular measure on each model's validation split (--val-limit). --reference names models
trained at reduced depth, drawn as single points at the number of blocks they lack.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := prune.ParseStrategies(strategies)
			if err != nil {
				return fmt.Errorf("--strategies: %v", err)
			}
			for _, s := range st {
				f.opt.Strategies = append(f.opt.Strategies, string(s))
			}
			return f.run(sweep.Depth, args)
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&strategies, "strategies", "all", "comma-separated pruning strategies, or all")
	fl.IntVar(&f.opt.Seeds, "seeds", 5, "random removals per depth")
	fl.IntVar(&f.opt.ValLimit, "val-limit", 0, "data-driven strategies measure on the first N validation images (0 = all)")
	fl.StringSliceVar(&f.opt.References, "reference", nil, "models trained at reduced depth, shown as reference points")
	return cmd
}

func newBenchMergeCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "merge PREFIX|NAME...",
		Short: "Accuracy of random Frankenstein models against the number of source models mixed",
		Long: `For every population (or list of models given as one group each) draws --draws random Frankenstein models
for each number n = 1 .. N of source members: n members picked at random, slot i takes block i of one of them
(--any-block: any block), the stem and head come from one of them, as in the paper. n = 1 gives the members
themselves. Nothing is stored: the models are plans evaluated on the spot.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return f.run(sweep.Merge, args) },
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.opt.Draws, "draws", 10, "random Frankenstein models per number of sources")
	fl.BoolVar(&f.opt.AnyBlock, "any-block", false, "a slot may take any block of its source, not only the block at its position")
	return cmd
}

func newBenchMergeResultsCmd() *cobra.Command {
	var out sweepOutputs
	cmd := &cobra.Command{
		Use:   "merge-results FILE...",
		Short: "Merge the --json results of every shard of a sweep into the sweep's table, CSV, JSON and plot",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			docs := make([]*sweep.Document, len(args))
			for i, path := range args {
				d, err := sweep.ReadDocument(path)
				if err != nil {
					return err
				}
				docs[i] = d
			}
			doc, err := sweep.MergeShards(docs, args)
			if err != nil {
				return err
			}
			return out.write(doc)
		},
	}
	out.register(cmd)
	return cmd
}
