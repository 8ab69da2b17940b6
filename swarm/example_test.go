package swarm_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/swarm"
	"github.com/frankenvit/frankenvit/vit"
)

// A swarm on one machine: an embedded NATS server, one worker serving a
// model's stem, head and blocks, and a router that answers 20 images in the
// order the blocks' workers answer.
func ExampleRouter() {
	cfg := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 32, Depth: 3, Classes: 4, Variant: vit.Shuffle}
	m, _ := vit.NewModel("m", cfg)
	m.Init(1)

	srv, _ := swarm.StartServer("127.0.0.1:0")
	defer srv.Shutdown()
	wc, _ := swarm.Connect(srv.URL(), "worker")
	defer wc.Close()
	w := &swarm.Worker{ID: "w", Models: map[string]*vit.Model{"m": m}, Ends: []string{"m"}}
	for k := range m.Blocks {
		w.Blocks = append(w.Blocks, swarm.BlockRef{Model: "m", Index: k})
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go w.Serve(ctx, wc)

	rc, _ := swarm.Connect(srv.URL(), "router")
	defer rc.Close()
	route, _ := swarm.ParseRoute(swarm.RouteArrival, cfg.Depth, 0)
	r := &swarm.Router{Conn: rc, Model: "m", Config: cfg, Route: route, Deadline: time.Second, EndTries: 1, Batch: 8, Inflight: 2}
	if err := swarm.WaitReady(rc, r.Needs(), 10*time.Second, nil); err != nil {
		fmt.Println(err)
		return
	}
	split := synth.NoiseSplit(20, 1, 8, 8, 4, rand.New(rand.NewPCG(1, 2)))
	res, err := r.Run(context.Background(), split, dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.25}})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := swarm.Summarise(res)
	fmt.Printf("%d of %d images answered, each once: %v; %d batches, %.0f blocks run per image\n",
		s.Answered, s.Images, s.AnsweredOnce, len(res.Batches), s.BlocksRun)
	// Output: 20 of 20 images answered, each once: true; 3 batches, 3 blocks run per image
}
