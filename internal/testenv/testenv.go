package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Features a test may need, with the Debian package that provides each.
const (
	Torch        = "torch"         // python3-torch, importable by /usr/bin/python3
	OpenBLAS     = "openblas"      // libopenblas0-pthread, the BLAS the torch peer is measured with
	Chromium     = "chromium"      // chromium, for headless rendering of reports
	FashionMNIST = "fashion-mnist" // dataset-fashion-mnist, the real-data tests
	PIL          = "pil"           // python3-pil, importable by /usr/bin/python3: the resampling reference
)

// Packages maps each feature to the Debian package that installs it.
var Packages = map[string]string{
	Torch:        "python3-torch",
	OpenBLAS:     "libopenblas0-pthread",
	Chromium:     "chromium",
	FashionMNIST: "dataset-fashion-mnist",
	PIL:          "python3-pil",
}

// RequireVariable names the environment variable listing the features whose
// absence fails a test instead of skipping it.
const RequireVariable = "FRANKENVIT_REQUIRE"

// Python is Debian's interpreter, the one python3-torch installs into.
const Python = "/usr/bin/python3"

// FashionMNISTDir is where dataset-fashion-mnist puts its files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// Required reports whether FRANKENVIT_REQUIRE lists feature (or "all").
func Required(feature string) bool {
	for _, f := range strings.Split(os.Getenv(RequireVariable), ",") {
		if f = strings.TrimSpace(f); f == feature || f == "all" {
			return true
		}
	}
	return false
}

// Need skips t when missing is not nil, naming feature's Debian package and
// the reason; when FRANKENVIT_REQUIRE lists feature, it fails t instead.
func Need(t testing.TB, feature string, missing error) {
	t.Helper()
	if missing == nil {
		return
	}
	pkg, ok := Packages[feature]
	if !ok {
		t.Fatalf("testenv: unknown feature %q", feature)
	}
	msg := fmt.Sprintf("needs Debian package %s (apt-get install %s): %v", pkg, pkg, missing)
	if Required(feature) {
		t.Fatalf("%s, and %s=%s requires it", msg, RequireVariable, os.Getenv(RequireVariable))
		return
	}
	t.Skip(msg)
}

// pythonImports reports whether /usr/bin/python3 imports module.
func pythonImports(module string) func() error {
	return sync.OnceValue(func() error {
		out, err := exec.Command(Python, "-c", "import "+module).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s cannot import %s: %v %s", Python, module, err, strings.TrimSpace(lastLine(string(out))))
		}
		return nil
	})
}

var torchOnce, pilOnce = pythonImports("torch"), pythonImports("PIL")

// NeedTorch needs /usr/bin/python3 to import torch.
func NeedTorch(t testing.TB) {
	t.Helper()
	Need(t, Torch, torchOnce())
}

// NeedPIL needs /usr/bin/python3 to import PIL (Pillow).
func NeedPIL(t testing.TB) {
	t.Helper()
	Need(t, PIL, pilOnce())
}

// OpenBLASDirs are the folders in which libopenblas0-pthread puts its
// libblas.so.3 (Debian's multiarch layout).
var OpenBLASDirs = []string{"/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/aarch64-linux-gnu/openblas-pthread"}

// NeedOpenBLAS needs OpenBLAS's libblas.so.3 and returns its folder.
func NeedOpenBLAS(t testing.TB) string {
	t.Helper()
	for _, d := range OpenBLASDirs {
		if _, err := os.Stat(d + "/libblas.so.3"); err == nil {
			return d
		}
	}
	Need(t, OpenBLAS, fmt.Errorf("no libblas.so.3 in %s", strings.Join(OpenBLASDirs, " or ")))
	return ""
}

// NeedChromium needs a headless Chromium and returns its path.
func NeedChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Need(t, Chromium, fmt.Errorf("neither chromium nor chromium-browser is on PATH"))
	return ""
}

// NeedFashionMNIST needs the Fashion-MNIST files and returns their folder.
func NeedFashionMNIST(t testing.TB) string {
	t.Helper()
	_, err := os.Stat(FashionMNISTDir)
	Need(t, FashionMNIST, err)
	return FashionMNISTDir
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
