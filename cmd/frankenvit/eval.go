package main

import (
	"fmt"
	"os"

	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newEvalCmd() *cobra.Command {
	var req workflow.EvalRequest
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "eval NAME",
		Short: "Measure a stored model's accuracy under a block order",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name, req.Log = args[0], os.Stderr
			s, err := openStore()
			if err != nil {
				return err
			}
			if req.Task == workflow.AllTasks {
				outs, err := workflow.EvalTasks(s, req)
				if err != nil {
					return err
				}
				return printResult(asJSON, outs, allTasksTable(outs))
			}
			out, err := workflow.Eval(s, req)
			if err != nil {
				return err
			}
			if out.Task != "" {
				t := &table.Table{Header: []string{"model", "task", "split", "order", "accuracy", "std", "orders", "images"}}
				t.Add(out.Model, out.Task, out.Split, out.Order, pct(out.Accuracy), pct(out.AccuracyStd),
					fmt.Sprint(len(out.Orders)), fmt.Sprint(out.Images))
				return printResult(asJSON, out, t)
			}
			t := &table.Table{Header: []string{"model", "data", "split", "order", "accuracy", "std", "orders", "images"}}
			t.Add(out.Model, out.Data, out.Split, out.Order, pct(out.Accuracy), pct(out.AccuracyStd),
				fmt.Sprint(len(out.Orders)), fmt.Sprint(out.Images))
			return printResult(asJSON, out, t)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&req.Data, "data", "", "data set (default: the one the model was trained on)")
	fl.StringVar(&req.Split, "split", "test", "test | val | train")
	fl.StringVar(&req.Order, "order", "sequential", "sequential | reversed | random[:K] | block indices like 0,3,1")
	fl.Uint64Var(&req.Seed, "seed", 0, "seed of random orders")
	fl.IntVar(&req.Limit, "limit", 0, "evaluate the first N images only (0 = all)")
	fl.StringVar(&req.Task, "task", "", "a multi-task model's task (its head on that task's data); default: the task it was trained on, else its first; all: every task and the average")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object (with --task all, a list)")
	return cmd
}

// allTasksTable is one row per task of a multi-task model and the average.
func allTasksTable(outs []*workflow.EvalOutcome) *table.Table {
	t := &table.Table{Header: []string{"model", "task", "split", "order", "accuracy", "std", "orders", "images"}}
	var acc, std float64
	for _, o := range outs {
		t.Add(o.Model, o.Task, o.Split, o.Order, pct(o.Accuracy), pct(o.AccuracyStd), fmt.Sprint(len(o.Orders)), fmt.Sprint(o.Images))
		acc += o.Accuracy
		std += o.AccuracyStd
	}
	if n := float64(len(outs)); n > 0 {
		t.Add(outs[0].Model, "average", outs[0].Split, outs[0].Order, pct(acc/n), pct(std/n), "", "")
	}
	return t
}
