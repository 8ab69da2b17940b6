package main

import (
	"fmt"
	"os"
	"time"

	"github.com/frankenvit/frankenvit/study"
	"github.com/spf13/cobra"
)

func newStudyCmd() *cobra.Command {
	var out string
	var checkOnly bool
	cmd := &cobra.Command{
		Use:   "study [FILE]",
		Short: "Run a whole study from a YAML file (without FILE: the built-in MNIST quickstart)",
		Long: `Reads a study file (see examples/quickstart.yaml and examples/paper-fashion-mnist.yaml): populations to train,
merges to build, sweeps to run, models to analyse. The whole file is checked first, naming every problem,
before anything is trained. Then it trains what is not in the store yet, builds the merges, runs the sweeps
and analyses whose results are not in --out yet, and writes every table (CSV), every sweep (JSON, CSV, SVG,
PNG), every analysis (JSON, CSV, SVG, PNG) and one self-contained report.html into --out (default
study-NAME). Rerunning resumes.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			source, text := "built-in quickstart", study.Quickstart
			if len(args) == 1 {
				source = args[0]
				var err error
				if text, err = os.ReadFile(args[0]); err != nil {
					return fmt.Errorf("study file: %v", err)
				}
			}
			f, err := study.Parse(text, source)
			if err != nil {
				return err
			}
			s, err := openStore()
			if err != nil {
				return err
			}
			plan, err := study.Check(f, source, text, s)
			if err != nil {
				return err
			}
			if checkOnly {
				fmt.Printf("study %s (%s): %d populations, %d merges, %d sweeps, %d analyses; no problems found\n",
					plan.Name, source, len(plan.Populations), len(plan.Merges), len(plan.Sweeps), len(plan.Analyses))
				return nil
			}
			if out == "" {
				out = "study-" + plan.Name
			}
			defer trainingGC()()
			res, err := study.Run(s, plan, out, os.Stderr)
			if err != nil {
				return err
			}
			for _, t := range res.Tables {
				if err := t.Render(os.Stdout); err != nil {
					return err
				}
			}
			fmt.Printf("report: %s (study %s took %s)\n", res.Report, plan.Name, time.Since(start).Round(time.Second))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output folder (default study-NAME)")
	cmd.Flags().BoolVar(&checkOnly, "check", false, "only check the study file")
	return cmd
}
