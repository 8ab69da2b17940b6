package workflow

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/analysis"
	"github.com/frankenvit/frankenvit/vit"
)

// Analyze a stored shuffle-predict model: its numbers agree with eval on the
// same images, and the files land in the output directory.
func TestAnalyzeStoredModel(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	req := tinyRequest("sp", dir, vit.ShufflePredict)
	req.Options.Epochs = 3
	if _, err := Train(s, req); err != nil {
		t.Fatal(err)
	}
	rep, err := Analyze(s, AnalyzeRequest{Name: "sp", Limit: 60, Options: analysis.Options{Orders: 3, Seed: 4}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Eval(s, EvalRequest{Name: "sp", Split: "val", Order: "sequential", Limit: 60})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy != ev.Accuracy || rep.Images != 60 || rep.Split != "val" || rep.Data != "idx:"+dir {
		t.Errorf("analysis: accuracy %v on %d %s images of %s; eval says %v", rep.Accuracy, rep.Images, rep.Split,
			rep.Data, ev.Accuracy)
	}
	// The lens after the last slot of the random orders is their mean accuracy under eval.
	var mean float64
	for _, o := range rep.Orders {
		ev, err := Eval(s, EvalRequest{Name: "sp", Split: "val", Order: fmt.Sprintf("%d,%d,%d", o[0], o[1], o[2]), Limit: 60})
		if err != nil {
			t.Fatal(err)
		}
		mean += ev.Accuracy / float64(len(rep.Orders))
	}
	if math.Abs(rep.Lens.Random[2]-mean) > 1e-12 {
		t.Errorf("lens after the last slot over the random orders %v, eval %v", rep.Lens.Random[2], mean)
	}
	if rep.Head == nil || rep.Head.Samples != 3*60*3 {
		t.Errorf("position heads: %+v, want 3 blocks x 60 images x 3 orders", rep.Head)
	}

	out := filepath.Join(t.TempDir(), "out")
	files, err := SaveAnalysis(rep, AnalysisOutput{Dir: out, Format: "svg", CSV: true, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"analysis.json", "contribution-accuracy.csv", "probe.csv", "head.svg", "cka.svg", "pca.svg"} {
		if _, err := os.Stat(filepath.Join(out, want)); err != nil {
			t.Errorf("missing %s: %v", want, err)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != len(files) {
		t.Errorf("%d files in --out, %d written (temporary files left?)", len(entries), len(files))
	}
	raw, _ := os.ReadFile(filepath.Join(out, "analysis.json"))
	var back analysis.Report
	if err := json.Unmarshal(raw, &back); err != nil || back.Accuracy != rep.Accuracy || back.Model != "sp" {
		t.Errorf("analysis.json: %v, accuracy %v", err, back.Accuracy)
	}
}

func TestAnalyzeRefusesBadRequests(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	req := tinyRequest("b", dir, vit.Baseline)
	req.Options.Epochs = 1
	if _, err := Train(s, req); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  AnalyzeRequest
		want string
	}{
		{AnalyzeRequest{Name: "nope"}, "nope"},
		{AnalyzeRequest{Name: "b", Split: "dev"}, "--split"},
		{AnalyzeRequest{Name: "b", Limit: 1}, "at least 2"},
		{AnalyzeRequest{Name: "b", Limit: -3}, "--limit"},
		{AnalyzeRequest{Name: "b", Options: analysis.Options{Orders: -1}}, "--orders"},
		{AnalyzeRequest{Name: "b", Options: analysis.Options{Feature: "max"}}, "--feature"},
		{AnalyzeRequest{Name: "b", Data: "idx:" + t.TempDir()}, "train-images"},
	} {
		if _, err := Analyze(s, c.req); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %q", c.req, err, c.want)
		}
	}
	file := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(file, nil, 0o644)
	for _, o := range []AnalysisOutput{{Dir: file, Format: "png"}, {Dir: t.TempDir(), Format: "gif"}, {Format: "png"}} {
		if err := o.Check(); err == nil {
			t.Errorf("output %+v accepted", o)
		}
	}
}
