package workflow

import (
	"os"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// TestRealData trains the default model briefly on the real data sets: a
// short run on a few thousand images must already be far above chance.
func TestRealData(t *testing.T) {
	for _, spec := range []string{"mnist", "fashion-mnist"} {
		t.Run(spec, func(t *testing.T) {
			if spec == "fashion-mnist" {
				if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
					t.Skip("needs Debian package dataset-fashion-mnist")
				}
			}
			s := openStore(t)
			req := tinyRequest("real", "", vit.Shuffle)
			req.Config = vit.DefaultConfig()
			req.Config.Variant = vit.Shuffle
			req.Data = DataOptions{Spec: spec, ValFrac: 0.1, Limit: 3000}
			req.Options.Epochs, req.Options.Batch, req.Options.LR = 2, 64, 2e-3
			out, err := Train(s, req)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: test accuracy %.3f after 2 epochs on 2700 images", spec, out.TestAccuracy)
			if out.TestAccuracy < 0.6 {
				t.Errorf("%s: test accuracy %.3f", spec, out.TestAccuracy)
			}
		})
	}
}
