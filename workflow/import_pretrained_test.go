package workflow

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/testenv"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// pretrainedLayouts are the layouts testdata/pretrained_reference.py writes.
var pretrainedLayouts = []string{"timm", "hf", "hf-model", "deit"}

// pretrainedReference writes the reference script's folders, inputs and
// logits into a temporary folder and returns it.
func pretrainedReference(t *testing.T) string {
	t.Helper()
	testenv.NeedTorch(t)
	root := filepath.Join(t.TempDir(), "ref")
	runPython(t, "testdata/pretrained_reference.py", "write", "7", root)
	return root
}

func runPython(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testenv.Python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

func decodeLogits(t *testing.T, raw []byte) []float64 {
	t.Helper()
	var ref struct{ Logits []float64 }
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return ref.Logits
}

// logitDiff is max |a-b|, or +Inf when the lengths differ.
func logitDiff(a []float32, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-b[i]))
	}
	return d
}

// importedLogits loads a stored model and runs it on x (2 images); a model
// imported with a new head of dim classes gets the identity as its head, so
// its logits are the final LayerNorm's class-token features.
func importedLogits(t *testing.T, s *checkpoint.Store, name string, x []float32, features bool) []float32 {
	t.Helper()
	m, _, err := loadModel(s, name)
	if err != nil {
		t.Fatal(err)
	}
	if features {
		for _, p := range m.Head.Params() {
			if p.Name == "head.weight" {
				for i := 0; i < m.Config.Dim; i++ {
					p.Data()[i*m.Config.Dim+i] = 1
				}
			}
		}
	}
	return slices.Clone(vit.NewRunner(m).Logits(x, 2, m.Sequential()))
}

// TestImportPretrainedParity imports the reference's timm, Hugging Face
// (sharded, float32), ViTModel (bfloat16) and DeiT-named (float16) folders
// and compares our forward pass with the reference's on the same input.
func TestImportPretrainedParity(t *testing.T) {
	root := pretrainedReference(t)
	s := openStore(t)
	imagenet := dataset.Normalization{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
	half := dataset.Normalization{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.5, 0.5}}
	want := map[string]struct {
		norm    dataset.Normalization
		resize  string
		crop    float64
		interp  string
		eps     float64
		format  string
		labeled bool
	}{
		"timm":     {imagenet, dataset.ResizeShorter, 0.9, "bicubic", 0, FormatTimm, true},
		"hf":       {half, dataset.ResizeExact, 1, "bilinear", 1e-12, FormatHF, true},
		"hf-model": {half, dataset.ResizeExact, 1, "bilinear", 1e-12, FormatHF, false},
		"deit":     {imagenet, dataset.ResizeExact, 224. / 256, "bicubic", 1e-12, FormatHF, true},
	}
	for _, layout := range pretrainedLayouts {
		var log bytes.Buffer
		req := ImportRequest{File: filepath.Join(root, layout), Name: layout, Log: &log}
		if layout == "hf-model" {
			req.NewHead = 64
		}
		man, err := Import(s, req)
		if err != nil {
			t.Fatalf("%s: %v", layout, err)
		}
		x := readF32(t, filepath.Join(root, layout+".input.f32"))
		ref, err := os.ReadFile(filepath.Join(root, layout+".json"))
		if err != nil {
			t.Fatal(err)
		}
		got := importedLogits(t, s, layout, x, layout == "hf-model")
		d := logitDiff(got, decodeLogits(t, ref))
		t.Logf("%s: max |logit difference| to PyTorch %.3g (%d logits)", layout, d, len(got))
		if d > 1e-4 {
			t.Errorf("%s: logits differ from PyTorch's by up to %g", layout, d)
		}
		w := want[layout]
		recs, err := modelstore.DecodeRecords(man)
		if err != nil {
			t.Fatal(err)
		}
		var pre dataset.Preprocess
		if err := json.Unmarshal(man.Preprocess, &pre); err != nil {
			t.Fatal(err)
		}
		if pre.Resize != w.resize || math.Abs(pre.CropPct-w.crop) > 1e-12 || pre.Interpolation != w.interp ||
			pre.Height != 224 || pre.Width != 224 || pre.Channels != 3 || pre.Scale != [2]float64{0.08, 1} || pre.FlipP != 0.5 {
			t.Errorf("%s: preprocessing %+v", layout, pre)
		}
		if !slices.Equal(recs.Normalization.Mean, w.norm.Mean) || !slices.Equal(recs.Normalization.Std, w.norm.Std) {
			t.Errorf("%s: normalisation %+v, want %+v", layout, recs.Normalization, w.norm)
		}
		if recs.Config.LayerNormEps != w.eps || recs.Config.Heads != 2 || recs.Config.Depth != 2 || recs.Config.MLP != 128 {
			t.Errorf("%s: config %+v", layout, recs.Config)
		}
		var origin importOrigin
		if err := json.Unmarshal(man.Training, &origin); err != nil || origin.Format != w.format || origin.ImportedFrom != req.File ||
			(len(origin.Labels) == 10) != w.labeled || w.labeled && origin.Labels[3] != "class_3" {
			t.Errorf("%s: training origin %s (%v)", layout, man.Training, err)
		}
		if layout == "hf-model" && !strings.Contains(log.String(), "dropped pooler.dense.weight") {
			t.Errorf("hf-model: the pooler was not logged as dropped: %q", log.String())
		}
	}
}

// TestExportPublishedRoundTrip: hf -> export timm -> import gives the same
// logits; export hf runs in the reference forward with the same logits and
// imports back to them too.
func TestExportPublishedRoundTrip(t *testing.T) {
	root := pretrainedReference(t)
	s := openStore(t)
	if _, err := Import(s, ImportRequest{File: filepath.Join(root, "deit"), Name: "src"}); err != nil {
		t.Fatal(err)
	}
	inputFile := filepath.Join(root, "deit.input.f32")
	x := readF32(t, inputFile)
	want := importedLogits(t, s, "src", x, false)
	out := t.TempDir()
	srcMan, _ := s.Get("src")
	for _, format := range []string{FormatTimm, FormatHF} {
		dir := filepath.Join(out, format)
		if err := Export(s, ExportRequest{Name: "src", Path: dir, Format: format}); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		man, err := Import(s, ImportRequest{File: dir, Name: "back-" + format})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if got := importedLogits(t, s, "back-"+format, x, false); !slices.Equal(got, want) {
			t.Errorf("%s: re-imported logits differ by up to %g", format, logitDiff(got, toF64(want)))
		}
		if !bytes.Equal(man.Preprocess, srcMan.Preprocess) || !bytes.Equal(man.Normalization, srcMan.Normalization) {
			t.Errorf("%s: preprocessing %s / normalisation %s, want %s / %s", format, man.Preprocess, man.Normalization,
				srcMan.Preprocess, srcMan.Normalization)
		}
		var o1, o2 importOrigin
		json.Unmarshal(man.Training, &o1)
		json.Unmarshal(srcMan.Training, &o2)
		if !slices.Equal(o1.Labels, o2.Labels) || len(o1.Labels) != 10 {
			t.Errorf("%s: labels %v, want %v", format, o1.Labels, o2.Labels)
		}
	}
	ref := decodeLogits(t, runPython(t, "testdata/pretrained_reference.py", "forward", "hf", filepath.Join(out, FormatHF), inputFile))
	d := logitDiff(want, ref)
	t.Logf("exported hf folder: max |logit difference| to PyTorch %.3g", d)
	if d > 1e-4 {
		t.Errorf("the exported hf folder's logits in PyTorch differ by up to %g", d)
	}
}

func toF64(a []float32) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}
