package analysis

import (
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync"
	"testing"
)

// slotCoded makes n samples per slot whose slot is written into them: a
// fixed random code per slot, plus noise of the same size.
func slotCoded(rng *rand.Rand, slots, n, dim int, codeScale float64) (x []float32, y []int) {
	codes := make([][]float64, slots)
	for s := range codes {
		codes[s] = make([]float64, dim)
		for j := range codes[s] {
			codes[s][j] = codeScale * rng.NormFloat64()
		}
	}
	for i := 0; i < n*slots; i++ {
		s := i % slots
		for j := 0; j < dim; j++ {
			x = append(x, float32(codes[s][j]+rng.NormFloat64()+5))
		}
		y = append(y, s)
	}
	return x, y
}

func probeAccuracy(p *Probe, x []float32, y []int) float64 {
	hit := 0
	for i, c := range y {
		if p.Predict(x[i*p.Dim:(i+1)*p.Dim]) == c {
			hit++
		}
	}
	return float64(hit) / float64(len(y))
}

func TestProbeSlotCodedFeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 0))
	const slots, dim = 6, 16
	x, y := slotCoded(rng, slots, 200, dim, 2)
	p, err := TrainProbe(x, y, dim, slots, DefaultProbeOptions(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// Fresh samples of the same codes: the probe must read every slot.
	heldX, heldY := resample(rng, x, y, dim, slots)
	if acc := probeAccuracy(p, heldX, heldY); acc != 1 {
		t.Errorf("probe on slot-coded features: held-out accuracy %.4f, want 1", acc)
	}

	// Features that do not depend on the slot: the probe stays near chance.
	noise := make([]float32, len(x))
	for i := range noise {
		noise[i] = float32(rng.NormFloat64())
	}
	p, err = TrainProbe(noise[:len(x)/2], y[:len(y)/2], dim, slots, DefaultProbeOptions(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if acc := probeAccuracy(p, noise[len(x)/2:], y[len(y)/2:]); acc > 1.0/slots+0.08 {
		t.Errorf("probe on slot-free noise: held-out accuracy %.4f, want near chance %.3f", acc, 1.0/slots)
	}

	a, _ := TrainProbe(x, y, dim, slots, DefaultProbeOptions(), 9)
	b, _ := TrainProbe(x, y, dim, slots, DefaultProbeOptions(), 9)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different probes")
	}
}

// resample draws new samples around the per-slot means of x (the codes),
// with fresh noise: held-out data of the same task.
func resample(rng *rand.Rand, x []float32, y []int, dim, slots int) ([]float32, []int) {
	means := make([][]float64, slots)
	counts := make([]float64, slots)
	for s := range means {
		means[s] = make([]float64, dim)
	}
	for i, s := range y {
		for j := 0; j < dim; j++ {
			means[s][j] += float64(x[i*dim+j])
		}
		counts[s]++
	}
	var hx []float32
	var hy []int
	for i := 0; i < 100*slots; i++ {
		s := i % slots
		for j := 0; j < dim; j++ {
			hx = append(hx, float32(means[s][j]/counts[s]+rng.NormFloat64()))
		}
		hy = append(hy, s)
	}
	return hx, hy
}

func TestProbeRejectsBadInput(t *testing.T) {
	o := DefaultProbeOptions()
	for name, f := range map[string]func() error{
		"no samples":    func() error { _, err := TrainProbe(nil, nil, 4, 2, o, 1); return err },
		"short x":       func() error { _, err := TrainProbe(make([]float32, 7), []int{0, 1}, 4, 2, o, 1); return err },
		"label too big": func() error { _, err := TrainProbe(make([]float32, 8), []int{0, 2}, 4, 2, o, 1); return err },
		"zero epochs": func() error {
			_, err := TrainProbe(make([]float32, 8), []int{0, 1}, 4, 2, ProbeOptions{Batch: 1, LR: 1}, 1)
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Outputs that differ between slots only in scale (the residual stream
// growing along the depth) tell a probe nothing: it sees them normalised.
func TestProbeIgnoresScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const slots, n, dim = 3, 200, 8
	sw := &sweep{depth: slots, dim: dim, n: n, random: slots, plans: BalancedOrders(slots, slots, 1)}
	// A common direction plus noise: scaled, its mean moves with the slot,
	// which a linear probe on raw outputs would read.
	base := make([]float32, n*dim)
	for i := range base {
		base[i] = float32(i%dim) - 3 + 0.3*float32(rng.NormFloat64())
	}
	sw.feats = make([][][]float32, slots)
	for k := range sw.feats {
		sw.feats[k] = make([][]float32, slots)
		for s := range sw.feats[k] {
			f := make([]float32, n*dim)
			for i, v := range base {
				f[i] = v * float32(1+3*s) // the same direction, a slot-dependent scale
			}
			sw.feats[k][s] = f
		}
	}
	sp, err := slotProbe(sw, DefaultProbeOptions(), 0.3, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Accuracy > 1.0/slots+0.1 {
		t.Errorf("the probe reads the slot from scale alone: accuracy %.3f", sp.Accuracy)
	}
}

// TestSlotProbeSameOnAnyCoreCount: the blocks' probes train side by side;
// one core and several give the same confusion matrices, and progress counts
// every block once.
func TestSlotProbeSameOnAnyCoreCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	const slots, n, dim = 4, 120, 6
	sw := &sweep{depth: slots, dim: dim, n: n, random: slots, plans: BalancedOrders(slots, slots, 2)}
	sw.feats = make([][][]float32, slots)
	for k := range sw.feats {
		sw.feats[k] = make([][]float32, slots)
		for s := range sw.feats[k] {
			f := make([]float32, n*dim)
			for i := range f {
				f[i] = float32(rng.NormFloat64()) + 0.7*float32(s)*float32(i%dim%2*2-1)
			}
			sw.feats[k][s] = f
		}
	}
	run := func(procs int) (*SlotPrediction, []int) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var calls []int
		var mu sync.Mutex
		sp, err := slotProbe(sw, DefaultProbeOptions(), 0.3, 1, func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			if total != slots {
				t.Errorf("progress total %d, want %d", total, slots)
			}
			calls = append(calls, done)
		})
		if err != nil {
			t.Fatal(err)
		}
		return sp, calls
	}
	one, calls1 := run(1)
	two, calls2 := run(2)
	if !reflect.DeepEqual(one, two) {
		t.Errorf("slot probes differ: one core %+v, two %+v", one, two)
	}
	for _, calls := range [][]int{calls1, calls2} {
		if !reflect.DeepEqual(calls, []int{1, 2, 3, 4}) {
			t.Errorf("progress reported %v, want 1 2 3 4", calls)
		}
	}
	if one.Accuracy < 0.5 {
		t.Errorf("accuracy %.3f: the features code the slot, the test needs a probe that reads it", one.Accuracy)
	}
}
