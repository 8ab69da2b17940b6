package workflow

import (
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/modelstore"
)

// bench data reads every training image once, whatever the batch: a batch
// past the split is the whole split (a --batch of 2e9 once ran out of
// memory); a batch of 0 is refused.
func TestBenchDataReadsEveryImage(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Stripes(dir, 150, 10, 1); err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{7, 150, 1 << 40} {
		res, err := BenchData(DataBenchRequest{Data: modelstore.DataOptions{Spec: "idx:" + dir}, Batch: batch, Seed: 1})
		if err != nil {
			t.Fatalf("--batch %d: %v", batch, err)
		}
		if res.Images != 150 || res.Input != "1x8x8" || res.ImagesPerSec <= 0 {
			t.Errorf("--batch %d: %+v", batch, res)
		}
	}
	if _, err := BenchData(DataBenchRequest{Data: modelstore.DataOptions{Spec: "idx:" + dir}, Batch: 0}); err == nil ||
		!strings.Contains(err.Error(), "--batch must be positive") {
		t.Errorf("--batch 0: %v", err)
	}
}
