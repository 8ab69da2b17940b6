package dataset

import (
	"fmt"
	"slices"
	"strings"
)

// A derived task is a data set whose images are another data set's images
// under a deterministic transform, written SPEC@TRANSFORM (mnist@rot90,
// idx:DIR@invert); transforms chain left to right (mnist@rot90@invert). The
// transform applies to the training and test splits alike and keeps every
// label. Every transform is exact and pure: it reads its input and writes a
// new split.
//
// In the coordinates below an image is H rows by W columns, (y, x) is row y,
// column x, and out(y, x) is the transformed image's pixel; every channel is
// transformed alike.
//
//	rot90      rotate a quarter turn counter-clockwise (numpy.rot90): H'=W, W'=H, out(y,x) = in(x, W-1-y)
//	rot180     rotate a half turn: out(y,x) = in(H-1-y, W-1-x)
//	rot270     rotate a quarter turn clockwise: H'=W, W'=H, out(y,x) = in(H-1-x, y)
//	transpose  swap rows and columns: H'=W, W'=H, out(y,x) = in(x, y)
//	flip       mirror left-right: out(y,x) = in(y, W-1-x)
//	vflip      mirror top-bottom: out(y,x) = in(H-1-y, x)
//	invert     255 - pixel
type transform struct {
	name string
	// swap: the output is W rows by H columns.
	swap bool
	// src gives the input pixel (row, column) of the output pixel (y, x) of
	// an image of h rows and w columns (the input's size); nil for a pixel map.
	src func(y, x, h, w int) (int, int)
	// pixel maps one value; nil for a geometric transform.
	pixel func(uint8) uint8
}

// transforms is every known transform, in the order errors list them.
var transforms = []transform{
	{name: "rot90", swap: true, src: func(y, x, h, w int) (int, int) { return x, w - 1 - y }},
	{name: "rot180", src: func(y, x, h, w int) (int, int) { return h - 1 - y, w - 1 - x }},
	{name: "rot270", swap: true, src: func(y, x, h, w int) (int, int) { return h - 1 - x, y }},
	{name: "transpose", swap: true, src: func(y, x, h, w int) (int, int) { return x, y }},
	{name: "flip", src: func(y, x, h, w int) (int, int) { return y, w - 1 - x }},
	{name: "vflip", src: func(y, x, h, w int) (int, int) { return h - 1 - y, x }},
	{name: "invert", pixel: func(v uint8) uint8 { return 255 - v }},
}

// TransformNames lists the known transforms of SPEC@TRANSFORM.
func TransformNames() []string {
	names := make([]string, len(transforms))
	for i, t := range transforms {
		names[i] = t.name
	}
	return names
}

// transformList is quoted by every error about an unknown transform.
func transformList() string {
	names := TransformNames()
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func lookupTransform(name string) (transform, bool) {
	i := slices.IndexFunc(transforms, func(t transform) bool { return t.name == name })
	if i < 0 {
		return transform{}, false
	}
	return transforms[i], true
}

// DataSpec is a parsed data SPEC: a base data set and the transforms applied
// to it, left to right.
type DataSpec struct {
	Base       string   // mnist, fashion-mnist, idx:DIR, cifar10:DIR, folder:DIR; "" is the default, mnist
	Transforms []string // known transform names, applied in order
}

// String writes the spec back: Base@T1@T2...
func (d DataSpec) String() string {
	if len(d.Transforms) == 0 {
		return d.Base
	}
	return d.Base + "@" + strings.Join(d.Transforms, "@")
}

// ParseDataSpec splits a data SPEC into its base data set and its transforms
// and checks both, without reading any file. The transforms are the trailing
// @NAME parts of the spec that hold no path separator, so a directory may
// contain '@' (idx:/data/a@b/c@rot90 is the directory /data/a@b/c under
// rot90); a directory whose last element contains '@' is written with a
// trailing slash. An accepted spec's String is the spec itself.
func ParseDataSpec(spec string) (DataSpec, error) {
	base := spec
	var names []string
	for {
		i := strings.LastIndexByte(base, '@')
		if i < 0 || strings.ContainsAny(base[i+1:], `/\`) {
			break
		}
		names = append(names, base[i+1:])
		base = base[:i]
	}
	slices.Reverse(names)
	for _, n := range names {
		if _, ok := lookupTransform(n); !ok {
			return DataSpec{}, fmt.Errorf("dataset: unknown transform %q in data spec %q: want %s", n, spec, transformList())
		}
	}
	if base == "" && len(names) > 0 {
		return DataSpec{}, fmt.Errorf("dataset: data spec %q names no data set before @%s: want SPEC@TRANSFORM, SPEC one of %s",
			spec, names[0], specForms)
	}
	if err := checkBaseSpec(base, spec); err != nil {
		return DataSpec{}, err
	}
	return DataSpec{Base: base, Transforms: names}, nil
}

// checkBaseSpec checks the form of a base data set spec ("" is the default).
func checkBaseSpec(base, spec string) error {
	if base == "" || base == "mnist" || base == "fashion-mnist" {
		return nil
	}
	kind, dir, hasDir := strings.Cut(base, ":")
	if hasDir && (kind == "idx" || kind == "cifar10" || kind == "folder") {
		if dir == "" {
			return fmt.Errorf("dataset: data spec %q names no directory: want %s:DIR", spec, kind)
		}
		return nil
	}
	return fmt.Errorf("dataset: unknown data spec %q: want %s", spec, specForms)
}

// TransformSplit returns a new split holding s's images under the named
// transforms, applied left to right, and a copy of its labels. Height and
// width follow the transforms (rot90, rot270 and transpose swap them). s is
// not changed. A lazy split (OpenFolder) has no pixels to transform: an error.
func TransformSplit(s *Split, names ...string) (*Split, error) {
	if s.Lazy() {
		return nil, errLazy("a transform (@" + strings.Join(names, "@") + ")")
	}
	ts := make([]transform, len(names))
	for i, n := range names {
		t, ok := lookupTransform(n)
		if !ok {
			return nil, fmt.Errorf("dataset: unknown transform %q: want %s", n, transformList())
		}
		ts[i] = t
	}
	out := &Split{Pixels: slices.Clone(s.Pixels), N: s.N, C: s.C, H: s.H, W: s.W}
	if out.Pixels == nil {
		out.Pixels = []uint8{}
	}
	if s.Labels != nil {
		out.Labels = slices.Clone(s.Labels)
	}
	buf := make([]uint8, 0)
	for _, t := range ts {
		if t.pixel != nil {
			for i, v := range out.Pixels {
				out.Pixels[i] = t.pixel(v)
			}
			continue
		}
		buf = slices.Grow(buf[:0], len(out.Pixels))[:len(out.Pixels)]
		h, w := out.H, out.W
		for img := 0; img < out.N*out.C; img++ {
			plane := img * h * w
			geometric(t, out.Pixels[plane:plane+h*w], buf[plane:plane+h*w], h, w)
		}
		out.Pixels, buf = buf, out.Pixels
		if t.swap {
			out.H, out.W = w, h
		}
	}
	return out, nil
}

// TransformImage returns one channel-first image of c channels, h rows and w
// columns under the named transforms, with its new height and width.
func TransformImage(img []uint8, c, h, w int, names ...string) (out []uint8, oh, ow int, err error) {
	if len(img) != c*h*w {
		return nil, 0, 0, fmt.Errorf("dataset: TransformImage: %d bytes for a %dx%dx%d image", len(img), c, h, w)
	}
	s, err := TransformSplit(&Split{Pixels: img, N: 1, C: c, H: h, W: w}, names...)
	if err != nil {
		return nil, 0, 0, err
	}
	return s.Pixels, s.H, s.W, nil
}

// geometric writes the plane in (h rows, w columns) under t into out.
func geometric(t transform, in, out []uint8, h, w int) {
	oh, ow := h, w
	if t.swap {
		oh, ow = w, h
	}
	for y := 0; y < oh; y++ {
		row := out[y*ow : (y+1)*ow]
		for x := range row {
			sy, sx := t.src(y, x, h, w)
			row[x] = in[sy*w+sx]
		}
	}
}

// applyTransforms replaces ds's splits with their transformed copies.
func applyTransforms(ds *Dataset, names []string) error {
	if len(names) == 0 {
		return nil
	}
	for _, sp := range []**Split{&ds.Train, &ds.Test} {
		if *sp == nil {
			continue
		}
		t, err := TransformSplit(*sp, names...)
		if err != nil {
			return err
		}
		*sp = t
	}
	return nil
}
