package dataset

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers the JPEG decoder for image.Decode
	_ "image/png"  // registers the PNG decoder for image.Decode
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// folderImage is one decoded image before the channel count of the whole
// data set is known: gray images keep one plane, colour ones three.
type folderImage struct {
	path  string
	label uint8
	gray  bool
	w, h  int
	pix   []uint8 // channel-first
}

// LoadFolder reads dir/train/CLASS/*.png|jpg|jpeg and dir/test/CLASS/*.
// Classes are the sorted sub-folder names of train; every test class must be
// one of them. All images must have the same size. The data set has one
// channel if every image is grayscale, else three (RGB, alpha dropped).
// OpenFolder reads the same layout lazily, at any image sizes.
func LoadFolder(dir string) (*Dataset, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	classes, trainFiles, testFiles, err := scanFolder(filepath.Join(dir, "train"), filepath.Join(dir, "test"))
	if err != nil {
		return nil, err
	}
	decode := func(files []labeledPath) ([]folderImage, error) {
		imgs := make([]folderImage, 0, len(files))
		for _, f := range files {
			img, err := decodeImageFile(f.path)
			if err != nil {
				return nil, err
			}
			img.label = f.label
			imgs = append(imgs, img)
		}
		return imgs, nil
	}
	train, err := decode(trainFiles)
	if err != nil {
		return nil, err
	}
	test, err := decode(testFiles)
	if err != nil {
		return nil, err
	}
	trainSplit, testSplit, err := folderSplits(train, test)
	if err != nil {
		return nil, err
	}
	return &Dataset{Classes: classes, Train: trainSplit, Test: testSplit}, nil
}

// labeledPath is one image file of a folder data set and its class index.
type labeledPath struct {
	path  string
	label uint8
}

// scanFolder lists the image files of trainDir/CLASS/* and testDir/CLASS/*
// (testDir "" for no test split), classes in sorted order and files in name
// order within each, without reading any image. Classes are the sorted
// sub-folder names of trainDir (at most 256, each holding an image); every
// test class must be one of them.
func scanFolder(trainDir, testDir string) (classes []string, train, test []labeledPath, err error) {
	classes, err = classFolders(trainDir)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(classes) == 0 {
		return nil, nil, nil, fmt.Errorf("dataset: %s: no class folders", trainDir)
	}
	if len(classes) > 256 {
		return nil, nil, nil, fmt.Errorf("dataset: %s: %d class folders, at most 256 are supported", trainDir, len(classes))
	}
	var testClasses []string
	if testDir != "" {
		if testClasses, err = classFolders(testDir); err != nil {
			return nil, nil, nil, err
		}
	}
	for _, c := range testClasses {
		if !slices.Contains(classes, c) {
			return nil, nil, nil, fmt.Errorf("dataset: %s: class %q has no folder in %s", filepath.Join(testDir, c), c, trainDir)
		}
	}
	var trainByClass, testByClass [][]labeledPath
	for label, class := range classes {
		paths, err := classImages(filepath.Join(trainDir, class))
		if err != nil {
			return nil, nil, nil, err
		}
		if len(paths) == 0 {
			return nil, nil, nil, fmt.Errorf("dataset: %s: no .png, .jpg or .jpeg images", filepath.Join(trainDir, class))
		}
		trainByClass = append(trainByClass, labeled(paths, uint8(label)))
	}
	for _, class := range testClasses {
		paths, err := classImages(filepath.Join(testDir, class))
		if err != nil {
			return nil, nil, nil, err
		}
		testByClass = append(testByClass, labeled(paths, uint8(slices.Index(classes, class))))
	}
	return classes, interleave(trainByClass), interleave(testByClass), nil
}

func labeled(paths []string, label uint8) []labeledPath {
	out := make([]labeledPath, len(paths))
	for i, p := range paths {
		out[i] = labeledPath{p, label}
	}
	return out
}

// interleave takes the classes' images in turn (the first of every class,
// then the second of every class, ...), so that the first N images of a
// folder data set (--limit N, a validation split's order) hold every class
// in proportion rather than the first classes only.
func interleave(byClass [][]labeledPath) []labeledPath {
	var out []labeledPath
	for k := 0; ; k++ {
		added := false
		for _, c := range byClass {
			if k < len(c) {
				out = append(out, c[k])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// classFolders lists the sub-folders of dir, sorted, skipping hidden ones.
func classFolders(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var names []string
	for _, e := range entries {
		if isDirEntryDir(dir, e) && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// isDirEntryDir follows symlinks, so linked class folders work too.
func isDirEntryDir(dir string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && st.IsDir()
}

func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return !strings.HasPrefix(name, ".")
	}
	return false
}

// classImages lists the image files of one class folder in name order;
// files of other types are ignored.
func classImages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if e.IsDir() || !isImageName(e.Name()) {
			continue
		}
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	return paths, nil
}

func decodeImageFile(path string) (folderImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return folderImage{}, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return folderImage{}, fmt.Errorf("dataset: %s: cannot decode image: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return folderImage{}, fmt.Errorf("dataset: %s: empty image", path)
	}
	gray, pix := imagePlanes(img)
	b := img.Bounds()
	return folderImage{path: path, gray: gray, w: b.Dx(), h: b.Dy(), pix: pix}, nil
}

// imagePlanes converts img to channel-first bytes: one plane for grayscale
// images, three (R, G, B; alpha dropped) for all others.
func imagePlanes(img image.Image) (gray bool, pix []uint8) {
	return imagePlanesInto(img, nil)
}

// imagePlanesInto is imagePlanes writing into buf when it is large enough
// (a scratch buffer reused across images), allocating otherwise.
func imagePlanesInto(img image.Image, buf []uint8) (gray bool, pix []uint8) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	grow := func(n int) []uint8 {
		if cap(buf) < n {
			return make([]uint8, n)
		}
		return buf[:n]
	}
	switch m := img.(type) {
	case *image.Gray:
		pix = grow(plane)
		for y := 0; y < h; y++ {
			copy(pix[y*w:(y+1)*w], m.Pix[y*m.Stride:])
		}
		return true, pix
	case *image.Gray16:
		pix = grow(plane)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				pix[y*w+x] = m.Pix[y*m.Stride+2*x] // high byte of big-endian 16 bits
			}
		}
		return true, pix
	case *image.NRGBA:
		pix = grow(3 * plane)
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				pix[y*w+x] = row[4*x]
				pix[plane+y*w+x] = row[4*x+1]
				pix[2*plane+y*w+x] = row[4*x+2]
			}
		}
		return false, pix
	case *image.YCbCr: // baseline JPEG: the 8-bit conversion, without a colour.Color per pixel
		pix = grow(3 * plane)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				pix[y*w+x], pix[plane+y*w+x], pix[2*plane+y*w+x] = r, g, bl
			}
		}
		return false, pix
	}
	pix = grow(3 * plane)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			if a != 0 && a != 0xffff { // undo premultiplication: alpha is dropped, not blended
				r, g, bl = r*0xffff/a, g*0xffff/a, bl*0xffff/a
			}
			pix[y*w+x] = uint8(r >> 8)
			pix[plane+y*w+x] = uint8(g >> 8)
			pix[2*plane+y*w+x] = uint8(bl >> 8)
		}
	}
	return false, pix
}

// folderSplits checks that all images share one size and packs them into
// splits, expanding gray images to RGB unless every image is gray.
func folderSplits(train, test []folderImage) (*Split, *Split, error) {
	first := train[0]
	channels := 1
	for _, img := range slices.Concat(train, test) {
		if img.w != first.w || img.h != first.h {
			return nil, nil, fmt.Errorf("dataset: %s: image is %dx%d, want %dx%d like %s", img.path, img.w, img.h, first.w, first.h, first.path)
		}
		if !img.gray {
			channels = 3
		}
	}
	pack := func(imgs []folderImage) *Split {
		s := &Split{N: len(imgs), C: channels, H: first.h, W: first.w, Labels: make([]uint8, len(imgs))}
		size := s.ImageSize()
		s.Pixels = make([]uint8, len(imgs)*size)
		for i, img := range imgs {
			dst := s.Pixels[i*size : (i+1)*size]
			if len(img.pix) == size {
				copy(dst, img.pix)
			} else { // a gray image in an RGB data set: same plane thrice
				for c := 0; c < channels; c++ {
					copy(dst[c*len(img.pix):], img.pix)
				}
			}
			s.Labels[i] = img.label
		}
		return s
	}
	return pack(train), pack(test), nil
}
