package datamerge

import (
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// Source is one model to merge with the data a method may look at.
type Source struct {
	Model *vit.Model
	// Data are images of the model's own task: its training (or validation)
	// split for Fisher and RegMean, unlabeled test images for AdaMerging
	// (whose labels it never reads). Labels are in the model's numbering
	// (a multi-task model's task k: k*C+y).
	Data *dataset.Split
	Norm dataset.Normalization
	// Task is the model's own task ("" for a single-task model).
	Task string
}
