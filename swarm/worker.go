package swarm

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
	"github.com/nats-io/nats.go"
)

// BlockRef names one block of a stored model.
type BlockRef struct {
	Model string
	Index int
}

func (b BlockRef) String() string { return fmt.Sprintf("%s:%d", b.Model, b.Index) }

// ParseBlockRefs reads "NAME:0,3,5" (or "NAME:all", resolved by the caller
// against the model's depth, with all = -1 as the only index).
func ParseBlockRefs(s string) (string, []int, error) {
	name, list, ok := strings.Cut(s, ":")
	if !ok || name == "" || list == "" {
		return "", nil, fmt.Errorf("bad --blocks %q: want NAME:INDICES such as m1:0,3 or m1:all", s)
	}
	if list == "all" {
		return name, []int{-1}, nil
	}
	idx, err := parseBlocks(list)
	if err != nil {
		return "", nil, fmt.Errorf("bad --blocks %q: want NAME:INDICES such as m1:0,3 or m1:all", s)
	}
	return name, idx, nil
}

// Worker serves blocks, stems and heads of loaded models, one message at a
// time: a busy worker answers later, which is what the router's arrival
// order reads.
type Worker struct {
	ID       string
	Subjects Subjects
	Models   map[string]*vit.Model // by name; every model a block or end refers to
	Blocks   []BlockRef
	Ends     []string // models whose stem and head this worker serves
	Threads  int      // kernel goroutines per computation; 0 = every core
	Log      io.Writer

	delay   atomic.Int64 // nanoseconds added to every computation ("slow")
	runners map[string]*vit.Runner
	out     []float32
	in      []float32
}

// handler computes the answer to one message.
type handler func(m *nats.Msg) ([]float32, error)

// Serve subscribes to the worker's subjects and answers until ctx ends or a
// "quit" command arrives; it returns once it is unsubscribed.
func (w *Worker) Serve(ctx context.Context, nc *nats.Conn) error {
	handlers, err := w.handlers()
	if err != nil {
		return err
	}
	ctx, quit := context.WithCancel(ctx)
	defer quit()
	work := make(chan *nats.Msg, 4096)
	var subs []*nats.Subscription
	defer func() {
		for _, s := range subs {
			s.Unsubscribe()
		}
	}()
	for subject := range handlers {
		s, err := nc.ChanQueueSubscribe(subject, subject, work)
		if err != nil {
			return fmt.Errorf("worker %s: subscribe %s: %w", w.ID, subject, err)
		}
		subs = append(subs, s)
	}
	ctl, err := nc.Subscribe(w.Subjects.Control(w.ID), func(m *nats.Msg) {
		w.command(string(m.Data), quit)
		m.Respond([]byte("ok"))
	})
	if err != nil {
		return fmt.Errorf("worker %s: subscribe control: %w", w.ID, err)
	}
	subs = append(subs, ctl)
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("worker %s: %w", w.ID, err)
	}
	w.logf("worker %s serves %s", w.ID, w.describe())
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-work:
			w.answer(m, handlers[m.Sub.Subject])
		}
	}
}

// command applies a control message: "slow DURATION" or "quit".
func (w *Worker) command(cmd string, quit func()) {
	switch f := strings.Fields(cmd); {
	case len(f) == 2 && f[0] == "slow":
		if d, err := time.ParseDuration(f[1]); err == nil && d >= 0 {
			w.delay.Store(int64(d))
			w.logf("worker %s: every computation now takes %v longer", w.ID, d)
		}
	case len(f) == 1 && f[0] == "quit":
		quit()
	}
}

func (w *Worker) answer(m *nats.Msg, h handler) {
	if m.Reply == "" || m.Header == nil {
		return // nobody waits for it
	}
	reply := nats.NewMsg(m.Reply)
	reply.Header.Set(hdrBatch, m.Header.Get(hdrBatch))
	reply.Header.Set(hdrStep, m.Header.Get(hdrStep))
	reply.Header.Set(hdrWorker, w.ID)
	if m.Header.Get(hdrPing) == "1" {
		reply.Header.Set(hdrPing, "1")
		m.RespondMsg(reply)
		return
	}
	if d := time.Duration(w.delay.Load()); d > 0 {
		time.Sleep(d)
	}
	out, err := h(m)
	if err != nil {
		reply.Header.Set(hdrError, err.Error())
	} else {
		reply.Data = encodeFloats(out)
	}
	m.RespondMsg(reply)
}

// Check refuses a worker that cannot serve: a bad id, nothing to serve, a
// model not loaded or a block it lacks.
func (w *Worker) Check() error {
	_, err := w.handlers()
	return err
}

// handlers maps every subject the worker serves to its computation.
func (w *Worker) handlers() (map[string]handler, error) {
	if err := CheckToken("worker id", w.ID); err != nil {
		return nil, err
	}
	if len(w.Blocks) == 0 && len(w.Ends) == 0 {
		return nil, fmt.Errorf("worker %s serves nothing: give it blocks or a stem and head", w.ID)
	}
	w.runners = map[string]*vit.Runner{}
	runner := func(name string) (*vit.Model, *vit.Runner, error) {
		if err := CheckToken("model name", name); err != nil {
			return nil, nil, err
		}
		m, ok := w.Models[name]
		if !ok {
			return nil, nil, fmt.Errorf("worker %s: model %s is not loaded", w.ID, name)
		}
		r, ok := w.runners[name]
		if !ok {
			r = vit.NewRunner(m)
			r.Workers = kernels.Workers(w.Threads)
			w.runners[name] = r
		}
		return m, r, nil
	}
	hs := map[string]handler{}
	for _, b := range w.Blocks {
		m, r, err := runner(b.Model)
		if err != nil {
			return nil, err
		}
		if b.Index < 0 || b.Index >= len(m.Blocks) {
			return nil, fmt.Errorf("block %d does not exist: model %s has blocks 0..%d", b.Index, b.Model, len(m.Blocks)-1)
		}
		hs[w.Subjects.Block(b.Model, b.Index)] = w.blockHandler(m, r, m.Blocks[b.Index])
	}
	for _, name := range w.Ends {
		m, r, err := runner(name)
		if err != nil {
			return nil, err
		}
		hs[w.Subjects.Stem(name)] = w.stemHandler(m, r)
		hs[w.Subjects.Head(name)] = w.headHandler(m, r)
	}
	return hs, nil
}

func (w *Worker) blockHandler(m *vit.Model, r *vit.Runner, bl *vit.Block) handler {
	c := m.Config
	return func(msg *nats.Msg) ([]float32, error) {
		B, slot, err := w.input(msg, c.Tokens()*c.Dim)
		if err != nil {
			return nil, err
		}
		if bl.PosProj != nil && slot >= c.Depth {
			return nil, fmt.Errorf("block %s[%d] has slot embeddings for %d slots, asked to run at slot %d", bl.Source, bl.Index, c.Depth, slot)
		}
		w.out = grow(w.out, len(w.in))
		r.RunBlock(w.out, w.in, B, bl, slot)
		return w.out, nil
	}
}

func (w *Worker) stemHandler(m *vit.Model, r *vit.Runner) handler {
	c := m.Config
	return func(msg *nats.Msg) ([]float32, error) {
		B, _, err := w.input(msg, c.ImageSize())
		if err != nil {
			return nil, err
		}
		w.out = grow(w.out, B*c.Tokens()*c.Dim)
		r.Embed(w.out, w.in, B)
		return w.out, nil
	}
}

func (w *Worker) headHandler(m *vit.Model, r *vit.Runner) handler {
	c := m.Config
	return func(msg *nats.Msg) ([]float32, error) {
		B, _, err := w.input(msg, c.Tokens()*c.Dim)
		if err != nil {
			return nil, err
		}
		return r.HeadLogits(w.in, B), nil
	}
}

// input reads a computation's batch size and slot, and its payload of
// perImage values per image into w.in.
func (w *Worker) input(m *nats.Msg, perImage int) (rows, step int, err error) {
	if rows, step, err = rowsAndStep(m); err != nil {
		return 0, 0, err
	}
	w.in, err = decodeFloats(w.in, m.Data, rows*perImage)
	return rows, step, err
}

// rowsAndStep reads a computation's batch size and slot.
func rowsAndStep(m *nats.Msg) (rows, step int, err error) {
	if rows, err = headerInt(m.Header, hdrRows); err != nil {
		return 0, 0, err
	}
	if rows == 0 || rows > MaxPayload/4 {
		return 0, 0, fmt.Errorf("header %s: %d images is not a batch", hdrRows, rows)
	}
	if step, err = headerInt(m.Header, hdrStep); err != nil {
		return 0, 0, err
	}
	return rows, step, nil
}

func (w *Worker) describe() string {
	var parts []string
	for _, b := range w.Blocks {
		parts = append(parts, "block "+b.String())
	}
	for _, e := range w.Ends {
		parts = append(parts, "stem and head of "+e)
	}
	return strings.Join(parts, ", ")
}

func (w *Worker) logf(format string, args ...any) {
	if w.Log != nil {
		fmt.Fprintf(w.Log, format+"\n", args...)
	}
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}
