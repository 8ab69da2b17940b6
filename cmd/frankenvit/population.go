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
training, the parent), for job arrays on a shared store. Rerunning after a crash resumes.

--tasks T1,T2,... makes a multi-task population: PREFIX-parent is trained on every task's training images
pooled (one head per task), child PREFIX-k is the parent fine-tuned on task k alone (k in --tasks order),
and the references PREFIX-mt (the parent fine-tuned on the pooled tasks for --epochs: the jointly trained
multi-task model) and PREFIX-probe-k (the parent with only task k's head trained on task k: FusionBench's
"pretrained" row) are trained too. The table has one row per task and model.`,
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
			if len(req.Tasks) > 0 {
				if cmd.Flags().Changed("data") {
					return fmt.Errorf("--data does not apply with --tasks: the tasks are the data")
				}
				if !cmd.Flags().Changed("size") {
					req.Size = 0 // one child per task
				}
			}
			req.Prefix, req.Log = args[0], os.Stderr
			req.Base = workflow.TrainRequest{Config: cfg, Data: tf.data, Options: tf.opt, Log: os.Stderr}
			defer trainingGC()()
			sum, err := workflow.Population(s, req)
			if err != nil {
				return err
			}
			if len(sum.Tasks) > 0 {
				return printResult(asJSON, sum, taskPopulationTable(sum))
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
	fl.StringSliceVar(&req.Tasks, "tasks", nil, "a multi-task population over these data specs (e.g. mnist,fashion-mnist,mnist@rot90): one child per task")
	fl.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

// taskPopulationTable is a multi-task population's table: one row per task
// and model (each measured with that task's head on that task's test
// split), then the average over the tasks per role.
func taskPopulationTable(sum *workflow.PopulationSummary) *table.Table {
	t := &table.Table{Title: fmt.Sprintf("multi-task population %s (%s, %d tasks)", sum.Prefix, sum.Variant, len(sum.Tasks)),
		Header: []string{"task", "model", "role", "test acc sequential", "test acc " + sum.Orders}}
	for _, r := range append(sum.PerTask, workflow.TaskAverages(sum)...) {
		t.Add(r.Task, r.Model, taskRole(r.Role), pct(r.TestSequential), fmt.Sprintf("%s ± %s", pct(r.TestRandom), pct(r.TestRandomStd)))
	}
	return t
}

// taskRole names a role as FusionBench's rows do.
func taskRole(role string) string {
	switch role {
	case "member":
		return "individual (child)"
	case workflow.RoleProbe:
		return "pretrained (head only)"
	case workflow.RoleMultiTask:
		return "multi-task"
	}
	return role
}
