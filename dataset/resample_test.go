package dataset

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

// noiseRGB is a w x h image of random colours, smoothed a little in x so
// that both the noise and the gradients of real images are exercised.
func noiseRGB(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(rng.IntN(256)), G: uint8(x * 255 / w), B: uint8(rng.IntN(256)), A: 255})
		}
	}
	return img
}

func noiseGray(w, h int, seed uint64) *image.Gray {
	rng := rand.New(rand.NewPCG(seed, 2))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	return img
}

// pilOp is one operation of testdata/resize_reference.py, and how the
// package computes it.
type pilOp struct {
	File   string `json:"file"`
	Mode   string `json:"mode"` // RGB or L
	Op     string `json:"op"`
	Size   [2]int `json:"size,omitempty"` // w, h
	Box    [4]int `json:"box,omitempty"`
	Short  int    `json:"short,omitempty"`
	Crop   [2]int `json:"crop,omitempty"` // h, w
	Filter string `json:"filter,omitempty"`

	ours func() ([]uint8, int, int) `json:"-"` // channel-first bytes, w, h
}

// decodePlanes decodes a test image to channels planes as lazy splits do.
func decodePlanes(t *testing.T, path string, channels int) ([]uint8, int, int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	lf := &lazyFiles{pre: &Preprocess{Channels: channels}}
	pix := lf.channels(img, new(lazyScratch))
	return pix, img.Bounds().Dx(), img.Bounds().Dy()
}

// resizePlanes resizes every plane of pix (channels x w x h) through a plan.
func resizePlanes(pix []uint8, channels, w int, plan *resizePlan) []uint8 {
	out := make([]uint8, channels*plan.ww*plan.wh)
	tmp := make([]uint8, plan.tmpSize())
	plane := len(pix) / channels
	for c := 0; c < channels; c++ {
		plan.resize(out[c*plan.ww*plan.wh:(c+1)*plan.ww*plan.wh], pix[c*plane:(c+1)*plane], w, tmp)
	}
	return out
}

// TestResizeMatchesPIL compares the resampling, the channel conversions and
// the evaluation transform with PIL's (python3-pil), byte for byte within 1.
func TestResizeMatchesPIL(t *testing.T) {
	testenv.NeedPIL(t)
	dir := t.TempDir()
	files := map[string]image.Image{
		"rgb.png":       noiseRGB(37, 23, 1),
		"gray.png":      noiseGray(37, 23, 2),
		"portrait.png":  noiseRGB(23, 37, 3),
		"big.png":       noiseRGB(300, 200, 4),
		"biggray.png":   noiseGray(200, 300, 5),
		"landscape.png": noiseRGB(301, 199, 6),
	}
	for name, img := range files {
		writeFile(t, filepath.Join(dir, name), pngBytes(t, img))
	}
	var ops []pilOp
	channelsOf := map[string]int{"RGB": 3, "L": 1}
	for _, name := range []string{"rgb.png", "gray.png", "portrait.png", "big.png", "biggray.png", "landscape.png"} {
		path := filepath.Join(dir, name)
		for _, mode := range []string{"RGB", "L"} {
			c := channelsOf[mode]
			ops = append(ops, pilOp{File: path, Mode: mode, Op: "convert", ours: func() ([]uint8, int, int) { return decodePlanes(t, path, c) }})
			for _, filter := range []string{"bilinear", "bicubic"} {
				f, _ := filterNamed(filter)
				for _, size := range [][2]int{{16, 16}, {50, 31}, {224, 224}, {7, 90}} {
					ops = append(ops, pilOp{File: path, Mode: mode, Op: "resize", Size: size, Filter: filter, ours: func() ([]uint8, int, int) {
						pix, w, h := decodePlanes(t, path, c)
						plan := newResizePlan(0, 0, w, h, size[0], size[1], 0, 0, size[0], size[1], f)
						return resizePlanes(pix, c, w, plan), size[0], size[1]
					}})
				}
				// A RandomResizedCrop-like crop then resize.
				b := files[name].Bounds()
				box := [4]int{b.Dx() / 5, b.Dy() / 4, b.Dx() - b.Dx()/7, b.Dy() - 1}
				ops = append(ops, pilOp{File: path, Mode: mode, Op: "crop_resize", Box: box, Size: [2]int{24, 24}, Filter: filter, ours: func() ([]uint8, int, int) {
					pix, w, _ := decodePlanes(t, path, c)
					plan := newResizePlan(box[0], box[1], box[2]-box[0], box[3]-box[1], 24, 24, 0, 0, 24, 24, f)
					return resizePlanes(pix, c, w, plan), 24, 24
				}})
				// The evaluation transform, through the lazy split's own code.
				for _, eval := range []struct {
					size    int
					cropPct float64
					short   int
				}{{16, 0.9, 17}, {224, 0.875, 256}, {224, 0.9, 248}, {20, 1, 20}} {
					ops = append(ops, pilOp{File: path, Mode: mode, Op: "shorter", Short: eval.short, Crop: [2]int{eval.size, eval.size}, Filter: filter,
						ours: func() ([]uint8, int, int) {
							p := TimmPreprocess(eval.size, eval.size, c)
							p.CropPct, p.Interpolation = eval.cropPct, filter
							lf := &lazyFiles{pre: &p, filter: f}
							out := make([]uint8, c*eval.size*eval.size)
							if err := lf.load(path, nil, out, new(lazyScratch)); err != nil {
								t.Fatal(err)
							}
							return out, eval.size, eval.size
						}})
				}
			}
		}
	}
	request, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Python, filepath.Join("testdata", "resize_reference.py"))
	cmd.Stdin = bytes.NewReader(request)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("resize_reference.py: %v: %s", err, stderr.String())
	}
	var results []struct {
		W, H int
		Mode string
		Data string
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != len(ops) {
		t.Fatalf("%d results for %d operations", len(results), len(ops))
	}
	maxDiff, differing, values := 0, 0, 0
	for i, op := range ops {
		r := results[i]
		ref, err := base64.StdEncoding.DecodeString(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		got, w, h := op.ours()
		c := channelsOf[op.Mode]
		name := fmt.Sprintf("%s %s %s %v%v%v short %d %s", filepath.Base(op.File), op.Mode, op.Op, op.Size, op.Box, op.Crop, op.Short, op.Filter)
		if r.W != w || r.H != h || len(ref) != c*w*h || len(got) != c*w*h {
			t.Errorf("%s: PIL %dx%d (%d bytes), ours %dx%d (%d bytes)", name, r.W, r.H, len(ref), w, h, len(got))
			continue
		}
		opMax := 0
		for k, v := range ref { // PIL interleaves channels
			ch, px := k%c, k/c
			d := int(v) - int(got[ch*w*h+px])
			if d < 0 {
				d = -d
			}
			opMax = max(opMax, d)
			if d != 0 {
				differing++
			}
			values++
		}
		if opMax > 1 {
			t.Errorf("%s: differs from PIL by up to %d", name, opMax)
		}
		maxDiff = max(maxDiff, opMax)
	}
	t.Logf("%d operations, %d values: max difference from PIL %d, %d values differ", len(ops), values, maxDiff, differing)
}

func TestComputeCoeffsSumToOne(t *testing.T) {
	for _, f := range []*resampleFilter{bilinearFilter, bicubicFilter} {
		for _, sizes := range [][2]int{{37, 16}, {16, 37}, {300, 224}, {5, 5}, {1, 9}, {9, 1}} {
			c := computeCoeffs(sizes[0], sizes[1], 0, sizes[1], f)
			for o := range c.start {
				var sum int64
				for _, k := range c.weight[o*c.ksize : o*c.ksize+c.n[o]] {
					sum += int64(k)
				}
				if d := sum - 1<<precisionBits; d < -int64(c.n[o]) || d > int64(c.n[o]) {
					t.Errorf("%s %v output %d: weights sum to %d, want %d", f.name, sizes, o, sum, 1<<precisionBits)
				}
				if c.start[o] < 0 || c.start[o]+c.n[o] > sizes[0] {
					t.Errorf("%s %v output %d reads %d..%d", f.name, sizes, o, c.start[o], c.start[o]+c.n[o])
				}
			}
		}
	}
}

func TestResizePlaneIdentityAndConstant(t *testing.T) {
	src := noiseGray(13, 7, 9).Pix
	for _, interp := range []string{"bilinear", "bicubic"} {
		same, err := resizePlane(src, 13, 7, 13, 7, interp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(same, src) {
			t.Errorf("%s: resizing to the same size changed the image", interp)
		}
		flat := bytes.Repeat([]byte{173}, 13*7)
		for _, size := range [][2]int{{3, 2}, {40, 29}, {1, 1}} {
			out, err := resizePlane(flat, 13, 7, size[0], size[1], interp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, bytes.Repeat([]byte{173}, size[0]*size[1])) {
				t.Errorf("%s %v: a constant image is not constant: %v", interp, size, out)
			}
		}
	}
	if _, err := resizePlane(src, 13, 7, 0, 4, "bilinear"); err == nil {
		t.Error("size 0 accepted")
	}
	if _, err := resizePlane(src, 13, 7, 4, 4, "lanczos"); err == nil {
		t.Error("unknown interpolation accepted")
	}
}

// BenchmarkResizePlane: one 300x300 plane to the centre 224x224 of its
// bicubic resize to 248x248 (timm's evaluation transform, one channel).
func BenchmarkResizePlane(b *testing.B) {
	src := noiseGray(300, 300, 1).Pix
	plan := newResizePlan(0, 0, 300, 300, 248, 248, 12, 12, 224, 224, bicubicFilter)
	dst, tmp := make([]uint8, 224*224), make([]uint8, plan.tmpSize())
	for b.Loop() {
		plan.resize(dst, src, 300, tmp)
	}
}
