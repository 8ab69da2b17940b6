package vit

import (
	"math"
	"testing"
)

// TestRunnerChunksChangeNoBit: Logits and RunBlock run a batch in chunks of
// images (chunkRows); every chunk size, one image at a time and the whole
// batch included, gives the logits of LinearInputs (which runs each block on
// the whole batch) and RunBlock's output on the whole batch, bit for bit,
// for plans of even and odd length and batches that chunks do not divide.
func TestRunnerChunksChangeNoBit(t *testing.T) {
	for _, v := range Variants {
		c := tinyConfig(v)
		m := randomModel(t, "m", c, 31)
		const B = 7
		x := randomImages(c, B, 32)
		seq := m.Sequential()
		plans := []Plan{seq, seq[:len(seq)-1], {seq[1], seq[0], seq[1]}}
		whole := NewRunner(m)
		whole.chunk = B
		if got := whole.chunkImages(B); got != B {
			t.Fatalf("chunkImages(%d) = %d with chunk %d", B, got, B)
		}
		for pi, plan := range plans {
			want := append([]float32(nil), NewRunner(m).LinearInputs(x, B, plan, func(LinearInput) {})...)
			for _, chunk := range []int{1, 2, 3, 6, B} {
				r := NewRunner(m)
				r.chunk = chunk
				got := r.Logits(x, B, plan)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s plan %d chunk %d: logit %d = %v, whole batch %v", v, pi, chunk, i, got[i], want[i])
					}
				}
			}
		}

		n := B * c.Tokens() * c.Dim
		h := make([]float32, n)
		whole.Embed(h, x, B)
		want := make([]float32, n)
		whole.RunBlock(want, h, B, seq[0], 1)
		r := NewRunner(m)
		r.chunk = 3
		got := make([]float32, n)
		r.RunBlock(got, h, B, seq[0], 1)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s RunBlock chunk 3: element %d = %v, whole batch %v", v, i, got[i], want[i])
			}
		}
	}
}

// TestRunnerChunkImages: chunks hold about chunkRows token rows per
// goroutine the runner's kernels may use, at least one image, at most B.
func TestRunnerChunkImages(t *testing.T) {
	m := randomModel(t, "m", tinyConfig(Shuffle), 33)
	T := m.Config.Tokens()
	r := NewRunner(m)
	r.Workers = 1
	if got, want := r.chunkImages(100000), chunkRows/T; got != want {
		t.Fatalf("one goroutine: chunk of %d images, want %d", got, want)
	}
	if got := r.chunkImages(3); got != 3 {
		t.Fatalf("3 images: chunk of %d", got)
	}
	r.Workers = 2
	if got, want := r.chunkImages(100000), min(2, r.Workers.Count())*chunkRows/T; got != want {
		t.Fatalf("two goroutines: chunk of %d images, want %d", got, want)
	}
}
