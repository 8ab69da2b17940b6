package workflow

import (
	"fmt"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// checkDataFits refuses images of another size or channel count than the
// model's, or more classes than it predicts, which would otherwise be read
// out of bounds.
func checkDataFits(c vit.Config, s *dataset.Split, classes int, model, spec string) error {
	if s.C != c.Channels || s.H != c.ImageHeight || s.W != c.ImageWidth {
		return fmt.Errorf("data %s has %dx%dx%d images, model %s expects %dx%dx%d", spec, s.H, s.W, s.C, model,
			c.ImageHeight, c.ImageWidth, c.Channels)
	}
	if classes > c.Classes {
		return fmt.Errorf("data %s has %d classes, model %s predicts %d", spec, classes, model, c.Classes)
	}
	return nil
}
