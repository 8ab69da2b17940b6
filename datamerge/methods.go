package datamerge

import (
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/merge/methods"
)

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

// Spec is a data-driven merge's merge-wide parameters as a merge/methods
// spec, so that a mergekit configuration can name the method and its
// settings (checked like a weight merge's: unknown names, ranges, switches).
func Spec(method string) methods.Spec {
	images := methods.ParamSpec{Name: "images", Min: 0, Max: 1e7, Doc: "images of each source's data read (0: the method's default)"}
	s := methods.Spec{Name: method, MinModels: 2, NeedsBase: NeedsBase(method), Params: []methods.ParamSpec{images}}
	switch method {
	case "regmean":
		s.Params = append(s.Params, methods.ParamSpec{Name: "alpha", Default: DefaultAlpha, Min: 0, Max: 1, Doc: "scale of the Gram matrices' off-diagonals"})
	case "adamerging", "adamerging-blocks":
		s.Params = append(s.Params, methods.ParamSpec{Name: "steps", Min: 0, Max: 1e6, Doc: "Adam steps (0: 100)"},
			methods.ParamSpec{Name: "lr", Min: 0, Max: 10, Doc: "Adam's learning rate (0: 1e-3)"})
	case "evolve":
		s.MinModels = 1
		s.Params = append(s.Params, methods.ParamSpec{Name: "evaluations", Min: 0, Max: 1e6, Doc: "merges scored (0: 100)"},
			methods.ParamSpec{Name: "per_block", Bool: true, Min: 0, Max: 1, Doc: "one set of parameters per block"},
			methods.ParamSpec{Name: "plan_search", Bool: true, Min: 0, Max: 1, Doc: "then search plans over the merged and the sources' blocks"})
	}
	return s
}
