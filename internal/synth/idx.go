package synth

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Stripes writes an IDX data set of 8x8 gray images in which class k
// (of 4) is a bright band at rows 2k and 2k+1 over noise: easy to learn, so
// a few epochs of a tiny model reach high accuracy.
func Stripes(dir string, train, test int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, f := range []struct {
		prefix string
		n      int
	}{{"train", train}, {"t10k", test}} {
		imgs, labels := StripeImages(f.n, rng)
		if err := WriteIDX(dir, f.prefix, imgs, labels, 8, 8); err != nil {
			return err
		}
	}
	return nil
}

// StripeImages draws n images and labels of the Stripes task.
func StripeImages(n int, rng *rand.Rand) (pixels, labels []byte) {
	const H, W = 8, 8
	pixels, labels = make([]byte, n*H*W), make([]byte, n)
	for i := 0; i < n; i++ {
		k := rng.IntN(4)
		labels[i] = byte(k)
		img := pixels[i*H*W : (i+1)*H*W]
		for j := range img {
			img[j] = byte(rng.IntN(60))
		}
		for x := 0; x < W; x++ {
			img[2*k*W+x] = 200 + byte(rng.IntN(55))
			img[(2*k+1)*W+x] = 200 + byte(rng.IntN(55))
		}
	}
	return pixels, labels
}

// WriteIDX writes PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte.
func WriteIDX(dir, prefix string, pixels, labels []byte, h, w int) error {
	n := len(labels)
	img := binary.BigEndian.AppendUint32(nil, 0x803)
	img = binary.BigEndian.AppendUint32(img, uint32(n))
	img = binary.BigEndian.AppendUint32(img, uint32(h))
	img = binary.BigEndian.AppendUint32(img, uint32(w))
	lab := binary.BigEndian.AppendUint32(nil, 0x801)
	lab = binary.BigEndian.AppendUint32(lab, uint32(n))
	if err := os.WriteFile(filepath.Join(dir, prefix+"-images-idx3-ubyte"), append(img, pixels...), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte"), append(lab, labels...), 0o644)
}
