package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/speed"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks: speed, and the orders, depth and merge sweeps",
	}
	cmd.AddCommand(newBenchSpeedCmd(), newBenchOrdersCmd(), newBenchDepthCmd(), newBenchMergeCmd(), newBenchMergeMethodsCmd(), newBenchMergeResultsCmd(), newBenchDataCmd())
	return cmd
}

func newBenchSpeedCmd() *cobra.Command {
	o := speed.DefaultSpeedOptions()
	var asJSON bool
	var child string
	cmd := &cobra.Command{
		Use:   "speed",
		Short: "Training and inference images/s, GFLOP/s against the FMA peak and peak memory (optionally against PyTorch)",
		Long: `Trains the default model, a larger one (dim 192, 3 heads, MLP 768, depth 12, patch 4 on 28x28) and ViT-Tiny
(224x224x3, patch 16, 1000 classes) for --steps steps at batch 64 on synthetic data, evaluates --eval-images
images under one plan, and prints images/s,
GFLOP/s against the measured FMA peak (the widest FMAs the CPU runs, AVX-512 or AVX2, in registers on every core), and the peak resident set. Each model is measured in a fresh child
process of this binary. --peer torch runs the same models in PyTorch (Debian's python3-torch) with the
reference BLAS and OpenBLAS, 1 and 2 threads, and marks its best configuration. Every child process runs
under a time limit (scaled to the model's FLOPs and --peer-budget, or --child-timeout) and is killed with its
process group when it passes; a failed peer leaves its row empty with the reason, a failed frankenvit child
fails the command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if child != "" {
				return runSpeedChild(child)
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			o.Measure = speed.ExecMeasurer(exe, "bench", "speed")
			o.Log = os.Stderr
			rep, err := speed.Speed(o)
			if err != nil {
				return err
			}
			if err := printResult(asJSON, rep, rep.Table()); err != nil || asJSON {
				return err
			}
			if pt := rep.ProfileTable(); pt != nil {
				fmt.Println()
				return pt.Render(os.Stdout)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&o.Models, "models", nil, "models to measure: default, large, vit-ti (default: all)")
	fl.StringVar(&o.ProfileDir, "profile", "", "write CPU profiles of each model's timed training and evaluation to this folder (MODEL-train.pprof, MODEL-infer.pprof) and print their top functions")
	fl.IntVar(&o.Steps, "steps", o.Steps, "timed training steps per model (warm-up steps not counted)")
	fl.IntVar(&o.Warmup, "warmup", o.Warmup, "untimed training steps first")
	fl.IntVar(&o.EvalImages, "eval-images", 0, "images evaluated under one plan per model (0: 10000 on default, 2560 on large)")
	fl.IntVar(&o.GemmSize, "gemm-size", o.GemmSize, "n of the n×n×n GEMM that measures the peak")
	fl.StringVar(&o.Peer, "peer", "", "also run the peer benchmark: torch")
	fl.StringVar(&o.Python, "python", o.Python, "interpreter of the torch peer (Debian's, with python3-torch)")
	fl.IntSliceVar(&o.PeerThreads, "peer-threads", o.PeerThreads, "torch thread counts to try")
	fl.StringSliceVar(&o.PeerBLAS, "peer-blas", o.PeerBLAS, "BLAS libraries to try under torch: reference, openblas")
	fl.DurationVar(&o.PeerBudget, "peer-budget", o.PeerBudget, "time cap of each timed phase of one peer configuration (0: none)")
	fl.DurationVar(&o.ChildTimeout, "child-timeout", 0, "time limit of every child process (0: scaled to each model's work)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	fl.StringVar(&child, speed.ChildFlag, "", "measure one run given as JSON and print it (used by the parent process)")
	fl.MarkHidden(speed.ChildFlag)
	return cmd
}

// runSpeedChild measures one model in this (fresh) process for the parent.
func runSpeedChild(spec string) error {
	var run speed.SpeedRun
	if err := json.Unmarshal([]byte(spec), &run); err != nil {
		return fmt.Errorf("--%s: %v", speed.ChildFlag, err)
	}
	m, err := speed.MeasureFrankenvit(run)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(m)
}

func newBenchDataCmd() *cobra.Command {
	req := workflow.DataBenchRequest{Batch: 128, Seed: 1}
	var image string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "data SPEC",
		Short: "Images/s of reading a data set's training split as a training does, and the peak memory",
		Long: `Reads every training image of SPEC once, in batches, in a seeded random order, exactly as a training
fills its batches: for folder:DIR with --image HxW, decoded from disk in parallel, resized and centre-cropped
(or, with --augment, RandomResizedCrop and flips), normalised. Prints images/s and the peak resident set, which
for full-size folders does not grow with the folder.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Data.Spec, req.Log = args[0], os.Stderr
			if image != "" {
				size, err := dataset.ParseImageSize(image)
				if err != nil {
					return fmt.Errorf("--image %v", err)
				}
				req.Image = size
			}
			res, err := workflow.BenchData(req)
			if err != nil {
				return err
			}
			return printResult(asJSON, res, res.Table())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&image, "image", "", "HEIGHTxWIDTH: read folder:DIR at full size into this input size")
	fl.BoolVar(&req.Augment, "augment", false, "timm's training transform (RandomResizedCrop, flips) instead of resize and centre crop")
	fl.IntVar(&req.Batch, "batch", req.Batch, "batch size")
	fl.IntVar(&req.Data.Limit, "limit", 0, "read only the first N training images (0 = all)")
	fl.Uint64Var(&req.Seed, "seed", req.Seed, "seed of the order and the augmentation")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
