package dataset_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/frankenvit/frankenvit/dataset"
)

// OpenFolder reads a folder of full-size images lazily: the splits hold
// file names, and Fill decodes, resizes and normalises each batch.
func ExampleOpenFolder() {
	dir, err := os.MkdirTemp("", "folder")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	// Images of any size: a constant colour each, so that every resize of
	// one keeps its value.
	for _, f := range []struct {
		path string
		w, h int
		c    color.NRGBA
	}{
		{"train/cat/1.png", 300, 200, color.NRGBA{255, 0, 0, 255}},
		{"train/cat/2.png", 64, 80, color.NRGBA{0, 255, 0, 255}},
		{"train/dog/3.png", 32, 32, color.NRGBA{0, 0, 255, 255}},
		{"val/dog/4.png", 50, 40, color.NRGBA{255, 255, 255, 255}},
	} {
		img := image.NewNRGBA(image.Rect(0, 0, f.w, f.h))
		for i := 0; i < f.w*f.h; i++ {
			img.SetNRGBA(i%f.w, i/f.w, f.c)
		}
		path := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Println(err)
			return
		}
		out, err := os.Create(path)
		if err != nil {
			fmt.Println(err)
			return
		}
		png.Encode(out, img)
		out.Close()
	}

	// timm's ViT preprocessing at 16x16: bicubic, crop_pct 0.9,
	// RandomResizedCrop and flips in training.
	ds, err := dataset.OpenFolder(dir, dataset.TimmPreprocess(16, 16, 3))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("classes:", ds.Classes)
	fmt.Printf("train: %d images of %dx%dx%d, labels %v, lazy %v\n", ds.Train.N, ds.Train.C, ds.Train.H, ds.Train.W, ds.Train.Labels, ds.Train.Lazy())
	fmt.Println("test (from val/):", ds.Test.N, ds.Test.Labels)

	norm := dataset.Normalization{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.5, 0.5}}
	x := make([]float32, 2*ds.Train.ImageSize())
	labels := make([]int32, 2)
	// A training batch: random crops and flips drawn from the rng.
	rng := rand.New(rand.NewPCG(1, 2))
	if err := ds.Train.Fill(x, labels, []int{0, 1}, norm, &dataset.Augment{RandomResizedCrop: true}, rng); err != nil {
		fmt.Println(err)
		return
	}
	plane := 16 * 16
	fmt.Println("labels:", labels)
	fmt.Println("image 0, first pixel R G B:", x[0], x[plane], x[2*plane])
	fmt.Println("image 1, first pixel R G B:", x[3*plane], x[4*plane], x[5*plane])
	// Output:
	// classes: [cat dog]
	// train: 3 images of 3x16x16, labels [0 1 0], lazy true
	// test (from val/): 1 [1]
	// labels: [0 1]
	// image 0, first pixel R G B: 1 -1 -1
	// image 1, first pixel R G B: -1 -1 1
}
