package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// lazyFiles is the backing of a split of full-size images decoded as they
// are used (OpenFolder): the image files and how they become model inputs.
// It holds no pixels.
type lazyFiles struct {
	paths  []string
	pre    *Preprocess // shared by the splits of one data set, never changed
	filter *resampleFilter
}

// OpenFolder opens dir/train/CLASS/*.png|jpg|jpeg and dir/test/CLASS/* (or,
// without dir/test, dir/val/CLASS/*; without either the test split is empty)
// for images decoded from disk as they are used: the splits hold file paths
// and labels only, and every Fill decodes its batch, in parallel, into p's
// model input (N images of C=p.Channels, H=p.Height, W=p.Width). Images may
// have any sizes. Classes follow LoadFolder's rules: the sorted, non-hidden
// sub-folders of train, each holding at least one image, every test class
// one of them. Nothing is decoded here, so a damaged file is reported by the
// Fill that reads it (a *ReadError).
//
// Fill without augmentation applies p's evaluation transform (see
// Preprocess); with an Augment whose RandomResizedCrop is set, torchvision's
// RandomResizedCrop(scale=p.Scale, ratio=p.Ratio) and a horizontal flip with
// probability p.FlipP. Resampling is PIL's (Image.resize, bilinear or
// bicubic, antialiased), so inputs match PIL-based pipelines.
func OpenFolder(dir string, p Preprocess) (*Dataset, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	filter, err := filterNamed(p.Interpolation)
	if err != nil {
		return nil, err
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	testDir := ""
	for _, name := range []string{"test", "val"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			testDir = filepath.Join(dir, name)
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("dataset: %w", err)
		}
	}
	classes, train, test, err := scanFolder(filepath.Join(dir, "train"), testDir)
	if err != nil {
		return nil, err
	}
	pre := p
	split := func(files []labeledPath) *Split {
		lf := &lazyFiles{paths: make([]string, len(files)), pre: &pre, filter: filter}
		s := &Split{Labels: make([]uint8, len(files)), N: len(files), C: p.Channels, H: p.Height, W: p.Width, files: lf}
		for i, f := range files {
			lf.paths[i], s.Labels[i] = f.path, f.label
		}
		return s
	}
	return &Dataset{Classes: classes, Train: split(train), Test: split(test)}, nil
}

// Lazy reports whether s holds file paths decoded as they are used
// (OpenFolder) rather than pixels: only Fill, MustFill, Subset, Limit,
// SplitValidation, OffsetLabels and ComputeNormalization accept such a
// split; Image, Pool and the @transforms need pixels.
func (s *Split) Lazy() bool { return s.files != nil }

// Path returns the file of image i of a lazy split ("" for a split that
// holds pixels).
func (s *Split) Path(i int) string {
	if s.files == nil {
		return ""
	}
	return s.files.paths[i]
}

// errLazy is the error of the operations that need pixels.
func errLazy(op string) error {
	return fmt.Errorf("dataset: %s needs images in memory, but this split's images are decoded from disk as they are used (OpenFolder)", op)
}

// The random numbers of one image's RandomResizedCrop and flip: rrcAttempts
// attempts of 4 uniform numbers (area fraction, log aspect ratio, top,
// left), then one for the flip. They are drawn before decoding, in batch
// order, so a batch does not depend on how many goroutines decode it.
const (
	rrcAttempts   = 10
	drawsPerImage = 4*rrcAttempts + 1
)

// maxDecodePixels bounds the images Fill decodes (a header claiming more is
// an error rather than a multi-gigabyte allocation).
var maxDecodePixels = 1 << 28

// cropParams is torchvision's RandomResizedCrop.get_params for an image of
// w x h given the uniform numbers u (drawsPerImage-1 of them): the crop's
// left, top, width and height.
func cropParams(w, h int, scale, ratio [2]float64, u []float64) (left, top, cw, ch int) {
	area := float64(w) * float64(h)
	logR0, logR1 := math.Log(ratio[0]), math.Log(ratio[1])
	for a := 0; a < rrcAttempts; a++ {
		d := u[4*a : 4*a+4]
		target := area * (scale[0] + d[0]*(scale[1]-scale[0]))
		aspect := math.Exp(logR0 + d[1]*(logR1-logR0))
		cw = int(math.RoundToEven(math.Sqrt(target * aspect)))
		ch = int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < cw && cw <= w && 0 < ch && ch <= h {
			top = min(int(d[2]*float64(h-ch+1)), h-ch)
			left = min(int(d[3]*float64(w-cw+1)), w-cw)
			return left, top, cw, ch
		}
	}
	// torchvision's fallback: the centre crop of the whole image, its aspect ratio clamped.
	inRatio := float64(w) / float64(h)
	switch {
	case inRatio < min(ratio[0], ratio[1]):
		cw = w
		ch = int(math.RoundToEven(float64(cw) / min(ratio[0], ratio[1])))
	case inRatio > max(ratio[0], ratio[1]):
		ch = h
		cw = int(math.RoundToEven(float64(ch) * max(ratio[0], ratio[1])))
	default:
		cw, ch = w, h
	}
	cw, ch = min(max(cw, 1), w), min(max(ch, 1), h)
	return (w - cw) / 2, (h - ch) / 2, cw, ch
}

// evalSize is the size the evaluation transform resizes a w x h image to
// before its centre crop. ResizeShorter: torchvision's Resize(int) to
// floor(Height/CropPct) for a square target (the long side
// int(size*long/short)), timm's ResizeKeepRatio for another (each side
// scaled by one factor so that both cover floor(side/CropPct)); ResizeExact:
// floor(Height/CropPct) x floor(Width/CropPct).
func (p *Preprocess) evalSize(w, h int) (rw, rh int) {
	sh, sw := int(math.Floor(float64(p.Height)/p.CropPct)), int(math.Floor(float64(p.Width)/p.CropPct))
	switch {
	case p.Resize == ResizeExact:
		rw, rh = sw, sh
	case sh == sw:
		if w <= h {
			rw, rh = sh, int(float64(sh*h)/float64(w))
		} else {
			rw, rh = int(float64(sh*w)/float64(h)), sh
		}
	default:
		ratio := min(float64(h)/float64(sh), float64(w)/float64(sw))
		rw, rh = int(math.RoundToEven(float64(w)/ratio)), int(math.RoundToEven(float64(h)/ratio))
	}
	return max(rw, p.Width), max(rh, p.Height)
}

// centreOffset is torchvision's CenterCrop offset: int(round((n - crop) / 2.0)).
func centreOffset(n, crop int) int { return int(math.RoundToEven(float64(n-crop) / 2)) }

// lazyScratch is one decoding goroutine's reusable memory.
type lazyScratch struct {
	file   bytes.Buffer
	planes []uint8 // the decoded image, channel-first
	tmp    []uint8 // the horizontal pass
	img    []uint8 // one resized C x H x W image
}

// maxPooledScratch is the largest buffer kept for reuse: a huge image's
// planes are dropped after use rather than held.
const maxPooledScratch = 16 << 20

var scratchPool = sync.Pool{New: func() any { return new(lazyScratch) }}

func putScratch(sc *lazyScratch) {
	if sc.file.Cap() > maxPooledScratch {
		sc.file = bytes.Buffer{}
	}
	if cap(sc.planes) > maxPooledScratch {
		sc.planes = nil
	}
	if cap(sc.tmp) > maxPooledScratch {
		sc.tmp = nil
	}
	scratchPool.Put(sc)
}

func growBytes(b []uint8, n int) []uint8 {
	if cap(b) < n {
		return make([]uint8, n)
	}
	return b[:n]
}

// load decodes the file path into out (C x H x W bytes): the evaluation
// transform for draws nil, else the RandomResizedCrop and flip these random
// numbers give.
func (lf *lazyFiles) load(path string, draws []float64, out []uint8, sc *lazyScratch) error {
	readErr := func(err error) error { return &ReadError{Path: path, Err: err} }
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return readErr(err)
	}
	sc.file.Reset()
	_, err = sc.file.ReadFrom(f)
	f.Close()
	if err != nil {
		return readErr(err)
	}
	data := sc.file.Bytes()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return readErr(fmt.Errorf("cannot decode image: %v", err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return readErr(errors.New("empty image"))
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxDecodePixels) {
		return readErr(fmt.Errorf("image is %dx%d, more than %d pixels", cfg.Width, cfg.Height, maxDecodePixels))
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return readErr(fmt.Errorf("cannot decode image: %v", err))
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return readErr(errors.New("empty image"))
	}
	pix := lf.channels(img, sc)
	img = nil // the decoded image is garbage from here on

	p := lf.pre
	var plan *resizePlan
	flip := false
	if draws == nil {
		rw, rh := p.evalSize(w, h)
		plan = newResizePlan(0, 0, w, h, rw, rh, centreOffset(rw, p.Width), centreOffset(rh, p.Height), p.Width, p.Height, lf.filter)
	} else {
		left, top, cw, ch := cropParams(w, h, p.Scale, p.Ratio, draws)
		plan = newResizePlan(left, top, cw, ch, p.Width, p.Height, 0, 0, p.Width, p.Height, lf.filter)
		flip = draws[drawsPerImage-1] < p.FlipP
	}
	sc.tmp = growBytes(sc.tmp, plan.tmpSize())
	plane := w * h
	outPlane := p.Width * p.Height
	for c := 0; c < p.Channels; c++ {
		dst := out[c*outPlane : (c+1)*outPlane]
		plan.resize(dst, pix[c*plane:(c+1)*plane], w, sc.tmp)
		if flip {
			for y := 0; y < p.Height; y++ {
				slices.Reverse(dst[y*p.Width : (y+1)*p.Width])
			}
		}
	}
	return nil
}

// channels converts a decoded image to p.Channels planes in sc.planes:
// grey replicated to RGB, RGB to grey by PIL's "L" conversion (ITU-R 601-2
// luma, L = R*299/1000 + G*587/1000 + B*114/1000, in PIL's 16-bit fixed
// point with rounding), alpha dropped.
func (lf *lazyFiles) channels(img image.Image, sc *lazyScratch) []uint8 {
	b := img.Bounds()
	plane := b.Dx() * b.Dy()
	gray, pix := imagePlanesInto(img, sc.planes[:cap(sc.planes)])
	switch {
	case gray && lf.pre.Channels == 3:
		if cap(pix) < 3*plane {
			pix = append(make([]uint8, 0, 3*plane), pix[:plane]...)
		}
		pix = pix[:3*plane]
		copy(pix[plane:], pix[:plane])
		copy(pix[2*plane:], pix[:plane])
	case !gray && lf.pre.Channels == 1:
		r, g, bl := pix[:plane], pix[plane:2*plane], pix[2*plane:3*plane]
		for k := range r {
			r[k] = uint8((uint32(r[k])*19595 + uint32(g[k])*38470 + uint32(bl[k])*7471 + 0x8000) >> 16)
		}
		pix = pix[:plane]
	}
	sc.planes = pix
	return pix
}

// decode loads the images idx of the lazy split, with draws (drawsPerImage
// per image, nil for the evaluation transform), in up to GOMAXPROCS
// goroutines, calling fn(k, img) for the k-th of them from the goroutine
// that decoded it (img is valid during the call only). It returns the error
// of the first image, in idx order, that failed.
func (lf *lazyFiles) decode(idx []int, draws []float64, size int, fn func(k int, img []uint8)) error {
	for _, j := range idx {
		if j < 0 || j >= len(lf.paths) {
			panic(fmt.Sprintf("dataset: image index %d out of range [0, %d)", j, len(lf.paths)))
		}
	}
	errs := make([]error, len(idx))
	var next atomic.Int64
	work := func() {
		sc := scratchPool.Get().(*lazyScratch)
		defer putScratch(sc)
		sc.img = growBytes(sc.img, size)
		for {
			k := int(next.Add(1) - 1)
			if k >= len(idx) {
				return
			}
			var d []float64
			if draws != nil {
				d = draws[k*drawsPerImage : (k+1)*drawsPerImage]
			}
			if err := lf.load(lf.paths[idx[k]], d, sc.img, sc); err != nil {
				errs[k] = err
				continue
			}
			fn(k, sc.img)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(idx))
	if workers <= 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(work)
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// fillLazy is Fill for a lazy split; luts are the normalisation's tables.
func (s *Split) fillLazy(dst []float32, lab []int32, idx []int, luts [][256]float32, aug *Augment, rng *rand.Rand) error {
	var draws []float64
	if aug != nil && aug.RandomResizedCrop {
		draws = make([]float64, len(idx)*drawsPerImage)
		for k := range draws {
			draws[k] = rng.Float64()
		}
	}
	size := s.ImageSize()
	plane := s.H * s.W
	err := s.files.decode(idx, draws, size, func(k int, img []uint8) {
		out := dst[k*size : (k+1)*size]
		for c := range luts {
			lut := &luts[c]
			o := out[c*plane : (c+1)*plane]
			for i, v := range img[c*plane : (c+1)*plane] {
				o[i] = lut[v]
			}
		}
	})
	if lab != nil {
		for i, j := range idx {
			lab[i] = int32(s.Labels[j])
		}
	}
	return err
}

// normalizationSample is the most images ComputeNormalization decodes from
// a lazy split.
const normalizationSample = 1000

// lazyHistogram counts the byte values of each channel of the evaluation
// transform of an evenly spaced sample of at most normalizationSample
// images of a lazy split (image floor(i*N/k) for i < k), decoded in batches
// so that memory stays bounded. It returns the pixels counted per channel.
func (s *Split) lazyHistogram(hist [][256]uint64) (count float64, err error) {
	k := min(s.N, normalizationSample)
	const batch = 64
	size, plane := s.ImageSize(), s.H*s.W
	buf := make([]uint8, min(k, batch)*size)
	for start := 0; start < k; start += batch {
		idx := make([]int, 0, batch)
		for i := start; i < min(start+batch, k); i++ {
			idx = append(idx, int(int64(i)*int64(s.N)/int64(k)))
		}
		if err := s.files.decode(idx, nil, size, func(k int, img []uint8) { copy(buf[k*size:], img) }); err != nil {
			return 0, err
		}
		for i := range idx {
			for c := 0; c < s.C; c++ {
				h := &hist[c]
				for _, v := range buf[i*size+c*plane : i*size+(c+1)*plane] {
					h[v]++
				}
			}
		}
	}
	return float64(k) * float64(plane), nil
}
