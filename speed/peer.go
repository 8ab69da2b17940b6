package speed

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TorchSpeedScript is speed/torch_speed.py, the PyTorch peer benchmark. It is
// embedded so that the peer runs from any working directory.
//
//go:embed torch_speed.py
var TorchSpeedScript []byte

// DefaultPython is Debian's interpreter, the one python3-torch installs into
// (not whichever python3 comes first on PATH).
const DefaultPython = "/usr/bin/python3"

// torchPeer runs speed/torch_speed.py.
type torchPeer struct {
	python string
	dir    string // holds the script
	script string
	libs   map[string]string // BLAS kind -> directory with its libblas.so.3 ("" = not installed)
	notes  []string
}

// ErrNoTorch says that the peer's interpreter cannot import torch.
var ErrNoTorch = errors.New("--peer torch needs PyTorch from Debian: apt-get install python3-torch")

// newTorchPeer checks that python imports torch (within timeout, or
// importTimeout when 0) and finds the BLAS folders: libs as given, the
// other kinds looked up.
func newTorchPeer(python string, libs map[string]string, timeout time.Duration) (*torchPeer, error) {
	if timeout <= 0 {
		timeout = importTimeout
	}
	if _, err := runChild(python, timeout, python, []string{"-c", "import torch"}, nil); err != nil {
		why := err.Error()
		var ce *ChildError
		if errors.As(err, &ce) {
			why = ce.Reason
		}
		return nil, fmt.Errorf("%w (%s cannot import torch: %s)", ErrNoTorch, python, why)
	}
	dir, err := os.MkdirTemp("", "frankenvit-torch-speed")
	if err != nil {
		return nil, err
	}
	p := &torchPeer{python: python, dir: dir, script: filepath.Join(dir, "torch_speed.py"), libs: map[string]string{}}
	if err := os.WriteFile(p.script, TorchSpeedScript, 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for kind, d := range libs {
		p.libs[kind] = d
	}
	if _, ok := p.libs["openblas"]; !ok {
		p.libs["openblas"] = blasDir("libopenblas0-pthread", "openblas-pthread")
	}
	if _, ok := p.libs["reference"]; !ok {
		p.libs["reference"] = blasDir("libblas3", "blas")
	}
	if p.libs["reference"] == "" {
		p.notes = append(p.notes, "the reference BLAS is not installed (apt-get install libblas3), so its rows are skipped")
	}
	if p.libs["openblas"] == "" {
		p.notes = append(p.notes, "OpenBLAS is not installed (apt-get install libopenblas0-pthread), so its rows are skipped")
	}
	return p, nil
}

func (p *torchPeer) close() { os.RemoveAll(p.dir) }

// blasDir finds the directory holding pkg's libblas.so.3: from dpkg's file
// list, else the usual multiarch place /usr/lib/<triplet>/<sub>.
func blasDir(pkg, sub string) string {
	if out, err := runChild("dpkg -L "+pkg, dpkgTimeout, "dpkg", []string{"-L", pkg}, nil); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(filepath.Base(line), "libblas.so") {
				if _, err := os.Stat(line); err == nil {
					return filepath.Dir(line)
				}
			}
		}
	}
	matches, _ := filepath.Glob(filepath.Join("/usr/lib/*", sub, "libblas.so.3"))
	for _, m := range matches {
		if _, err := os.Stat(m); err == nil { // not a dangling link
			return filepath.Dir(m)
		}
	}
	return ""
}

// torchResult is the JSON line torch_speed.py prints.
type torchResult struct {
	Torch        string            `json:"torch"`
	Threads      int               `json:"threads"`
	BLASLibrary  string            `json:"blas_library"`
	TrainSteps   int               `json:"train_steps"`
	TrainImages  int               `json:"train_images"`
	TrainSeconds float64           `json:"train_seconds"`
	FinalLoss    *float64          `json:"final_loss"`
	EvalImages   int               `json:"eval_images"`
	EvalSeconds  float64           `json:"eval_seconds"`
	RSSBase      float64           `json:"rss_base_mb"`
	RSSTrain     float64           `json:"rss_train_mb"`
	RSSPeak      float64           `json:"rss_peak_mb"`
	Env          map[string]string `json:"env"`
}

// TorchArgs are the torch_speed.py arguments for one run.
func TorchArgs(run SpeedRun, threads int) []string {
	c := run.Model.Config
	a := []string{"--image", strconv.Itoa(c.ImageHeight), "--channels", strconv.Itoa(c.Channels),
		"--patch", strconv.Itoa(c.Patch), "--dim", strconv.Itoa(c.Dim), "--heads", strconv.Itoa(c.Heads),
		"--mlp", strconv.Itoa(c.MLP), "--depth", strconv.Itoa(c.Depth), "--classes", strconv.Itoa(c.Classes),
		"--batch", strconv.Itoa(run.Model.Batch), "--steps", strconv.Itoa(run.Steps), "--warmup", strconv.Itoa(run.Warmup),
		"--eval-images", strconv.Itoa(run.EvalImages), "--eval-batch", strconv.Itoa(run.EvalBatch),
		"--threads", strconv.Itoa(threads), "--seed", strconv.FormatUint(run.Seed, 10)}
	return a
}

// ParseTorchOutput reads the JSON line of torch_speed.py into a Measurement
// (times and memory; rates are derived later).
func ParseTorchOutput(out []byte) (Measurement, error) {
	var r torchResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		return Measurement{}, fmt.Errorf("torch_speed.py printed no result: %v", err)
	}
	if r.TrainImages <= 0 || r.TrainSeconds <= 0 || r.EvalImages <= 0 || r.EvalSeconds <= 0 {
		return Measurement{}, fmt.Errorf("torch_speed.py printed an incomplete result: %s", bytes.TrimSpace(out))
	}
	m := Measurement{Engine: "torch", Version: r.Torch, Library: r.BLASLibrary, Threads: r.Threads,
		TrainSteps: r.TrainSteps, TrainImages: r.TrainImages, TrainSeconds: r.TrainSeconds, EvalImages: r.EvalImages, EvalSeconds: r.EvalSeconds,
		RSSBaseMB: r.RSSBase, RSSTrainMB: r.RSSTrain, RSSPeakMB: r.RSSPeak, FinalLoss: math.NaN(), Env: r.Env}
	if r.FinalLoss != nil {
		m.FinalLoss = *r.FinalLoss
	}
	return m, nil
}

// measure runs one peer configuration. A configuration whose BLAS is not
// installed comes back Skipped, with no error; a process that times out,
// fails or prints no result gives a *ChildError of one line (Speed turns
// it into the row's Failed); any other error is the caller's mistake.
func (p *torchPeer) measure(run SpeedRun, blas string, threads int, budget, timeout time.Duration) (Measurement, error) {
	skipped := Measurement{Model: run.Model.Name, Engine: "torch", BLAS: blas, Threads: threads}
	dir := p.libs[blas]
	if dir == "" {
		skipped.Skipped = "not installed"
		return skipped, nil
	}
	if run.Model.Config.ImageHeight != run.Model.Config.ImageWidth {
		return skipped, fmt.Errorf("torch_speed.py takes square images, %s is %dx%d", run.Model.Name,
			run.Model.Config.ImageHeight, run.Model.Config.ImageWidth)
	}
	args := append([]string{p.script}, TorchArgs(run, threads)...)
	if budget > 0 {
		args = append(args, "--budget", strconv.FormatFloat(budget.Seconds(), 'f', -1, 64))
	}
	name := fmt.Sprintf("torch peer (%s, %s, %s)", run.Model.Name, blas, threadsWord(threads))
	out, err := runChild(name, timeout, p.python, args, TorchEnv(os.Environ(), dir, threads))
	if err != nil {
		return skipped, err
	}
	m, err := ParseTorchOutput(out)
	if err != nil {
		return skipped, &ChildError{Child: name, Reason: oneLine(err.Error())}
	}
	m.Model, m.BLAS = run.Model.Name, blas
	return m, nil
}

// TorchEnv is env with libDir first on LD_LIBRARY_PATH (so torch's
// libblas.so.3 resolves there), OpenMP, OpenBLAS and MKL limited to threads
// threads, and OMP_WAIT_POLICY=PASSIVE unless env sets a policy: with torch's
// OpenMP threads spinning after each parallel region and OpenBLAS's own
// threads on the same two cores, 2-thread PyTorch trains the default model at
// less than half its 1-thread speed; passive waiting is its best setting.
// OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE and everything else pass through
// unchanged.
func TorchEnv(env []string, libDir string, threads int) []string {
	out := make([]string, 0, len(env)+4)
	ld := libDir
	set := map[string]bool{"LD_LIBRARY_PATH": true, "OMP_NUM_THREADS": true, "OPENBLAS_NUM_THREADS": true, "MKL_NUM_THREADS": true}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "LD_LIBRARY_PATH" && v != "" && libDir != "" {
			ld = libDir + ":" + v
		} else if k == "LD_LIBRARY_PATH" && libDir == "" {
			ld = v
		}
		if !set[k] {
			out = append(out, kv)
		}
	}
	n := strconv.Itoa(threads)
	hasPolicy := false
	for _, kv := range out {
		hasPolicy = hasPolicy || strings.HasPrefix(kv, "OMP_WAIT_POLICY=")
	}
	if !hasPolicy {
		out = append(out, "OMP_WAIT_POLICY=PASSIVE")
	}
	if ld != "" {
		out = append(out, "LD_LIBRARY_PATH="+ld)
	}
	return append(out, "OMP_NUM_THREADS="+n, "OPENBLAS_NUM_THREADS="+n, "MKL_NUM_THREADS="+n)
}
