package durable

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fileCreators are the calls that create or overwrite a file in place.
var fileCreators = regexp.MustCompile(`\bos\.(WriteFile|Create|CreateTemp|OpenFile)\(`)

// allowedCreators are the non-test files that may create files without this
// package, and why.
var allowedCreators = map[string]string{
	"internal/durable/durable.go": "the writer itself",
	"checkpoint/lock.go":          "lock files hold no data",
	"internal/synth/idx.go":       "synthetic data sets for tests and benchmarks",
	"internal/synth/folder.go":    "synthetic image folders for tests",
	"speed/peer.go":               "the torch peer's script, in a temporary folder of its own",
	"datamerge/evolve.go":         "the evolve trajectory: an append-only journal synced after every generation, its torn last line dropped on resume",
}

// TestOneDurableWriter keeps every file the program means to keep on the
// one atomic, fsynced path: no other library or command file creates files.
func TestOneDurableWriter(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	seen := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		seen++
		if _, ok := allowedCreators[rel]; !ok && fileCreators.Match(src) {
			t.Errorf("%s creates a file with %s: write results with durable.WriteFile or durable.Write",
				rel, fileCreators.Find(src))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 50 {
		t.Fatalf("scanned only %d source files under %s", seen, root)
	}
}
