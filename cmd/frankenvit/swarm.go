package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/frankenvit/frankenvit/internal/durable"
	"github.com/frankenvit/frankenvit/swarm"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newSwarmCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "swarm",
		Short: "Run a model as a swarm of block services on NATS: answer images through it, or bench it under failures",
	}
	cmd.AddCommand(newSwarmEvalCmd(), newSwarmBenchCmd())
	return cmd
}

// registerSwarmOptions adds the router's flags.
func registerSwarmOptions(cmd *cobra.Command, o *workflow.SwarmOptions) {
	fl := cmd.Flags()
	fl.StringVar(&o.Data, "data", "", "data set (default: the one the model was trained on)")
	fl.StringVar(&o.Split, "split", "test", "test | val | train")
	fl.IntVar(&o.Limit, "limit", 0, "answer the first N images only (0 = all)")
	fl.StringVar(&o.Order, "order", "sequential", "sequential | reversed | random[:K] | block indices like 0,3,1 | random-batch | random-sample | arrival")
	fl.Uint64Var(&o.Seed, "seed", 0, "seed of random orders and of the fault schedule")
	fl.DurationVar(&o.Deadline, "deadline", time.Second, "how long to wait for a block before skipping it")
	fl.IntVar(&o.Batch, "batch", 64, "images per batch")
	fl.IntVar(&o.Inflight, "inflight", 4, "batches in the swarm at once")
	fl.StringVar(&o.Prefix, "prefix", "", "subject prefix of the swarm (default frankenvit)")
}

func swarmContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func newSwarmEvalCmd() *cobra.Command {
	var o workflow.SwarmOptions
	var url, answersOut string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "eval NAME",
		Short: "Answer a split's images through running swarm workers and measure accuracy and latency",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name, o.Log = args[0], os.Stderr
			if err := checkOutputDir("--answers", answersOut); err != nil {
				return err
			}
			s, err := openStore()
			if err != nil {
				return err
			}
			ctx, stop := swarmContext()
			defer stop()
			out, err := workflow.SwarmEval(ctx, s, url, o)
			if err != nil {
				return err
			}
			if err := writeAnswers(answersOut, []*workflow.SwarmOutcome{out}); err != nil {
				return err
			}
			return printResult(asJSON, out, swarm.SummaryTable([]string{out.Model + " " + out.Order}, []swarm.Summary{out.Summary}))
		},
	}
	registerSwarmOptions(cmd, &o)
	cmd.Flags().StringVar(&url, "nats", "nats://127.0.0.1:4222", "URL of the swarm's NATS server")
	cmd.Flags().StringVar(&answersOut, "answers", "", answersUsage)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func newSwarmBenchCmd() *cobra.Command {
	var req workflow.SwarmBenchRequest
	var csvOut, plotOut, answersOut string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench NAME...",
		Short: "Run a swarm on this machine (workers as processes) and measure it while workers are killed, slowed or restarted",
		Long: `bench starts an embedded NATS server, --workers block workers and a stem-and-head worker as
processes, and answers a split through them while the seeded schedule (--fail, --slow,
--restart, --seed) hits the block workers. Several models run one after the other under
the same schedule, into one table and one figure.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Log = os.Stderr
			if err := checkOutputs(plotOut, outputFile{"--csv", csvOut}, outputFile{"--answers", answersOut}); err != nil {
				return err
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("cannot find the frankenvit binary to start workers: %w", err)
			}
			req.Exe = exe
			req.Faults.Seed = req.Seed
			s, err := openStore()
			if err != nil {
				return err
			}
			ctx, stop := swarmContext()
			defer stop()
			var outs []*workflow.SwarmBenchOutcome
			for _, name := range args {
				r := req
				r.Name = name
				out, err := workflow.SwarmBench(ctx, s, r)
				if err != nil {
					return err
				}
				outs = append(outs, out)
			}
			var answered []*workflow.SwarmOutcome
			for _, o := range outs {
				answered = append(answered, &o.SwarmOutcome)
			}
			if err := writeAnswers(answersOut, answered); err != nil {
				return err
			}
			windows := workflow.SwarmBenchWindows(outs)
			if csvOut != "" {
				if err := durable.Write(csvOut, windows.WriteCSV); err != nil {
					return fmt.Errorf("--csv: %w", err)
				}
			}
			if plotOut != "" {
				if err := workflow.SwarmBenchFigure(outs).Save(plotOut); err != nil {
					return fmt.Errorf("--plot: %w", err)
				}
			}
			if asJSON {
				if len(outs) == 1 {
					return printResult(true, outs[0], nil)
				}
				return printResult(true, outs, nil)
			}
			return printSwarmBench(outs, windows)
		},
	}
	registerSwarmOptions(cmd, &req.SwarmOptions)
	fl := cmd.Flags()
	fl.IntVar(&req.Workers, "workers", 6, "block workers (processes); the blocks are dealt out among them")
	fl.IntVar(&req.Threads, "threads", 1, "kernel goroutines per worker")
	fl.IntVar(&req.Faults.Fail, "fail", 0, "block workers killed during the run (between 25% and 50% of it)")
	fl.IntVar(&req.Faults.Slow, "slow", 0, "other block workers slowed during the run (from 10-40% of it)")
	fl.DurationVar(&req.Faults.SlowBy, "slow-by", 50*time.Millisecond, "time a slowed worker adds to every computation")
	fl.BoolVar(&req.Faults.Restart, "restart", false, "restart every killed worker a quarter of the run after its kill")
	fl.IntVar(&req.Windows, "windows", 10, "stretches of time the run is reported in")
	fl.StringVar(&csvOut, "csv", "", "write the table over time as CSV to FILE")
	fl.StringVar(&answersOut, "answers", "", answersUsage)
	fl.StringVar(&plotOut, "plot", "", "draw accuracy and latency over time to FILE.svg or FILE.png")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object: the summary (accuracy, answered...), windows, events and batches")
	return cmd
}

const answersUsage = "write every image's answer as CSV to FILE: label, prediction (-1: none), the blocks its batch ran and skipped"

// writeAnswers writes every image's answer of the runs to path ("": none).
func writeAnswers(path string, outs []*workflow.SwarmOutcome) error {
	if path == "" {
		return nil
	}
	if err := durable.Write(path, workflow.SwarmAnswers(outs).WriteCSV); err != nil {
		return fmt.Errorf("--answers: %w", err)
	}
	return nil
}

// printSwarmBench prints the summary (each model's run, with local
// evaluation of the same plan beside it), and the runs over time.
func printSwarmBench(outs []*workflow.SwarmBenchOutcome, windows *table.Table) error {
	o := outs[0]
	fmt.Printf("swarm: %d block workers, order %s, %d images of %s/%s\n", o.Workers, o.Order, o.Images, o.Data, o.Split)
	if err := workflow.SwarmBenchSummary(outs).Render(os.Stdout); err != nil {
		return err
	}
	for _, o := range outs {
		if l := o.Local; l != nil {
			fmt.Printf("%s: same prediction as local eval of plan %v for %d of %d images\n", o.Model, l.Plan, l.Same, o.Images)
		}
	}
	return windows.Render(os.Stdout)
}
