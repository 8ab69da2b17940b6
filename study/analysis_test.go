package study

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/frankenvit/frankenvit/workflow"
)

// Rewriting an analysis removes the figures and tables the new one does not
// have (a position head's, when the model is no longer shuffle-predict), and
// nothing else.
func TestWriteAnalysisRemovesStaleResults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "analysis-m")
	os.MkdirAll(dir, 0o755)
	for _, name := range []string{"head.svg", "head.png", "head-confusion.csv", "probe.svg", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644)
	}
	if err := writeAnalysis(dir, []workflow.AnalysisFile{{Name: "probe.svg", Data: []byte("<svg/>")}, {Name: "options.json", Data: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"probe.svg": "<svg/>", "options.json": "{}", "notes.txt": "old",
		"head.svg": "", "head.png": "", "head-confusion.csv": ""} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if want == "" && err == nil {
			t.Errorf("%s was left behind", name)
		}
		if want != "" && string(got) != want {
			t.Errorf("%s holds %q, want %q", name, got, want)
		}
	}
}
