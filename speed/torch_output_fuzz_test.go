package speed

import (
	"testing"
)

// FuzzParseTorchOutput: whatever the peer prints is refused or read as a
// complete measurement, never a panic.
func FuzzParseTorchOutput(f *testing.F) {
	for _, s := range []string{"", "{}", "null", `{"train_images": 16, "train_seconds": 0.5, "eval_images": 40, "eval_seconds": 0.1}`,
		`{"train_images": -1}`, `{"final_loss": null, "env": {"OMP_NUM_THREADS": "1"}}`, "Traceback (most recent call last):"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		m, err := ParseTorchOutput(out)
		if err != nil {
			return
		}
		if m.TrainImages <= 0 || m.TrainSeconds <= 0 || m.EvalImages <= 0 || m.EvalSeconds <= 0 || m.Engine != "torch" {
			t.Fatalf("accepted an incomplete measurement %+v from %q", m, out)
		}
	})
}
