package swarm

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/internal/vittest"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/nats-io/nats.go"
)

var norm = dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.25}}

// testSwarm is an embedded server with in-process workers.
type testSwarm struct {
	t     *testing.T
	srv   *Server
	model *vit.Model
	wg    sync.WaitGroup
}

func newTestSwarm(t *testing.T, m *vit.Model) *testSwarm {
	t.Helper()
	srv, err := StartServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testSwarm{t: t, srv: srv, model: m}
	t.Cleanup(func() { ts.wg.Wait(); srv.Shutdown() })
	return ts
}

func (ts *testSwarm) conn() *nats.Conn {
	nc, err := Connect(ts.srv.URL(), "test")
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(nc.Close)
	return nc
}

// worker starts a worker serving blocks (and the stem and head with ends)
// until the test ends or stop is called.
func (ts *testSwarm) worker(id string, blocks []int, ends bool) (w *Worker, stop func()) {
	ts.t.Helper()
	w = &Worker{ID: id, Models: map[string]*vit.Model{ts.model.Name: ts.model}, Threads: 1}
	for _, k := range blocks {
		w.Blocks = append(w.Blocks, BlockRef{Model: ts.model.Name, Index: k})
	}
	if ends {
		w.Ends = []string{ts.model.Name}
	}
	nc := ts.conn()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		defer close(done)
		if err := w.Serve(ctx, nc); err != nil {
			ts.t.Error(err)
		}
	}()
	stop = func() { cancel(); <-done; nc.Flush() }
	ts.t.Cleanup(stop)
	return w, stop
}

// router for the test swarm's model; waits for the subjects given.
func (ts *testSwarm) router(order string, seed uint64, deadline time.Duration, batch int, ready ...string) *Router {
	ts.t.Helper()
	c := ts.model.Config
	route, err := ParseRoute(order, c.Depth, seed)
	if err != nil {
		ts.t.Fatal(err)
	}
	r := &Router{Conn: ts.conn(), Model: ts.model.Name, Config: c, Route: route, Seed: seed, Deadline: deadline,
		EndTries: 1, Batch: batch, Inflight: 3}
	if ready == nil {
		ready = r.Needs()
	}
	if err := WaitReady(r.Conn, ready, 10*time.Second, nil); err != nil {
		ts.t.Fatal(err)
	}
	return r
}

func (ts *testSwarm) all(blocks ...int) {
	ts.worker("ends", nil, true)
	for _, k := range blocks {
		ts.worker("w"+string(rune('0'+k)), []int{k}, false)
	}
}

func split(n int) *dataset.Split {
	return synth.NoiseSplit(n, 1, 8, 8, 4, rand.New(rand.NewPCG(3, 4)))
}

func run(t *testing.T, r *Router, s *dataset.Split) *Result {
	t.Helper()
	res, err := r.Run(context.Background(), s, norm)
	if err != nil {
		t.Fatal(err)
	}
	if !answeredOnce(res) {
		t.Fatal("an image was not answered exactly once")
	}
	return res
}

// evalPredictions are `eval`'s predictions under plan (block indices).
func evalPredictions(t *testing.T, m *vit.Model, s *dataset.Split, plan []int) []int {
	t.Helper()
	p, err := m.PlanOf(plan)
	if err != nil {
		t.Fatal(err)
	}
	return trainer.NewEvaluator(m, s, norm).Predictions(p)
}

func predictions(res *Result) []int {
	out := make([]int, len(res.Answers))
	for i, a := range res.Answers {
		out[i] = a.Prediction
	}
	return out
}

// With every worker up and a fixed plan, the swarm's predictions are eval's,
// image by image (batches of 7 do not divide the 45 images, nor eval's 256).
func TestSwarmPredictionsEqualEval(t *testing.T) {
	for _, v := range []vit.Variant{vit.Shuffle, vit.ShufflePosition} {
		m := vittest.TinyModel(t, "m", 4, v, 11)
		ts := newTestSwarm(t, m)
		ts.all(0, 1, 2, 3)
		s := split(45)
		for _, order := range []string{"sequential", "2,0,3,1", "1,1,3"} {
			res := run(t, ts.router(order, 0, 5*time.Second, 7), s)
			want := evalPredictions(t, m, s, res.Batches[0].Ran)
			if got := predictions(res); !slices.Equal(got, want) {
				t.Errorf("%s, order %s: swarm %v, eval %v", v, order, got, want)
			}
			if plan, _ := ParseRoute(order, 4, 0); !slices.Equal(res.Batches[0].Ran, plan.Plans[0]) {
				t.Errorf("%s, order %s: ran %v", v, order, res.Batches[0].Ran)
			}
			if sum := Summarise(res); sum.Answered != 45 || sum.Skipping != 0 || sum.Late+sum.Duplicate+sum.Unmatched != 0 {
				t.Errorf("%s, order %s: %+v", v, order, sum)
			}
		}
	}
}

// A block nobody serves is skipped at once, and the answer is the pruned
// model's.
func TestSwarmSkipsMissingBlock(t *testing.T) {
	m := vittest.TinyModel(t, "m", 4, vit.Shuffle, 12)
	ts := newTestSwarm(t, m)
	ts.all(0, 2, 3)
	s := split(20)
	sub := Subjects{}
	r := ts.router("sequential", 0, 5*time.Second, 8, sub.Stem("m"), sub.Head("m"), sub.Block("m", 0), sub.Block("m", 2), sub.Block("m", 3))
	start := time.Now()
	res := run(t, r, s)
	if time.Since(start) > 4*time.Second {
		t.Errorf("skipping a block nobody serves waited for the deadline (%v)", time.Since(start))
	}
	for _, b := range res.Batches {
		if !slices.Equal(b.Ran, []int{0, 2, 3}) || !slices.Equal(b.Skipped, []int{1}) {
			t.Errorf("batch %d ran %v skipped %v, want 0,2,3 and 1", b.ID, b.Ran, b.Skipped)
		}
	}
	if got, want := predictions(res), evalPredictions(t, m, s, []int{0, 2, 3}); !slices.Equal(got, want) {
		t.Errorf("swarm %v, eval of the pruned plan %v", got, want)
	}
	// A second run of the same router: its batches get new ids, and every
	// image's answer names the plan its own batch ran.
	res2 := run(t, r, s)
	for _, row := range AnswerTable("m", res2).Rows {
		if row[5] != "0,2,3" || row[6] != "1" {
			t.Errorf("second run: answer %q, want ran 0,2,3 and skipped 1", row)
		}
	}
	if res2.Batches[0].ID != len(res.Batches) || res2.Answers[0].Batch != res2.Batches[0].ID {
		t.Errorf("second run: first batch id %d, its answer names batch %d; want %d", res2.Batches[0].ID, res2.Answers[0].Batch, len(res.Batches))
	}
}

// A block slower than the deadline is skipped and its late answers are
// dropped and counted; a second answer to one call is dropped as a
// duplicate.
func TestSwarmDropsLateAndDuplicateAnswers(t *testing.T) {
	m := vittest.TinyModel(t, "m", 3, vit.Shuffle, 13)
	ts := newTestSwarm(t, m)
	ts.all(0, 2)
	slow, _ := ts.worker("slow", []int{1}, false)
	slow.delay.Store(int64(400 * time.Millisecond))
	s := split(12)
	r := ts.router("sequential", 0, 100*time.Millisecond, 4)
	res := run(t, r, s)
	// The slow answers arrive after their deadlines, the last 1.2 s after the first.
	waitDropped(r, func(late, _ int) bool { return late >= len(res.Batches) })
	if late, dup, odd := r.Dropped(); late != len(res.Batches) || dup+odd != 0 {
		t.Errorf("dropped %d late, %d duplicate, %d unmatched answers; want %d late only", late, dup, odd, len(res.Batches))
	}
	for _, b := range res.Batches {
		if !slices.Equal(b.Skipped, []int{1}) {
			t.Errorf("batch %d skipped %v, want block 1", b.ID, b.Skipped)
		}
	}
	if got, want := predictions(res), evalPredictions(t, m, s, []int{0, 2}); !slices.Equal(got, want) {
		t.Errorf("swarm %v, eval of the pruned plan %v", got, want)
	}

	// A block 1 that answers every call twice: the second is a duplicate.
	m2 := vittest.TinyModel(t, "m2", 3, vit.Shuffle, 13)
	ts2 := newTestSwarm(t, m2)
	ts2.all(0, 2)
	echo := &Worker{ID: "echo", Models: map[string]*vit.Model{"m2": m2}, Blocks: []BlockRef{{"m2", 1}}}
	hs, err := echo.handlers()
	if err != nil {
		t.Fatal(err)
	}
	nc := ts2.conn()
	h := hs[Subjects{}.Block("m2", 1)]
	if _, err := nc.Subscribe(Subjects{}.Block("m2", 1), func(msg *nats.Msg) {
		for range 2 {
			echo.answer(msg, h)
		}
	}); err != nil {
		t.Fatal(err)
	}
	r2 := ts2.router("sequential", 0, 5*time.Second, 4)
	res2 := run(t, r2, s)
	waitDropped(r2, func(_, dup int) bool { return dup >= len(res2.Batches) })
	_, dup, odd := r2.Dropped()
	if got, want := predictions(res2), evalPredictions(t, m2, s, []int{0, 1, 2}); !slices.Equal(got, want) {
		t.Errorf("swarm %v, eval %v", got, want)
	}
	if dup != len(res2.Batches) || odd != 0 {
		t.Errorf("duplicates dropped %d, want one per batch (%d); unmatched %d", dup, len(res2.Batches), odd)
	}
}

// waitDropped waits up to 20 s for the router's dropped answers to satisfy
// enough (late, duplicate).
func waitDropped(r *Router, enough func(late, duplicate int) bool) {
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if late, dup, _ := r.Dropped(); enough(late, dup) {
			return
		}
	}
}

// localPredictions runs plan over images first..first+n of s locally.
func localPredictions(m *vit.Model, s *dataset.Split, first, n int, plan []int) []int {
	x := make([]float32, n*s.ImageSize())
	labels := make([]int32, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = first + i
	}
	s.MustFill(x, labels, idx, norm)
	p, _ := m.PlanOf(plan)
	logits := vit.NewRunner(m).Logits(x, n, p)
	c := m.Config.Classes
	out := make([]int, n)
	for i := range out {
		out[i] = stats.Argmax(logits[i*c : (i+1)*c])
	}
	return out
}

// Under arrival and random routes every batch runs each block once, its
// answers are those of the plan it reports, and random routes follow the
// seed.
func TestSwarmRoutesRunTheirReportedPlans(t *testing.T) {
	m := vittest.TinyModel(t, "m", 4, vit.Shuffle, 14)
	ts := newTestSwarm(t, m)
	ts.all(0, 1, 2, 3)
	s := split(30)
	plans := map[string][][]int{}
	for _, c := range []struct {
		order string
		seed  uint64
	}{{RouteArrival, 0}, {RouteRandomBatch, 1}, {RouteRandomBatch, 1}, {RouteRandomBatch, 2}, {RouteRandomImage, 1}, {"random:3", 5}} {
		res := run(t, ts.router(c.order, c.seed, 5*time.Second, 8), s)
		var ran [][]int
		for _, b := range res.Batches {
			if got := slices.Sorted(slices.Values(b.Ran)); !slices.Equal(got, []int{0, 1, 2, 3}) || len(b.Skipped) != 0 {
				t.Errorf("%s: batch %d ran %v, skipped %v", c.order, b.ID, b.Ran, b.Skipped)
			}
			if got, want := predictions(res)[b.First:b.First+b.Images], localPredictions(m, s, b.First, b.Images, b.Ran); !slices.Equal(got, want) {
				t.Errorf("%s: batch %d answered %v, its plan %v gives %v", c.order, b.ID, got, b.Ran, want)
			}
			ran = append(ran, b.Ran)
		}
		if c.order == RouteRandomImage && len(res.Batches) != 30 {
			t.Errorf("random-sample: %d batches, want one per image", len(res.Batches))
		}
		key := c.order + string(rune('0'+c.seed))
		if prev, ok := plans[key]; ok && !slices.EqualFunc(prev, ran, slices.Equal) {
			t.Errorf("%s seed %d: plans differ between runs: %v and %v", c.order, c.seed, prev, ran)
		}
		plans[key] = ran
	}
	if slices.EqualFunc(plans[RouteRandomBatch+"1"], plans[RouteRandomBatch+"2"], slices.Equal) {
		t.Error("random-batch gave the same plans for seeds 1 and 2")
	}
	want, _ := ParseRoute("random:3", 4, 5)
	for i, p := range plans["random:35"] {
		if !slices.Equal(p, want.Plans[i%3]) {
			t.Errorf("random:3 batch %d ran %v, want eval's order %v", i, p, want.Plans[i%3])
		}
	}
}

// Arrival order goes to the worker that is free: a slowed block runs last
// more often than any other.
func TestSwarmArrivalAvoidsBusyWorker(t *testing.T) {
	m := vittest.TinyModel(t, "m", 3, vit.Shuffle, 15)
	ts := newTestSwarm(t, m)
	ts.all(0, 1)
	slow, _ := ts.worker("slow", []int{2}, false)
	slow.delay.Store(int64(30 * time.Millisecond))
	r := ts.router(RouteArrival, 0, 5*time.Second, 4)
	r.Inflight = 4
	res := run(t, r, split(64))
	last := 0
	for _, b := range res.Batches {
		if b.Ran[len(b.Ran)-1] == 2 {
			last++
		}
	}
	if last*2 <= len(res.Batches) {
		t.Errorf("the slowed block ran last in %d of %d batches, want most", last, len(res.Batches))
	}
}

// Without a stem (or head) every image still gets exactly one answer: no
// prediction, and the reason.
func TestSwarmWithoutStemAnswersEveryImage(t *testing.T) {
	m := vittest.TinyModel(t, "m", 2, vit.Shuffle, 16)
	ts := newTestSwarm(t, m)
	ts.worker("w", []int{0, 1}, false)
	sub := Subjects{}
	res := run(t, ts.router("sequential", 0, 50*time.Millisecond, 4, sub.Block("m", 0)), split(10))
	for _, a := range res.Answers {
		if a.Prediction != -1 {
			t.Errorf("image %d predicted %d without a stem", a.Image, a.Prediction)
		}
	}
	for _, b := range res.Batches {
		if b.Error == "" {
			t.Errorf("batch %d has no error", b.ID)
		}
	}
	if sum := Summarise(res); sum.Answered != 0 || sum.Images != 10 || !sum.AnsweredOnce || sum.Accuracy != 0 {
		t.Errorf("summary %+v", sum)
	}
}

// A worker killed mid-run (its connection dropped) costs accuracy, never an
// image.
func TestSwarmSurvivesWorkerStoppedMidRun(t *testing.T) {
	m := vittest.TinyModel(t, "m", 3, vit.Shuffle, 17)
	ts := newTestSwarm(t, m)
	ts.all(0, 2)
	_, stop := ts.worker("w1", []int{1}, false)
	r := ts.router("sequential", 0, 200*time.Millisecond, 2)
	r.Inflight = 1
	var once sync.Once
	r.OnBatch = func(done, total int) {
		if done >= total/2 {
			once.Do(stop)
		}
	}
	res := run(t, r, split(40))
	full, pruned := 0, 0
	for _, b := range res.Batches {
		switch {
		case slices.Equal(b.Ran, []int{0, 1, 2}):
			full++
		case slices.Equal(b.Ran, []int{0, 2}) && slices.Equal(b.Skipped, []int{1}):
			pruned++
		default:
			t.Errorf("batch %d ran %v skipped %v", b.ID, b.Ran, b.Skipped)
		}
	}
	if full < 9 || pruned < 9 {
		t.Errorf("%d batches ran the whole model and %d the pruned one; want about half each", full, pruned)
	}
}
