package main

import (
	"fmt"
	"os"

	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newPopulationCmd() *cobra.Command {
	var mf modelFlags
	var tf trainFlags
	var req workflow.PopulationRequest
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "population PREFIX",
		Short: "Train a parent and N children fine-tuned from it (or N independent members)",
		Long: `Trains PREFIX-parent for --parent-epochs, then members PREFIX-0 .. PREFIX-(N-1) fine-tuned from it
for --epochs, each with its own seed and data order. --member I trains only member I (waiting for, or
training, the parent), for job arrays on a shared store. Rerunning after a crash resumes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := mf.config()
			if err != nil {
				return err
			}
			if tf.init != "" {
				return fmt.Errorf("--init does not apply to a population: members start from PREFIX-parent")
			}
			s, err := openStore()
			if err != nil {
				return err
			}
			req.Prefix, req.Log = args[0], os.Stderr
			req.Base = workflow.TrainRequest{Config: cfg, Data: tf.data, Options: tf.opt, Log: os.Stderr}
			defer trainingGC()()
			sum, err := workflow.Population(s, req)
			if err != nil {
				return err
			}
			t := &table.Table{Title: fmt.Sprintf("population %s (%s, %s)", sum.Prefix, sum.Variant, sum.Data),
				Header: []string{"model", "role", "seed", "status", "val acc", "test acc sequential", "test acc " + sum.Orders}}
			for _, m := range sum.Members {
				t.Add(m.Name, m.Role, fmt.Sprint(m.Seed), m.Status, pct(m.ValAccuracy), pct(m.TestSequential),
					fmt.Sprintf("%s ± %s", pct(m.TestRandom), pct(m.TestRandomStd)))
			}
			return printResult(asJSON, sum, t)
		},
	}
	mf.register(cmd)
	tf.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&req.Size, "size", 4, "number of members")
	fl.IntVar(&req.ParentEpochs, "parent-epochs", 5, "epochs of the parent")
	fl.IntVar(&req.Member, "member", -1, "train only this member (0-based; e.g. $SLURM_ARRAY_TASK_ID)")
	fl.BoolVar(&req.Independent, "independent", false, "members from their own random initialisations, no parent")
	fl.IntVar(&req.RandomOrders, "orders", 20, "K of the random:K test accuracy in the summary")
	fl.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}
