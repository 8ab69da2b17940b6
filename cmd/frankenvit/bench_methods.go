package main

import (
	"strings"

	"github.com/frankenvit/frankenvit/sweep"
	"github.com/spf13/cobra"
)

func newBenchMergeMethodsCmd() *cobra.Command {
	var f sweepFlags
	var methodList string
	cmd := &cobra.Command{
		Use:   "merge-methods PREFIX...",
		Short: "Every weight-merge method, with its defaults and over a grid of its main parameter, on populations",
		Long: `For every population merges its members with each method of --methods (all: every mergekit method),
once with the method's defaults and once per value of its main parameter (task_arithmetic: lambda 0.1 0.3
0.5 0.7; ties, dare_*, breadcrumbs*, della*: density 0.2 0.5 0.8; sce: select_topk; slerp, nearswap: t),
with every member weighted 1 and the population's parent as the base. slerp, nearswap and nuslerp merge the
first two members. The random methods (dare_*, della*) run over --seeds seeds. Each merged model is measured
on every task of the population (a multi-task population: each task with its own head) in sequential order
and --orders random orders, beside the references: every member on its own task (individual; on a same-task
population also the best member), the parent, and for a multi-task population PREFIX-mt (trained on all
tasks) and PREFIX-probe-K (the parent with task K's head fine-tuned: FusionBench's pretrained row) when they
exist. normalized = accuracy / the individual's accuracy on the task. Nothing is stored.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.opt.Methods = strings.Split(methodList, ",")
			return f.run(sweep.MergeMethods, args)
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&methodList, "methods", "all", "comma-separated merge methods, or all")
	fl.IntVar(&f.opt.Orders, "orders", 5, "random block orders each model is also measured in (0: sequential only)")
	fl.IntVar(&f.opt.Seeds, "seeds", 3, "seeds of the random methods (dare_*, della*)")
	return cmd
}
