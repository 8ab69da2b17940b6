package swarm

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/vittest"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/nats-io/nats.go"
)

func TestParsers(t *testing.T) {
	for _, s := range []string{"m", "m:", ":1", "m:x", "m:1,-2", "m:1,,2"} {
		if _, _, err := ParseBlockRefs(s); err == nil {
			t.Errorf("ParseBlockRefs(%q): no error", s)
		}
	}
	if name, idx, err := ParseBlockRefs("m-1:3,0"); err != nil || name != "m-1" || len(idx) != 2 || idx[0] != 3 {
		t.Errorf("ParseBlockRefs: %v %v %v", name, idx, err)
	}
	for _, s := range []string{"arrivals", "random:0", "0,9", "x"} {
		if _, err := ParseRoute(s, 4, 0); err == nil {
			t.Errorf("ParseRoute(%q): no error", s)
		}
	}
	for _, s := range []string{"", "a.b", "a b", "a*", "a>"} {
		if CheckToken("model name", s) == nil {
			t.Errorf("CheckToken(%q): no error", s)
		}
	}
}

func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"sequential", "arrival", "random:3", "2,0,1", "random-batch", "random-sample", "9", "random:99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoute(s, 4, 1)
		if err != nil {
			return
		}
		p := newPlanner(r, 4, 1)
		for b := range 3 {
			for _, k := range p.plan(b) {
				if k < 0 || k >= 4 {
					t.Fatalf("%q: plan names block %d of 4", s, k)
				}
			}
		}
	})
}

func FuzzParseBlockRefs(f *testing.F) {
	for _, s := range []string{"m:0,1", "m:all", "m", ":", "m:1,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, idx, err := ParseBlockRefs(s)
		if err == nil && (name == "" || len(idx) == 0) {
			t.Fatalf("%q accepted as %q %v", s, name, idx)
		}
	})
}

// Whatever a message carries, a worker answers it with a result of the
// right size or an error, and never panics.
func FuzzWorkerMessage(f *testing.F) {
	m := vittest.TinyModel(f, "m", 2, vit.ShufflePosition, 1)
	w := &Worker{ID: "w", Models: map[string]*vit.Model{"m": m}, Blocks: []BlockRef{{"m", 0}}, Ends: []string{"m"}, Threads: 1}
	hs, err := w.handlers()
	if err != nil {
		f.Fatal(err)
	}
	var subjects []string
	for s := range hs {
		subjects = append(subjects, s)
	}
	f.Add(uint8(0), "2", "0", make([]byte, 4*2*5*16))
	f.Add(uint8(1), "1", "7", make([]byte, 4*64))
	f.Add(uint8(2), "-1", "x", []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, which uint8, rows, step string, data []byte) {
		subject := subjects[int(which)%len(subjects)]
		msg := nats.NewMsg(subject)
		msg.Header.Set(hdrRows, rows)
		msg.Header.Set(hdrStep, step)
		msg.Data = data
		out, err := hs[subject](msg)
		if err != nil {
			return
		}
		if len(out) == 0 || strings.Contains(subject, ".stem.") && len(out)%(5*16) != 0 {
			t.Fatalf("%s rows %s: %d values", subject, rows, len(out))
		}
	})
}

func TestFloatsRoundTrip(t *testing.T) {
	xs := []float32{0, -1.5, 3.25e-8, float32(math.Inf(1)), 65504}
	b := encodeFloats(xs)
	if binary.LittleEndian.Uint32(b[4:]) != math.Float32bits(-1.5) {
		t.Errorf("not little-endian float32: % x", b[4:8])
	}
	got, err := decodeFloats(nil, b, len(xs))
	if err != nil || !slices.Equal(got, xs) {
		t.Errorf("round trip %v, %v", got, err)
	}
	if _, err := decodeFloats(nil, b[1:], len(xs)); err == nil {
		t.Error("a short payload decodes")
	}
}

// The record of closed calls stays bounded: calls of batches more than
// keepBatches older than the newest are forgotten, recent ones kept.
func TestExchangeForgetsOldCalls(t *testing.T) {
	x := &exchange{pending: map[string]chan *nats.Msg{}, settled: map[string]settlement{}}
	for b := 0; b <= 3*keepBatches; b++ {
		for step := range 3 {
			tok := token(b, step, "b0")
			x.pending[tok] = nil
			x.giveUp(tok, expired)
		}
	}
	if n := len(x.settled); n > 3*(2*keepBatches+1) {
		t.Errorf("%d closed calls remembered after %d batches", n, 3*keepBatches+1)
	}
	if x.settled[token(3*keepBatches, 2, "b0")] != expired || x.settled[token(2*keepBatches, 0, "b0")] != expired {
		t.Error("a recent call was forgotten")
	}
	if _, ok := x.settled[token(keepBatches-1, 0, "b0")]; ok {
		t.Error("an old call is still remembered")
	}
}
