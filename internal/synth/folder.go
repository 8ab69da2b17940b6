package synth

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// StripesFolder writes the Stripes task as a folder data set of RGB JPEGs
// (DIR/train/CLASS/N.jpg, DIR/test/CLASS/N.jpg): each 8x8 stripe image
// scaled up to about size x size (every third image 25% wider, so images
// differ in size and aspect, as photographs do), the band in a random
// colour: full-size images for the tests of full-size folders.
func StripesFolder(dir string, train, test, size int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, f := range []struct {
		split string
		n     int
	}{{"train", train}, {"test", test}} {
		pixels, labels := StripeImages(f.n, rng)
		for i, k := range labels {
			w := size
			if i%3 == 2 {
				w = size * 5 / 4
			}
			tint := [3]uint8{uint8(128 + rng.IntN(128)), uint8(128 + rng.IntN(128)), uint8(128 + rng.IntN(128))}
			img := image.NewRGBA(image.Rect(0, 0, w, size))
			for y := 0; y < size; y++ {
				for x := 0; x < w; x++ {
					v := uint16(pixels[i*64+(y*8/size)*8+x*8/w])
					img.Set(x, y, color.RGBA{uint8(v * uint16(tint[0]) / 255), uint8(v * uint16(tint[1]) / 255), uint8(v * uint16(tint[2]) / 255), 255})
				}
			}
			sub := filepath.Join(dir, f.split, fmt.Sprint(k))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%05d.jpg", i)), buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
