package workflow

import (
	"os"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// TestRealData trains the default model briefly on the real data sets: a
// short run on a few thousand images must already be far above chance (0.1).
func TestRealData(t *testing.T) {
	for _, spec := range []string{"mnist", "fashion-mnist"} {
		t.Run(spec, func(t *testing.T) {
			if spec == "fashion-mnist" {
				if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
					t.Skip("needs Debian package dataset-fashion-mnist")
				}
			}
			s := openStore(t)
			req := tinyRequest("real", "", vit.Baseline)
			req.Config = vit.DefaultConfig()
			req.Data = DataOptions{Spec: spec, ValFrac: 0.1, Limit: 6000}
			req.Options.Epochs, req.Options.Batch, req.Options.LR = 2, 32, 2e-3
			out, err := Train(s, req)
			if err != nil {
				t.Fatal(err)
			}
			// PyTorch, same model and schedule, reaches 0.62 on MNIST here: a
			// ViT learns slowly from so few steps (340).
			t.Logf("%s: test accuracy %.3f after 2 epochs on 5400 images (batch 32)", spec, out.TestAccuracy)
			if out.TestAccuracy < 0.45 {
				t.Errorf("%s: test accuracy %.3f", spec, out.TestAccuracy)
			}
		})
	}
}
