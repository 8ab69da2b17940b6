package datamerge

import "github.com/frankenvit/frankenvit/merge"

// Methods are the data-driven merges, in the order the CLI documents them.
var Methods = []string{"fisher", "regmean", "adamerging", "adamerging-blocks", "evolve"}

// reads is the data each method reads of every source's own data: Fisher
// the training images and labels (the empirical Fisher), RegMean training
// images (its Gram matrices), AdaMerging unlabeled test images (as the
// paper: never their labels), Evolve the validation split (its fitness).
// None reads test labels.
var reads = map[string]merge.DataUse{
	"fisher":            {Split: "train", Images: DefaultImages, Labels: true},
	"regmean":           {Split: "train", Images: DefaultImages},
	"adamerging":        {Split: "test"},
	"adamerging-blocks": {Split: "test"},
	"evolve":            {Split: "val", Labels: true},
}

// Reads says which split of each source's data a method reads, how many
// images by default (0: all) and whether it reads their labels; ok is false
// for a method that is not a data-driven merge.
func Reads(method string) (use merge.DataUse, ok bool) {
	use, ok = reads[method]
	return use, ok
}

// NeedsBase reports whether the method merges task vectors of a base.
func NeedsBase(method string) bool {
	return method == "adamerging" || method == "adamerging-blocks" || method == "evolve"
}
