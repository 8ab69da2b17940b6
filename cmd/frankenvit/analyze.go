package main

import (
	"fmt"
	"os"

	"github.com/frankenvit/frankenvit/analysis"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newAnalyzeCmd() *cobra.Command {
	var req workflow.AnalyzeRequest
	var out workflow.AnalysisOutput
	var feature string
	cmd := &cobra.Command{
		Use:   "analyze NAME",
		Short: "What each block does at each slot: slot probes and heads, skip contributions, logit lens, CKA, PCA",
		Long: `Runs --limit images of a split through --orders random block orders (rows of random Latin squares, so
every block visits every slot equally often) and the sequential order, and prints: the logit lens per
slot; the accuracy and loss change when a block is skipped, block by slot; a linear probe's (and, for
shuffle-predict, the blocks' own position heads') accuracy at telling the slot from a block's output, with
the slot-by-slot confusion; linear CKA between the outputs of blocks at slots; and a 2-D PCA of each
block's outputs. Figures go to --out as PNG or SVG, with --csv every table as CSV, with --json every
number in analysis.json.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name, req.Log = args[0], os.Stderr
			if out.Dir == "" {
				out.Dir = "analysis-" + req.Name
			}
			if err := out.Check(); err != nil {
				return err
			}
			f, err := analysis.ParseFeature(feature)
			if err != nil {
				return fmt.Errorf("--feature: %v", err)
			}
			req.Options.Feature = f
			s, err := openStore()
			if err != nil {
				return err
			}
			rep, err := workflow.Analyze(s, req)
			if err != nil {
				return err
			}
			for _, nt := range rep.Tables() {
				if nt.Wide {
					continue
				}
				if err := nt.Table.Render(os.Stdout); err != nil {
					return err
				}
				fmt.Println()
			}
			written, err := workflow.SaveAnalysis(rep, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "wrote %d files to %s\n", len(written), out.Dir)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&req.Data, "data", "", "data set (default: the one the model was trained on)")
	fl.StringVar(&req.Split, "split", "val", "val | test | train")
	fl.IntVar(&req.Options.Orders, "orders", 0, "random block orders K (0 = 2 x depth: every block twice in every slot)")
	fl.IntVar(&req.Limit, "limit", workflow.DefaultAnalyzeLimit, "analyse the first N images of the split (0 = all)")
	fl.Uint64Var(&req.Options.Seed, "seed", 0, "seed of the orders and of the probes' split and training")
	fl.StringVar(&feature, "feature", string(analysis.TokenMean), "block output seen by probe, CKA and PCA: mean (over tokens) | cls")
	fl.StringVar(&out.Dir, "out", "", "directory for figures and files (default analysis-NAME)")
	fl.StringVar(&out.Format, "format", "png", "figure format: png | svg")
	fl.BoolVar(&out.CSV, "csv", false, "also write every table as --out/TABLE.csv")
	fl.BoolVar(&out.JSON, "json", false, "also write every number as --out/analysis.json")
	return cmd
}
