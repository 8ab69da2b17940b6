package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// TestCountFLOPsHandCount checks every term against a count by hand of a tiny
// config: 4x4 images with 2 channels, patch 2 (N = 4 patches, T = 5 tokens,
// patch size C·P² = 8), width 4, 2 heads, MLP 8, 3 classes.
func TestCountFLOPsHandCount(t *testing.T) {
	c := vit.Config{ImageHeight: 4, ImageWidth: 4, Channels: 2, Patch: 2, Dim: 4, Heads: 2, MLP: 8, Depth: 1,
		Classes: 3, Variant: vit.Baseline}
	want := FLOPs{
		PatchEmbed: 2 * 4 * 8 * 4,       // [4 patches x 8] · [8 x 4]
		QKV:        2 * 5 * 4 * 12,      // [5 x 4] · [4 x 12]
		Scores:     2 * (2 * 5 * 5 * 2), // 2 heads of [5 x 2] · [2 x 5]
		Weighted:   2 * (2 * 5 * 5 * 2), // 2 heads of [5 x 5] · [5 x 2]
		Proj:       2 * 5 * 4 * 4,       // [5 x 4] · [4 x 4]
		FC1:        2 * 5 * 4 * 8,       // [5 x 4] · [4 x 8]
		FC2:        2 * 5 * 8 * 4,       // [5 x 8] · [8 x 4]
		Head:       2 * 4 * 3,           // class token [1 x 4] · [4 x 3]
	}
	got := CountFLOPs(c)
	if got != want {
		t.Fatalf("CountFLOPs = %+v, want %+v", got, want)
	}
	if got.Forward() != 1960 || got.Train() != 3*1960 {
		t.Errorf("forward %d, train %d; want 1960, 5880", got.Forward(), got.Train())
	}
	// Every block term scales with the depth, stem and head do not.
	c.Depth = 2
	if f := CountFLOPs(c).Forward(); f != 256+2*(480+200+200+160+320+320)+24 {
		t.Errorf("depth 2: forward %d, want 3640", f)
	}
}

// TestCountFLOPsModels checks the closed form 2NCP²D + L(8TD² + 4TDM + 4T²D) + 2DK
// and the figure for the default model (about 21.7 MFLOP per training image).
func TestCountFLOPsModels(t *testing.T) {
	for _, m := range SpeedModels() {
		c := m.Config
		N, T, D, M, L := int64(c.Patches()), int64(c.Tokens()), int64(c.Dim), int64(c.MLP), int64(c.Depth)
		closed := 2*N*int64(c.PatchSize())*D + L*(8*T*D*D+4*T*D*M+4*T*T*D) + 2*D*int64(c.Classes)
		if f := CountFLOPs(c).Forward(); f != closed {
			t.Errorf("%s: forward %d, closed form %d", m.Name, f, closed)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		if m.Batch != 64 {
			t.Errorf("%s: batch %d, want 64", m.Name, m.Batch)
		}
	}
	def := CountFLOPs(SpeedModels()[0].Config)
	if def.Forward() != 7230208 || def.Train() != 21690624 {
		t.Errorf("default model: forward %d, train %d; want 7230208, 21690624", def.Forward(), def.Train())
	}
	large := SpeedModels()[1].Config
	if large.Dim != 192 || large.Heads != 3 || large.MLP != 768 || large.Depth != 12 || large.Patch != 4 || large.Tokens() != 50 {
		t.Errorf("large model config %+v", large)
	}
}

// runCLI runs the frankenvit binary bin in a temporary directory.
func runCLI(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestBenchSpeedCLI builds ./cmd/frankenvit once and runs `bench speed` through it.
func TestBenchSpeedCLI(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "frankenvit")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/frankenvit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("table", func(t *testing.T) { testBenchSpeedTable(t, bin) })
	t.Run("json", func(t *testing.T) { testBenchSpeedJSON(t, bin) })
	t.Run("bad input", func(t *testing.T) { testBenchSpeedBadInput(t, bin) })
	t.Run("peer torch", func(t *testing.T) { testBenchSpeedPeerTorch(t, bin) })
}

// tiny is a `bench speed` run of a few seconds.
var tiny = []string{"bench", "speed", "--models", "default", "--steps", "2", "--warmup", "1", "--eval-images", "300", "--gemm-size", "128"}

func testBenchSpeedTable(t *testing.T, bin string) {
	out, errOut, code := runCLI(t, bin, tiny...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, h := range SpeedHeader {
		if !strings.Contains(out, strings.ToUpper(h)) {
			t.Errorf("table lacks column %q:\n%s", h, out)
		}
	}
	for _, want := range []string{"GEMM:", "kernels.Gemm", "7.23 MFLOP forward, 21.69 MFLOP training",
		"OPENBLAS_CORETYPE=", "OPENBLAS_L2_SIZE=", "child process"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var row []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "frankenvit") && strings.Contains(line, "default") {
			for _, cell := range strings.Split(line, "│") {
				if c := strings.TrimSpace(cell); c != "" {
					row = append(row, c)
				}
			}
		}
	}
	// Without a peer the ratio columns hold "-" and "best peer" is empty.
	if len(row) != len(SpeedHeader)-1 {
		t.Fatalf("frankenvit row has %d cells, want %d: %q", len(row), len(SpeedHeader)-1, row)
	}
	for i, cell := range row[4:10] {
		if cell == "-" || strings.HasPrefix(cell, "0 ") || cell == "0" {
			t.Errorf("column %q: %q", SpeedHeader[4+i], cell)
		}
	}
}

func testBenchSpeedJSON(t *testing.T, bin string) {
	out, errOut, code := runCLI(t, bin, append(tiny, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep SpeedReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.GemmPeak.GFLOPS <= 0 || rep.Peak <= 0 || rep.GemmPeak.Size != 128 || rep.Steps != 2 || rep.Warmup != 1 {
		t.Errorf("report %+v", rep)
	}
	if _, ok := rep.Env["OPENBLAS_CORETYPE"]; !ok {
		t.Errorf("env lacks OPENBLAS_CORETYPE: %v", rep.Env)
	}
	if len(rep.Rows) != 1 || len(rep.Models) != 1 {
		t.Fatalf("want one row and one model, got %d, %d", len(rep.Rows), len(rep.Models))
	}
	if mi := rep.Models[0]; mi.Run.EvalImages != 300 || mi.Train != 21690624 || mi.Terms.QKV == 0 {
		t.Errorf("model %+v", mi)
	}
	r := rep.Rows[0]
	if r.Model != "default" || r.Engine != "frankenvit" || r.TrainSteps != 2 || r.TrainImages != 128 || r.EvalImages != 300 {
		t.Errorf("row %+v", r)
	}
	for name, v := range map[string]float64{"train img/s": r.TrainImagesPerSec, "infer img/s": r.InferImagesPerSec,
		"eval 10k s": r.Eval10kSeconds, "train GFLOP/s": r.TrainGFLOPS, "infer GFLOP/s": r.InferGFLOPS,
		"train peak": r.TrainPeak, "infer peak": r.InferPeak, "train RSS": r.RSSTrainMB, "peak RSS": r.RSSPeakMB,
		"Go heap": r.GoHeapMB} {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if r.RSSPeakMB < r.RSSTrainMB {
		t.Errorf("peak RSS %v below training RSS %v", r.RSSPeakMB, r.RSSTrainMB)
	}
}

func testBenchSpeedBadInput(t *testing.T, bin string) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--models", "huge"}, `unknown model "huge"`},
		{[]string{"--steps", "0"}, "--steps"},
		{[]string{"--peer", "jax"}, `unknown peer "jax"`},
		{[]string{"--peer", "torch", "--python", "/bin/false"}, "apt-get install python3-torch"},
		{[]string{"--peer", "torch", "--python", "/nonexistent/python3"}, "apt-get install python3-torch"},
	} {
		_, errOut, code := runCLI(t, bin, append(append([]string(nil), tiny...), tc.args...)...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code == 0 || len(lines) != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("%v: want one error line containing %q and a non-zero exit; got exit %d, stderr:\n%s", tc.args, tc.want, code, errOut)
		}
	}
}

// needTorch skips unless Debian's interpreter can import torch.
func needTorch(t *testing.T) {
	t.Helper()
	if err := exec.Command(DefaultPython, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s cannot import torch (apt-get install python3-torch): %v", DefaultPython, err)
	}
}

// TestTorchSpeedScript runs the embedded peer script for 2 steps on a tiny model.
func TestTorchSpeedScript(t *testing.T) {
	needTorch(t)
	script := filepath.Join(t.TempDir(), "torch_speed.py")
	if err := os.WriteFile(script, TorchSpeedScript, 0o644); err != nil {
		t.Fatal(err)
	}
	run := SpeedRun{Model: SpeedModel{Name: "tiny", Batch: 8, Config: vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1,
		Patch: 4, Dim: 16, Heads: 2, MLP: 32, Depth: 2, Classes: 3, Variant: vit.Shuffle}},
		Steps: 2, Warmup: 1, EvalImages: 40, EvalBatch: 16, Seed: 1}
	cmd := exec.Command(DefaultPython, append([]string{script}, TorchArgs(run, 1)...)...)
	cmd.Env = TorchEnv(os.Environ(), blasDir("libopenblas0-pthread", "openblas-pthread"), 1)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	m, err := ParseTorchOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Engine != "torch" || m.Threads != 1 || m.TrainSteps != 2 || m.TrainImages != 16 || m.EvalImages != 40 ||
		m.TrainSeconds <= 0 || m.EvalSeconds <= 0 || m.RSSPeakMB <= 0 || m.Library == "" || m.Version == "" {
		t.Errorf("parsed %+v from %s", m, out)
	}
	var raw map[string]any
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["params"].(float64) != float64(tinyParams(run.Model.Config)) {
		t.Errorf("torch model has %v parameters, frankenvit's %d", raw["params"], tinyParams(run.Model.Config))
	}
}

// tinyParams is the parameter count of frankenvit's model of c.
func tinyParams(c vit.Config) int {
	m, err := vit.NewModel("p", c)
	if err != nil {
		panic(err)
	}
	return m.NumParams()
}

// testBenchSpeedPeerTorch runs the peer from the CLI in one configuration.
func testBenchSpeedPeerTorch(t *testing.T, bin string) {
	needTorch(t)
	out, errOut, code := runCLI(t, bin, append(tiny, "--eval-images", "64", "--peer", "torch", "--peer-threads", "1",
		"--peer-blas", "openblas", "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep SpeedReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("want a frankenvit and a torch row, got %+v", rep.Rows)
	}
	fv, pt := rep.Rows[0], rep.Rows[1]
	if pt.Engine != "torch" || pt.BLAS != "openblas" || pt.Threads != 1 || !pt.BestTrain || !pt.BestInfer ||
		pt.TrainSteps != 2 || pt.TrainImagesPerSec <= 0 || pt.InferImagesPerSec <= 0 {
		t.Errorf("torch row %+v", pt)
	}
	if blasKind(pt.Library) != "openblas" {
		t.Errorf("torch loaded %q, want OpenBLAS", pt.Library)
	}
	if fv.TrainVs != fv.TrainImagesPerSec/pt.TrainImagesPerSec || fv.InferVs != pt.InferVs || fv.TrainVs != pt.TrainVs {
		t.Errorf("ratios: frankenvit %+v, torch %+v", fv, pt)
	}
}

func TestTorchEnv(t *testing.T) {
	env := TorchEnv([]string{"PATH=/bin", "LD_LIBRARY_PATH=/opt/lib", "OMP_NUM_THREADS=8", "OPENBLAS_CORETYPE=Haswell"}, "/blas", 2)
	got := strings.Join(env, " ")
	for _, want := range []string{"PATH=/bin", "LD_LIBRARY_PATH=/blas:/opt/lib", "OMP_NUM_THREADS=2", "OPENBLAS_NUM_THREADS=2",
		"MKL_NUM_THREADS=2", "OPENBLAS_CORETYPE=Haswell", "OMP_WAIT_POLICY=PASSIVE"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("env %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "OMP_NUM_THREADS=8") {
		t.Errorf("env %q keeps the old thread count", got)
	}
	// A wait policy the user set is kept.
	env = TorchEnv([]string{"OMP_WAIT_POLICY=ACTIVE"}, "", 1)
	if got := strings.Join(env, " "); !strings.Contains(got, "OMP_WAIT_POLICY=ACTIVE") || strings.Contains(got, "PASSIVE") ||
		strings.Contains(got, "LD_LIBRARY_PATH") {
		t.Errorf("env %q", got)
	}
}
