package swarm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/nats-io/nats.go"
)

// Router sends batches of images through a swarm serving one model.
type Router struct {
	Conn     *nats.Conn
	Subjects Subjects
	Model    string
	Config   vit.Config // the model's: tokens, width, classes and depth
	Route    Route
	Seed     uint64 // random routes
	// Deadline is how long the router waits for a block; a block that does
	// not answer in time is skipped for that batch (its late answer is
	// dropped). The stem and head, without which there is no answer, are
	// tried EndTries times each.
	Deadline time.Duration
	EndTries int
	Batch    int // images per batch (1 under random-sample)
	Inflight int // batches in the swarm at once
	// OnBatch, if set, is told after every batch (from one goroutine at a
	// time) with the images answered so far.
	OnBatch func(answered, total int)

	x       *exchange // the router's inbox, kept across runs: late answers arrive after a run
	batches int       // batches sent by earlier runs: batch ids are unique per router
}

// Dropped counts the answers dropped since the router began: late (after
// their call was given up), duplicate (a second answer to one call) and
// unmatched (naming no call of this router).
func (r *Router) Dropped() (late, duplicate, unmatched int) {
	if r.x == nil {
		return 0, 0, 0
	}
	return r.x.counts()
}

// Close stops listening for answers.
func (r *Router) Close() {
	if r.x != nil {
		r.x.close()
		r.x = nil
	}
}

// Answer is the swarm's answer for one image.
type Answer struct {
	Image      int `json:"image"`
	Label      int `json:"label"`
	Prediction int `json:"prediction"` // -1: no answer from the stem or head
	Batch      int `json:"batch"`      // the BatchRecord ID of its batch
}

// BatchRecord is what happened to one batch.
type BatchRecord struct {
	ID      int     `json:"batch"`
	First   int     `json:"first_image"`
	Images  int     `json:"images"`
	Correct int     `json:"correct"`
	Ran     []int   `json:"ran"`     // the blocks run, in order
	Skipped []int   `json:"skipped"` // blocks of the plan that did not answer in time
	Start   float64 `json:"start_s"` // seconds since the run began
	End     float64 `json:"end_s"`
	Error   string  `json:"error,omitempty"`
}

// Latency is how long the batch took.
func (b BatchRecord) Latency() float64 { return b.End - b.Start }

// Result is one run of the router over a split.
type Result struct {
	Answers []Answer      `json:"-"`
	Batches []BatchRecord `json:"batches"`
	// Answers dropped during the run (see Router.Dropped; answers that
	// come after the run are counted there).
	Late, Duplicate, Unmatched int
	Start                      time.Time // when the first batch left: batches' times count from it
	Wall                       time.Duration
}

// Run answers every image of split, normalised by norm.
func (r *Router) Run(ctx context.Context, split *dataset.Split, norm dataset.Normalization) (*Result, error) {
	if err := r.Check(split); err != nil {
		return nil, err
	}
	if err := r.checkPayload(); err != nil {
		return nil, err
	}
	if r.x == nil {
		x, err := newExchange(r.Conn)
		if err != nil {
			return nil, err
		}
		r.x = x
	}
	x := r.x
	late0, dup0, odd0 := x.counts()
	size := r.Batch
	if r.Route.PerSample {
		size = 1
	}
	n := split.N
	batches := (n + size - 1) / size
	plans := newPlanner(r.Route, r.Config.Depth, r.Seed)
	start := time.Now()
	res := &Result{Answers: make([]Answer, n), Batches: make([]BatchRecord, batches), Start: start}
	var mu sync.Mutex
	answered := 0
	slots := make(chan struct{}, max(r.Inflight, 1))
	var wg sync.WaitGroup
	for b := 0; b < batches; b++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		case slots <- struct{}{}:
		}
		first, B := b*size, min(size, n-b*size)
		img := make([]float32, B*split.ImageSize())
		labels := make([]int32, B)
		idx := make([]int, B)
		for i := range idx {
			idx[i] = first + i
		}
		split.MustFill(img, labels, idx, norm)
		plan := plans.plan(b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := BatchRecord{ID: r.batches + b, First: first, Images: B, Start: time.Since(start).Seconds()}
			preds := r.runBatch(ctx, x, &rec, img, B, plan)
			rec.End = time.Since(start).Seconds()
			for i := range B {
				p := -1
				if preds != nil {
					p = preds[i]
				}
				if p == int(labels[i]) {
					rec.Correct++
				}
				res.Answers[first+i] = Answer{Image: first + i, Label: int(labels[i]), Prediction: p, Batch: rec.ID}
			}
			res.Batches[b] = rec
			mu.Lock()
			answered += B
			if r.OnBatch != nil {
				r.OnBatch(answered, n)
			}
			mu.Unlock()
			<-slots
		}()
	}
	wg.Wait()
	res.Wall = time.Since(start)
	r.batches += batches
	late, dup, odd := x.counts()
	res.Late, res.Duplicate, res.Unmatched = late-late0, dup-dup0, odd-odd0
	return res, ctx.Err()
}

// Needs are the subjects the router calls: the model's stem, head and
// every block.
func (r *Router) Needs() []string {
	s := []string{r.Subjects.Stem(r.Model), r.Subjects.Head(r.Model)}
	for k := 0; k < r.Config.Depth; k++ {
		s = append(s, r.Subjects.Block(r.Model, k))
	}
	return s
}

// Check refuses settings the router cannot run with on split's images,
// before anything starts.
func (r *Router) Check(split *dataset.Split) error {
	c := r.Config
	if err := CheckToken("model name", r.Model); err != nil {
		return err
	}
	if split.ImageSize() != c.ImageSize() {
		return fmt.Errorf("images of %dx%dx%d do not fit model %s (%dx%dx%d)", split.H, split.W, split.C, r.Model, c.ImageHeight, c.ImageWidth, c.Channels)
	}
	if r.Deadline <= 0 {
		return fmt.Errorf("--deadline must be positive, got %v", r.Deadline)
	}
	if r.Batch <= 0 {
		return fmt.Errorf("--batch must be positive, got %d", r.Batch)
	}
	if len(c.Tasks) > 0 {
		return fmt.Errorf("model %s is a multi-task model: the swarm serves single-task models", r.Model)
	}
	return nil
}

// checkPayload refuses batches whose messages the server would refuse.
func (r *Router) checkPayload() error {
	c := r.Config
	if msg := 4 * r.Batch * max(c.Tokens()*c.Dim, c.ImageSize()); int64(msg) > r.Conn.MaxPayload() {
		return fmt.Errorf("a batch of %d images makes messages of %d bytes, over the NATS server's limit of %d: lower --batch", r.Batch, msg, r.Conn.MaxPayload())
	}
	return nil
}

// runBatch takes one batch through stem, blocks and head and returns its
// predictions (nil when the stem or head never answered).
func (r *Router) runBatch(ctx context.Context, x *exchange, rec *BatchRecord, img []float32, B int, plan []int) []int {
	hdr := func(step int) nats.Header {
		h := nats.Header{}
		h.Set(hdrBatch, strconv.Itoa(rec.ID))
		h.Set(hdrStep, strconv.Itoa(step))
		h.Set(hdrRows, strconv.Itoa(B))
		h.Set(hdrRan, formatBlocks(rec.Ran))
		return h
	}
	c := r.Config
	act, err := r.callEnd(ctx, x, r.Subjects.Stem(r.Model), rec.ID, 0, "stem", hdr(0), encodeFloats(img), B*c.Tokens()*c.Dim)
	if err != nil {
		rec.Error = "stem: " + err.Error()
		return nil
	}
	if r.Route.Arrival {
		act = r.runArrival(ctx, x, rec, act, B, hdr)
	} else {
		for _, k := range plan {
			act = r.runBlock(ctx, x, rec, act, B, k, hdr)
		}
	}
	step := len(rec.Ran)
	logits, err := r.callEnd(ctx, x, r.Subjects.Head(r.Model), rec.ID, step, "head", hdr(step), encodeFloats(act), B*c.Classes)
	if err != nil {
		rec.Error = "head: " + err.Error()
		return nil
	}
	preds := make([]int, B)
	for i := range preds {
		preds[i] = stats.Argmax(logits[i*c.Classes : (i+1)*c.Classes])
	}
	return preds
}

// runBlock runs block k on the batch's activations at the next slot: its
// output and the block added to rec.Ran, or, when it does not answer in
// time, act unchanged and the block added to rec.Skipped.
func (r *Router) runBlock(ctx context.Context, x *exchange, rec *BatchRecord, act []float32, B, k int, hdr func(int) nats.Header) []float32 {
	c := r.Config
	step := len(rec.Ran)
	m, err := r.callBytes(ctx, x, r.Subjects.Block(r.Model, k), token(rec.ID, step, "b"+strconv.Itoa(k)), hdr(step), encodeFloats(act))
	out, err := decodeAnswer(m, err, B*c.Tokens()*c.Dim)
	if err != nil {
		rec.Skipped = append(rec.Skipped, k)
		return act
	}
	rec.Ran = append(rec.Ran, k)
	return out
}

// runArrival runs the remaining blocks in the order their workers answer
// a probe: every step probes all of them, the first to answer runs the
// batch, and a block that fails to answer the probe or the batch in time is
// skipped.
func (r *Router) runArrival(ctx context.Context, x *exchange, rec *BatchRecord, act []float32, B int, hdr func(int) nats.Header) []float32 {
	c := r.Config
	remaining := make([]int, c.Depth)
	for i := range remaining {
		remaining[i] = i
	}
	for len(remaining) > 0 {
		step := len(rec.Ran)
		k, dead := r.probe(ctx, x, rec.ID, step, remaining, hdr(step))
		rec.Skipped = append(rec.Skipped, dead...)
		remaining = without(remaining, dead...)
		if k < 0 {
			rec.Skipped = append(rec.Skipped, remaining...)
			break
		}
		act = r.runBlock(ctx, x, rec, act, B, k, hdr)
		remaining = without(remaining, k)
	}
	return act
}

// probe pings every candidate block and returns the first to answer (-1 if
// none does within the deadline) and the blocks nobody serves.
func (r *Router) probe(ctx context.Context, x *exchange, batch, step int, candidates []int, hdr nats.Header) (first int, dead []int) {
	hdr.Set(hdrPing, "1")
	ch := make(chan *nats.Msg, len(candidates))
	toks := map[string]int{} // the open probes' tokens, to their blocks
	for _, k := range candidates {
		tok := token(batch, step, "p"+strconv.Itoa(k))
		if err := x.send(r.Subjects.Block(r.Model, k), tok, hdr, nil, ch); err != nil {
			dead = append(dead, k)
			continue
		}
		toks[tok] = k
	}
	defer func() {
		for tok := range toks {
			x.giveUp(tok, withdrawn)
		}
	}()
	timer := time.NewTimer(r.Deadline)
	defer timer.Stop()
	for open := len(toks); open > 0; open-- {
		select {
		case <-ctx.Done():
			return -1, dead
		case <-timer.C:
			return -1, dead
		case m := <-ch:
			k := toks[x.tokenOf(m)]
			if _, err := outcome(m); err == nil {
				return k, dead
			}
			dead = append(dead, k)
		}
	}
	return -1, dead
}

// callEnd calls a stem or head, up to EndTries times, and decodes want floats.
func (r *Router) callEnd(ctx context.Context, x *exchange, subject string, batch, step int, what string, hdr nats.Header, data []byte, want int) ([]float32, error) {
	var err error
	for try := range max(r.EndTries, 1) {
		var m *nats.Msg
		m, err = r.callBytes(ctx, x, subject, token(batch, step, what+strconv.Itoa(try)), hdr, data)
		var out []float32
		if out, err = decodeAnswer(m, err, want); err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, errNoResponders) {
			time.Sleep(r.Deadline) // nobody serves it now: give a restarting worker time
		}
	}
	return nil, err
}

// callBytes sends data to subject and waits for the answer.
func (r *Router) callBytes(ctx context.Context, x *exchange, subject, tok string, hdr nats.Header, data []byte) (*nats.Msg, error) {
	ch := make(chan *nats.Msg, 1)
	if err := x.send(subject, tok, hdr, data, ch); err != nil {
		return nil, err
	}
	timer := time.NewTimer(r.Deadline)
	defer timer.Stop()
	select {
	case m := <-ch:
		return outcome(m)
	case <-timer.C:
		x.giveUp(tok, expired)
		return nil, errDeadline
	case <-ctx.Done():
		x.giveUp(tok, withdrawn)
		return nil, ctx.Err()
	}
}

// decodeAnswer reads want floats from an answer (or passes on its error).
func decodeAnswer(m *nats.Msg, err error, want int) ([]float32, error) {
	if err != nil {
		return nil, err
	}
	return decodeFloats(nil, m.Data, want)
}

// without is xs less the values in drop, in a new slice.
func without(xs []int, drop ...int) []int {
	return slices.DeleteFunc(slices.Clone(xs), func(x int) bool { return slices.Contains(drop, x) })
}
