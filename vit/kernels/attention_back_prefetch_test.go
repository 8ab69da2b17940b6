package kernels

import (
	"math/rand"
	"testing"
	"time"
)

// BenchmarkAttnBackPrefetch times the fused attention backward of a
// training batch (64 images, the default model's heads and tokens, one
// goroutine) with its inputs out of the caches, as in training, where the
// other layers' activations pass through them between a layer's forward
// and its backward: without ("old") and with ("new") prefetching.
func BenchmarkAttnBackPrefetch(b *testing.B) {
	rng := rand.New(rand.NewSource(13))
	const B, T, D, H = 64, 17, 64, 4
	qkv, dout := randSlice(rng, B*T*3*D), randSlice(rng, B*T*D)
	out, probs, dqkv := make([]float32, B*T*D), make([]float32, B*H*T*T), make([]float32, B*T*3*D)
	AttentionForward(out, probs, qkv, B, T, D, H)
	evict := make([]float32, 16<<20)
	run := func(prefetch bool) float64 {
		defer func(p bool) { attnBackPrefetching = p }(attnBackPrefetching)
		attnBackPrefetching = prefetch
		for i := range evict {
			evict[i]++
		}
		t0 := time.Now()
		Workers(1).AttentionBackward(dqkv, dout, qkv, probs, nil, B, T, D, H)
		return time.Since(t0).Seconds() * 1e3
	}
	var told, tnew []float64
	for b.Loop() {
		told = append(told, run(false))
		tnew = append(tnew, run(true))
	}
	b.ReportMetric(median(told), "old-ms")
	b.ReportMetric(median(tnew), "new-ms")
	b.ReportMetric(median(tnew)/median(told), "new/old")
}
