package dataset

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// photoLike is a w x h image with smooth colour gradients and mild noise,
// which JPEG compresses about as it does photographs.
func photoLike(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 9))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := rng.IntN(16)
			img.SetRGBA(x, y, color.RGBA{R: uint8((x*200)/w + n), G: uint8((y*200)/h + n), B: uint8(((x+y)*100)/(w+h) + n), A: 255})
		}
	}
	return img
}

// BenchmarkFillLazy224 decodes and resizes batches of 32 JPEGs of about
// 300x300 to 224x224 (timm's ViT preprocessing), for evaluation and for
// training (RandomResizedCrop and flips), in GOMAXPROCS goroutines.
func BenchmarkFillLazy224(b *testing.B) {
	dir := b.TempDir()
	const files, batch = 64, 32
	for i := 0; i < files; i++ {
		w, h := 300+i%7, 300-i%5
		writeFile(b, filepath.Join(dir, "train", fmt.Sprint("c", i%4), fmt.Sprintf("%02d.jpg", i)), jpegBytesTB(b, photoLike(w, h, uint64(i))))
	}
	ds, err := OpenFolder(dir, TimmPreprocess(224, 224, 3))
	if err != nil {
		b.Fatal(err)
	}
	norm := Normalization{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.5, 0.5}}
	dst, lab := make([]float32, batch*ds.Train.ImageSize()), make([]int32, batch)
	for _, c := range []struct {
		name string
		aug  *Augment
	}{{"eval", nil}, {"train", &Augment{RandomResizedCrop: true}}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			idx := make([]int, batch)
			step := 0
			for b.Loop() {
				for k := range idx {
					idx[k] = (step*batch + k) % files
				}
				step++
				if err := ds.Train.Fill(dst, lab, idx, norm, c.aug, rng); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
