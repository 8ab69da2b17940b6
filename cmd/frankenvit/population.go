package main

import (
	"fmt"
	"os"

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
training, the parent), for job arrays on a shared store. Rerunning after a crash resumes. --parent NAME
fine-tunes the members from a stored model instead (an imported pretrained ViT: its architecture, input
size and preprocessing; --new-head when the data has other classes).

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
				return fmt.Errorf("--init does not apply to a population: members start from PREFIX-parent, or from --parent NAME")
			}
			if req.Parent != "" {
				for _, name := range append([]string{"parent-epochs"}, architectureFlags...) {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--%s does not apply with --parent: the members are fine-tuned from %s as it is", name, req.Parent)
					}
				}
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
			req.Base = workflow.TrainRequest{Config: cfg, Log: os.Stderr}
			if err := tf.resolve(cmd, &req.Base); err != nil {
				return err
			}
			req.Base.Init = "" // the members' init is the parent
			defer trainingGC()()
			sum, err := workflow.Population(s, req)
			if err != nil {
				return err
			}
			tables := workflow.PopulationTables(sum)
			for _, t := range tables[:len(tables)-1] {
				if !asJSON {
					if err := t.Render(os.Stdout); err != nil {
						return err
					}
				}
			}
			return printResult(asJSON, sum, tables[len(tables)-1])
		},
	}
	mf.register(cmd)
	tf.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&req.Size, "size", 4, "number of members")
	fl.IntVar(&req.ParentEpochs, "parent-epochs", 5, "epochs of the parent")
	fl.IntVar(&req.Member, "member", -1, "train only this member (0-based; e.g. $SLURM_ARRAY_TASK_ID)")
	fl.BoolVar(&req.Independent, "independent", false, "members from their own random initialisations, no parent")
	fl.StringVar(&req.Parent, "parent", "", "fine-tune the members from this stored model (e.g. an imported pretrained ViT) instead of training PREFIX-parent")
	fl.IntVar(&req.RandomOrders, "orders", 20, "K of the random:K test accuracy in the summary")
	fl.StringSliceVar(&req.Tasks, "tasks", nil, "a multi-task population over these data specs (e.g. mnist,fashion-mnist,mnist@rot90): one child per task")
	fl.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}
