package workflow

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/swarm"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// ServeRequest is everything `frankenvit serve` needs.
type ServeRequest struct {
	NATS    string   // the NATS server's URL; "" starts an embedded server on Listen
	Listen  string   // host:port of the embedded server
	Prefix  string   // subject prefix (swarm.DefaultPrefix when empty)
	ID      string   // the worker's id; "" is host-pid
	Blocks  []string // NAME:INDICES (or NAME:all) to serve
	Ends    []string // models whose stem and head to serve
	Threads int      // kernel goroutines per computation (0: every core)
	Log     io.Writer
}

// Serve loads the models a worker serves and answers until ctx ends.
func Serve(ctx context.Context, s *checkpoint.Store, req ServeRequest) error {
	w := &swarm.Worker{ID: req.ID, Subjects: swarm.Subjects{Prefix: req.Prefix}, Threads: req.Threads, Log: req.Log, Models: map[string]*vit.Model{}}
	if w.ID == "" {
		host, _ := os.Hostname()
		w.ID = fmt.Sprintf("%s-%d", strings.NewReplacer(".", "-", " ", "-").Replace(host), os.Getpid())
	}
	load := func(name string) (*vit.Model, error) {
		if m, ok := w.Models[name]; ok {
			return m, nil
		}
		if err := swarm.CheckToken("model name", name); err != nil {
			return nil, err
		}
		st, err := modelstore.Load(s, name)
		if err != nil {
			return nil, err
		}
		w.Models[name] = st.Model
		return st.Model, nil
	}
	for _, spec := range req.Blocks {
		name, idx, err := swarm.ParseBlockRefs(spec)
		if err != nil {
			return err
		}
		m, err := load(name)
		if err != nil {
			return err
		}
		if len(idx) == 1 && idx[0] == -1 {
			idx = idx[:0]
			for k := range m.Blocks {
				idx = append(idx, k)
			}
		}
		for _, k := range idx {
			w.Blocks = append(w.Blocks, swarm.BlockRef{Model: name, Index: k})
		}
	}
	for _, name := range req.Ends {
		if _, err := load(name); err != nil {
			return err
		}
		w.Ends = append(w.Ends, name)
	}
	if err := w.Check(); err != nil {
		return err
	}
	url := req.NATS
	if url == "" {
		srv, err := swarm.StartServer(req.Listen)
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		url = srv.URL()
		if req.Log != nil {
			fmt.Fprintf(req.Log, "serve: NATS server at %s (routers and other workers connect with --nats %s)\n", url, url)
		}
	}
	nc, err := swarm.Connect(url, "frankenvit worker "+w.ID)
	if err != nil {
		return err
	}
	defer nc.Close()
	return w.Serve(ctx, nc)
}

// SwarmOptions are the router's settings, shared by swarm eval and bench.
type SwarmOptions struct {
	Name, Data, Split, Order string
	Seed                     uint64
	Limit                    int
	Prefix                   string
	Deadline                 time.Duration // per block
	Batch, Inflight          int
	Log                      io.Writer
}

// SwarmOutcome is a swarm's answers summarised.
type SwarmOutcome struct {
	Model string `json:"model"`
	Data  string `json:"data"`
	Split string `json:"split"`
	Order string `json:"order"`
	swarm.Summary
	Result *swarm.Result `json:"-"` // every answer and batch
}

// swarmSetup is a router for the options' model and the split it answers.
type swarmSetup struct {
	md    *modelstore.ModelData
	split *dataset.Split
	route swarm.Route
	r     swarm.Router
}

func newSwarmSetup(s *checkpoint.Store, o SwarmOptions) (*swarmSetup, error) {
	md, split, _, err := loadSplit(s, EvalRequest{Name: o.Name, Data: o.Data, Split: o.Split, Limit: o.Limit})
	if err != nil {
		return nil, err
	}
	c := md.Model.Config
	route, err := swarm.ParseRoute(o.Order, len(md.Model.Blocks), o.Seed)
	if err != nil {
		return nil, err
	}
	c.Depth = len(md.Model.Blocks) // the router's plans run the blocks stored (a pruned model keeps its slot count in Depth)
	r := swarm.Router{Subjects: swarm.Subjects{Prefix: o.Prefix}, Model: o.Name, Config: c, Route: route, Seed: o.Seed,
		Deadline: o.Deadline, EndTries: 3, Batch: o.Batch, Inflight: o.Inflight}
	var tick func(int)
	r.OnBatch = func(done, total int) {
		if tick == nil {
			tick = trainer.NewCounter(o.Log, "swarm answering "+o.Name+" under "+route.Name+" (images)", total)
		}
		tick(done)
	}
	return &swarmSetup{md: md, split: split, route: route, r: r}, nil
}

func (ss *swarmSetup) outcome(o SwarmOptions, res *swarm.Result) SwarmOutcome {
	return SwarmOutcome{Model: o.Name, Data: ss.md.Spec, Split: o.Split, Order: ss.route.Name, Summary: swarm.Summarise(res), Result: res}
}

// SwarmEval answers a split through a running swarm at natsURL.
func SwarmEval(ctx context.Context, s *checkpoint.Store, natsURL string, o SwarmOptions) (*SwarmOutcome, error) {
	ss, err := newSwarmSetup(s, o)
	if err != nil {
		return nil, err
	}
	nc, err := swarm.Connect(natsURL, "frankenvit router")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	ss.r.Conn = nc
	if err := swarm.WaitReady(nc, ss.r.Needs(), 30*time.Second, nil); err != nil {
		return nil, err
	}
	res, err := ss.r.Run(ctx, ss.split, ss.md.Norm)
	if err != nil {
		return nil, err
	}
	out := ss.outcome(o, res)
	return &out, nil
}

// SwarmBenchRequest is everything `frankenvit swarm bench` needs.
type SwarmBenchRequest struct {
	SwarmOptions
	Exe     string // the frankenvit binary the workers run
	Workers int
	Threads int
	Faults  swarm.Faults
	Windows int // stretches of time in the report
}

// SwarmBenchOutcome is a bench run: the summary, the run over time, the
// events, and local evaluation of the same plan for comparison.
type SwarmBenchOutcome struct {
	SwarmOutcome
	Workers int                 `json:"workers"`
	Windows []swarm.Window      `json:"windows"`
	Events  []swarm.Event       `json:"events"`
	Batches []swarm.BatchRecord `json:"batches"`
	// Local is `eval` of the same plan on the same images (for a route of
	// one fixed plan): its speed, accuracy and how many of the swarm's
	// predictions equal its, image by image.
	Local *LocalComparison `json:"local,omitempty"`
}

// LocalComparison is local evaluation beside a swarm run.
type LocalComparison struct {
	Plan       []int   `json:"plan"`
	Accuracy   float64 `json:"accuracy"`
	ImagesPerS float64 `json:"images_per_s"`
	Same       int     `json:"same_predictions"`
}

// SwarmBench runs a swarm on this machine under the request's faults.
func SwarmBench(ctx context.Context, s *checkpoint.Store, req SwarmBenchRequest) (*SwarmBenchOutcome, error) {
	if req.Windows < 0 || req.Windows > swarm.MaxWindows {
		return nil, fmt.Errorf("--windows must be from 0 to %d, got %d", swarm.MaxWindows, req.Windows)
	}
	ss, err := newSwarmSetup(s, req.SwarmOptions)
	if err != nil {
		return nil, err
	}
	b := swarm.Bench{Exe: req.Exe, Serve: []string{"serve", "--store", s.Dir}, Workers: req.Workers, Threads: req.Threads,
		Faults: req.Faults, Router: ss.r, Log: req.Log}
	res, err := b.Run(ctx, ss.split, ss.md.Norm)
	if err != nil {
		return nil, err
	}
	out := &SwarmBenchOutcome{SwarmOutcome: ss.outcome(req.SwarmOptions, res.Result), Workers: req.Workers,
		Windows: swarm.Windows(res.Result, res.Events, max(req.Windows, 1)), Events: res.Events, Batches: res.Batches}
	if len(ss.route.Plans) == 1 && !ss.route.PerBatch && !ss.route.PerSample && !ss.route.Arrival {
		out.Local, err = compareLocal(ss, ss.route.Plans[0], res.Result)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// compareLocal evaluates plan locally on the same images, timed.
func compareLocal(ss *swarmSetup, plan []int, res *swarm.Result) (*LocalComparison, error) {
	p, err := ss.md.Model.PlanOf(plan)
	if err != nil {
		return nil, err
	}
	ev := trainer.NewEvaluator(ss.md.Model, ss.split, ss.md.Norm)
	preds := ev.Predictions(p) // also warms the evaluator's buffers
	secs := math.Inf(1)
	for range 3 { // the fastest of three: the machine's noise only slows
		start := time.Now()
		ev.Predictions(p)
		secs = min(secs, time.Since(start).Seconds())
	}
	lc := &LocalComparison{Plan: plan}
	correct := 0
	for i, a := range res.Answers {
		if preds[i] == a.Label {
			correct++
		}
		if preds[i] == a.Prediction {
			lc.Same++
		}
	}
	if n := len(preds); n > 0 {
		lc.Accuracy = float64(correct) / float64(n)
		lc.ImagesPerS = float64(n) / secs
	}
	return lc, nil
}
