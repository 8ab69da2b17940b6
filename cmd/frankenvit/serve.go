package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	var req workflow.ServeRequest
	var all []string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve blocks, stems and heads of stored models on NATS: a swarm worker",
		Long: `serve runs a swarm worker: it answers requests to run blocks of stored models (and to
embed images and classify them, for the models given by --ends) until it is stopped.
Without --nats it also runs a NATS server on --listen, for one machine; routers and
other workers then connect with the URL it prints.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range all {
				req.Blocks = append(req.Blocks, name+":all")
				req.Ends = append(req.Ends, name)
			}
			s, err := openStore()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			req.Log = os.Stderr
			return workflow.Serve(ctx, s, req)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&req.NATS, "nats", "", "URL of the NATS server to join (default: run an embedded server on --listen)")
	fl.StringVar(&req.Listen, "listen", "127.0.0.1:4222", "host:port of the embedded NATS server (0.0.0.0:4222 lets other machines join)")
	fl.StringVar(&req.Prefix, "prefix", "", "subject prefix: swarms with different prefixes share a server (default frankenvit)")
	fl.StringVar(&req.ID, "id", "", "this worker's id, its control subject (default host-pid)")
	fl.StringArrayVar(&req.Blocks, "blocks", nil, "blocks to serve, NAME:INDICES such as m1:0,3 or m1:all (repeatable)")
	fl.StringArrayVar(&req.Ends, "ends", nil, "serve the stem and head of model NAME (repeatable)")
	fl.StringArrayVar(&all, "all", nil, "serve every block, the stem and the head of model NAME (repeatable)")
	fl.IntVar(&req.Threads, "threads", 0, "kernel goroutines per computation (0: every core)")
	return cmd
}
