package checkpoint

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

// debianPython is Debian's interpreter, where python3-torch installs; the
// python3 first on PATH may be another one without torch.
const debianPython = testenv.Python

// skipWithoutTorch is the exit code of the script when torch is missing, so
// the slow torch import happens only once per test (testenv.NeedTorch would
// import it a second time); the test then goes through testenv.Need, which
// skips naming python3-torch, or fails where FRANKENVIT_REQUIRE lists torch.
const skipWithoutTorch = 3

// The Python side reads with safetensors.torch.load_file when it is there,
// else with a few lines following the format's spec on top of torch, and
// writes a file of its own in F32, F16, BF16 and F64 for the Go reader.
const pythonSafetensorsScript = `
import json, struct, sys
try:
    import torch
except ImportError:
    sys.exit(3)

src, dst = sys.argv[1], sys.argv[2]

def load(path):
    try:
        from safetensors.torch import load_file
        return load_file(path), "safetensors"
    except ImportError:
        pass
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32) if e > b else torch.zeros(0)
        out[name] = t.reshape(info["shape"])
    return out, "manual"

tensors, how = load(src)
report = {"reader": how, "tensors": {k: {"shape": list(v.shape), "values": v.flatten().tolist()} for k, v in tensors.items()}}

x = torch.arange(6, dtype=torch.float64).reshape(2, 3) / 4 - 0.5
own = {"f32": x.float(), "f16": x.half(), "bf16": x.bfloat16(), "f64": x}
names = {"f32": "F32", "f16": "F16", "bf16": "BF16", "f64": "F64"}
header, blobs, off = {"__metadata__": {"writer": "python"}}, [], 0
for name, t in own.items():
    b = t.contiguous().view(torch.uint8).numpy().tobytes()
    header[name] = {"dtype": names[name], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print(json.dumps(report))
`

func TestSafetensorsWithPyTorch(t *testing.T) {
	t.Parallel() // the torch import is slow; let the other tests run meanwhile
	if _, err := os.Stat(debianPython); err != nil {
		testenv.Need(t, testenv.Torch, err)
	}
	dir := t.TempDir()
	r := rand.New(rand.NewSource(7))
	ts := Tensors{
		"patch_embed.proj.weight": randomTensor(r, 4, 1, 2, 2),
		"blocks.0.attn.qkv.bias":  randomTensor(r, 12),
		"cls_token":               randomTensor(r, 1, 1, 4),
		"scalar":                  {Shape: []int{}, Data: []float32{-1.25}},
	}
	src := filepath.Join(dir, "go.safetensors")
	data, err := EncodeSafetensors(ts, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "check.py")
	os.WriteFile(script, []byte(pythonSafetensorsScript), 0o644)
	dst := filepath.Join(dir, "python.safetensors")
	out, err := exec.Command(debianPython, script, src, dst).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			if ee.ExitCode() == skipWithoutTorch {
				testenv.Need(t, testenv.Torch, fmt.Errorf("%s cannot import torch (Debian has no python3-safetensors package; torch is enough)", debianPython))
			}
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var report struct {
		Reader  string
		Tensors map[string]struct {
			Shape  []int
			Values []float64
		}
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	t.Logf("python read the file with the %s reader", report.Reader)
	got := Tensors{}
	for name, v := range report.Tensors {
		tt := Tensor{Shape: v.Shape, Data: make([]float32, len(v.Values))}
		for i, x := range v.Values {
			tt.Data[i] = float32(x) // Python widened float32 exactly to float64
		}
		got[name] = tt
	}
	if err := sameTensors(ts, got); err != nil {
		t.Fatalf("python read: %v", err)
	}

	back, meta, err := ReadSafetensorsFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if meta["writer"] != "python" {
		t.Errorf("metadata %v", meta)
	}
	// -0.5, -0.25, 0, 0.25, 0.5, 0.75 are exact in every float type.
	want := []float32{-0.5, -0.25, 0, 0.25, 0.5, 0.75}
	for _, name := range []string{"f32", "f16", "bf16", "f64"} {
		tt := back[name]
		if err := sameTensors(Tensors{name: {Shape: []int{2, 3}, Data: want}}, Tensors{name: tt}); err != nil {
			t.Errorf("go read python's %s: %v", name, err)
		}
	}
}
