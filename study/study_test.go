package study

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/analysis"
	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/internal/testenv"
	"github.com/frankenvit/frankenvit/workflow"
)

func tinyStudy(data string) string {
	return fmt.Sprintf(`name: tiny
data: idx:%s
seed: 2
orders: 3
model: {depth: 3, dim: 16, heads: 2, mlp: 24, patch: 4}
train: {epochs: 2, parent_epochs: 3, batch: 8, lr: 0.003}
populations:
  - {name: tb, variant: baseline, size: 2}
  - {name: ts, variant: shuffle, size: 2}
merges:
  - {name: tf, method: random, from: [ts], count: 2}
sweeps:
  - {kind: orders, models: [tb, ts, tf-0], orders: 3, repeats: 1, order_batch: 8}
  - {kind: depth, models: [tb, ts], seeds: 2, references: [tf-1]}
  - {kind: merge, models: [ts], draws: 3}
analyses:
  - {models: [ts], orders: 3, split: test}
  - {models: [tf, tb-1], orders: 3, limit: 10, feature: cls, seed: 4}
`, data)
}

// analysisReports reads back the analyses a study wrote into out.
func analysisReports(t *testing.T, out string, models ...string) []*analysis.Report {
	t.Helper()
	var reps []*analysis.Report
	for _, m := range models {
		raw, err := os.ReadFile(filepath.Join(out, "analysis-"+m, "analysis.json"))
		if err != nil {
			t.Fatal(err)
		}
		var r analysis.Report
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		reps = append(reps, &r)
	}
	return reps
}

func openStore(t *testing.T) *checkpoint.Store {
	s, err := checkpoint.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stripes(t *testing.T) string {
	dir := t.TempDir()
	if err := synth.Stripes(dir, 240, 60, 4); err != nil {
		t.Fatal(err)
	}
	return dir
}

func storeFiles(t *testing.T, s *checkpoint.Store) map[string]string {
	out := map[string]string{}
	filepath.Walk(filepath.Join(s.Dir, "models"), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			raw, _ := os.ReadFile(path)
			out[filepath.Base(path)] = string(raw)
		}
		return nil
	})
	return out
}

// A whole tiny study end to end, then again: the rerun trains nothing,
// builds nothing and reuses every sweep, and the report renders.
func TestStudyRunsAndResumes(t *testing.T) {
	text := []byte(tinyStudy(stripes(t)))
	f, err := Parse(text, "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	plan, err := Check(f, "tiny.yaml", text, s)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	var log bytes.Buffer
	res, err := Run(s, plan, out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	// populations (2), merge (rows + summary), 3 sweeps, 3 analyses x 3
	if len(res.Tables) != 16 {
		t.Errorf("%d headline tables, want 16", len(res.Tables))
	}
	for _, name := range []string{"report.html", "study.yaml", "sweep-1-orders.json", "sweep-2-depth.svg", "sweep-2-depth.png",
		"sweep-3-merge.csv", "merge-tf.json", "table-01.csv", "table-16.csv", "timings.csv",
		"analysis-ts-0/analysis.json", "analysis-ts-0/options.json", "analysis-ts-0/slots.csv", "analysis-ts-0/cka.svg",
		"analysis-ts-0/contribution-accuracy.png", "analysis-tf-0/probe-confusion.svg", "analysis-tb-1/pca-centred.png"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("missing output %s", name)
		}
	}
	// One timing line and one row per step: 2 populations, 1 merge, 3 sweeps, 3 analyses, and the total.
	if n := strings.Count(log.String(), " done in "); n != 9 {
		t.Errorf("%d timing lines in the log, want 9:\n%s", n, log.String())
	}
	if csv, _ := os.ReadFile(filepath.Join(out, "timings.csv")); strings.Count(string(csv), "\n") != 11 || !strings.Contains(string(csv), "total,") {
		t.Errorf("timings.csv:\n%s", csv)
	}
	html, _ := os.ReadFile(res.Report)
	for _, want := range []string{"Wall time", "population tb", "population ts", "merge tf", "Sweep 2-depth", "greedy", "<svg", "name: tiny", "Versions",
		"Analysis ts-0 (first model of ts)", "Analysis tf-0 (first model of tf)", "<h2>Analysis tb-1</h2>", "test split", "the class token"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if svg, _ := os.ReadFile(filepath.Join(out, "analysis-ts-0", "contribution-accuracy.svg")); !bytes.Contains(svg, []byte(`<image preserveAspectRatio="none"`)) {
		t.Error("the heat map's colour bar keeps its 1-pixel aspect in the SVG file")
	}
	// Every table and figure of every analysis is in the report, under its measure.
	reps := analysisReports(t, out, "ts-0", "tf-0", "tb-1")
	figures := 3 // the sweeps'
	for _, r := range reps {
		for _, nt := range r.Tables() {
			if !strings.Contains(string(html), "<caption>"+template.HTMLEscapeString(nt.Table.Title)+"</caption>") {
				t.Errorf("report lacks table %q", nt.Table.Title)
			}
		}
		for _, f := range r.Figures() {
			if !strings.Contains(string(html), "<figcaption>"+template.HTMLEscapeString(f.Caption)+"</figcaption>") {
				t.Errorf("report lacks figure %q", f.Caption)
			}
			figures++
		}
	}
	if got := strings.Count(string(html), "<figure>"); got != figures {
		t.Errorf("report has %d figures, want %d", got, figures)
	}
	for _, m := range analysis.Measures[:3] {
		if strings.Count(string(html), "<h3>"+template.HTMLEscapeString(m.Title)+"</h3>") != 3 {
			t.Errorf("the measure %q is not shown once per analysis", m.Title)
		}
	}
	if reps[0].Split != "test" || len(reps[0].Orders) != 3 || reps[0].Images != 60 || reps[1].Images != 10 ||
		reps[1].Feature != analysis.ClassToken || reps[2].Seed != 4 || reps[2].Model != "tb-1" {
		t.Errorf("the analyses did not take their options: %+v %+v %+v", *reps[0], *reps[1], *reps[2])
	}
	models := storeFiles(t, s)
	sweepJSON, _ := os.ReadFile(filepath.Join(out, "sweep-2-depth.json"))
	analysisJSON := map[string][]byte{}
	for _, m := range []string{"ts-0", "tf-0", "tb-1"} {
		analysisJSON[m], _ = os.ReadFile(filepath.Join(out, "analysis-"+m, "analysis.json"))
	}
	log.Reset()
	res2, err := Run(s, plan, out, &log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "training ") || !strings.Contains(log.String(), "merge tf: already in the store") ||
		strings.Count(log.String(), "results in") != 6 || strings.Contains(log.String(), "analyzing") {
		t.Errorf("the rerun redid work:\n%s", log.String())
	}
	for _, m := range []string{"ts-0", "tf-0", "tb-1"} {
		if again, _ := os.ReadFile(filepath.Join(out, "analysis-"+m, "analysis.json")); !bytes.Equal(again, analysisJSON[m]) {
			t.Errorf("the rerun changed the analysis of %s", m)
		}
	}
	// Every model of the study, manifest for manifest, as the first run left it.
	after := storeFiles(t, s)
	want := []string{"tb-0.json", "tb-1.json", "tb-parent.json", "tf-0.json", "tf-1.json", "ts-0.json", "ts-1.json", "ts-parent.json"}
	if got := slices.Sorted(maps.Keys(models)); !slices.Equal(got, want) {
		t.Errorf("the study stored %v, want %v", got, want)
	}
	if got := slices.Sorted(maps.Keys(after)); !slices.Equal(got, want) {
		t.Errorf("after the rerun the store holds %v, want %v", got, want)
	}
	for name, m := range models {
		if after[name] != m {
			t.Errorf("the rerun changed %s", name)
		}
	}
	if again, _ := os.ReadFile(filepath.Join(out, "sweep-2-depth.json")); !bytes.Equal(again, sweepJSON) {
		t.Error("the rerun changed the depth sweep's results")
	}
	for i := range res.Tables {
		var a, b bytes.Buffer
		res.Tables[i].Render(&a)
		res2.Tables[i].Render(&b)
		if a.String() != b.String() {
			t.Errorf("table %d differs on the rerun:\n%s\n%s", i, a.String(), b.String())
		}
	}
	// A changed option reruns that analysis only.
	text2 := bytes.Replace(text, []byte("{models: [ts], orders: 3, split: test}"), []byte("{models: [ts], orders: 4, split: test}"), 1)
	f2, err := Parse(text2, "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan2, err := Check(f2, "tiny.yaml", text2, s)
	if err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if _, err := Run(s, plan2, out, &log); err != nil {
		t.Fatal(err)
	}
	if strings.Count(log.String(), "results in") != 5 || !strings.Contains(log.String(), "analysis ts-0: test split") ||
		!strings.Contains(log.String(), "analysis tf-0: results in") {
		t.Errorf("a changed option did not rerun exactly its analysis:\n%s", log.String())
	}
	if r := analysisReports(t, out, "ts-0")[0]; len(r.Orders) != 4 {
		t.Errorf("the rerun analysis has %d orders, want 4", len(r.Orders))
	}
	if again, _ := os.ReadFile(filepath.Join(out, "analysis-tf-0", "analysis.json")); !bytes.Equal(again, analysisJSON["tf-0"]) {
		t.Error("a change to another analysis changed tf-0's")
	}
	html, _ = os.ReadFile(res.Report)
	// The report's own script counts what the browser rendered.
	t.Run("chromium", func(t *testing.T) {
		browser := testenv.NeedChromium(t)
		dom, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
			"--virtual-time-budget=5000", "--dump-dom", "file://"+res.Report).Output()
		want := fmt.Sprintf(`id="render-check">ok: %d figures, %d tables<`, strings.Count(string(html), "<figure>"),
			strings.Count(string(html), "<table>"))
		if err != nil || !strings.Contains(string(dom), want) {
			i := strings.Index(string(dom), "render-check")
			t.Errorf("report did not render in chromium (want %s): %v %.200s", want, err, string(dom)[max(i, 0):])
		}
	})
}

func TestCheckNamesEveryProblem(t *testing.T) {
	data := stripes(t)
	text := []byte(fmt.Sprintf(`name: broken
data: idx:%s
populations:
  - {name: a, variant: sideways, size: 2}
  - {name: b, variant: shuffle, size: 0, data: "idx:/no/such/dir"}
  - {name: a, variant: baseline, size: 1, model: {heads: 5}}
  - {name: c, variant: shuffle, size: 20000}
merges:
  - {name: m, method: random, from: [ghost]}
  - {name: n, method: blend, from: [a]}
  - {name: o, method: random, from: [a], count: 20000}
sweeps:
  - {kind: width, models: [a]}
  - {kind: depth, models: [nothere], strategies: "last,bogus"}
  - {kind: orders, models: [a], split: train}
  - {kind: merge-methods, models: [a], methods: "ties,tiez"}
  - {kind: merge, models: [a], draws: 20000}
analyses:
  - {models: [ghost2, a], orders: -1, limit: 1, split: holdout, feature: max}
  - {models: []}
  - {models: [a-0], limit: -5}
`, data))
	f, err := Parse(text, "broken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	_, err = Check(f, "broken.yaml", text, s)
	if err == nil {
		t.Fatal("a broken study passed")
	}
	for _, want := range []string{`unknown variant "sideways"`, "population 2 (b): size must be from 1 to 10000, got 0", "population 4 (c): size must be from 1 to 10000, got 20000", "/no/such/dir", "already used by population 1",
		"heads 5 does not divide dim 64", "from names ghost", `unknown method "blend"`, `unknown kind "width"`, `"bogus"`,
		"nothere is not a population", "split must be test or val", `sweep 4 (merge-methods): methods: unknown merge method(s) "tiez"`,
		"analysis 1: ghost2 is not a population", "merge 3 (o): count must be from 1 to 10000, got 20000",
		"sweep 5 (merge): orders must be at most 100000, and seeds, draws and repeats at most 10000", "analysis 1: orders must be from 0 (2 x depth) to 100000, got -1",
		"analysis 1: limit must be 0 (every image) or at least 2, got 1", `analysis 1: split must be val, test or train, got "holdout"`,
		`analysis 1: feature: unknown feature "max"`, "analysis 2: models names nothing to analyse",
		"analysis 3: a-0 is already analysed by analysis 1", "analysis 3: limit must be 0 (every image) or at least 2, got -5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Error("the error spans several lines")
	}
	if len(storeFiles(t, s)) != 0 {
		t.Error("checking a study stored something")
	}
}

// An analysis naming a population or a merge of several models analyses
// its first model; a model is analysed under its own name; the options
// default to those of frankenvit analyze.
func TestCheckResolvesAnalyses(t *testing.T) {
	data := stripes(t)
	s := openStore(t)
	if err := s.PutRecord("populations", "old", workflow.PopulationSummary{Prefix: "old"}); err != nil {
		t.Fatal(err)
	}
	text := []byte(fmt.Sprintf(`name: resolve
data: idx:%s
model: {patch: 4}
populations:
  - {name: p, variant: shuffle, size: 2}
merges:
  - {name: f, method: random, from: [p], count: 2}
  - {name: one, method: uniform-soup, from: [p]}
analyses:
  - {models: [p, f, one, p-1, p-parent, old]}
  - {models: [f-1], orders: 5, limit: 0, split: train, feature: cls, seed: 9}
`, data))
	f, err := Parse(text, "resolve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Check(f, "resolve.yaml", text, s)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range plan.Analyses {
		r := j.Req
		got = append(got, fmt.Sprintf("%d %s=%s %s %d %d %s %d", j.Entry, j.As, r.Name, r.Split, r.Limit, r.Options.Orders,
			r.Options.Feature, r.Options.Seed))
	}
	want := []string{"1 p=p-0 val 2000 0 mean 0", "1 f=f-0 val 2000 0 mean 0", "1 one=one val 2000 0 mean 0",
		"1 p-1=p-1 val 2000 0 mean 0", "1 p-parent=p-parent val 2000 0 mean 0", "1 old=old-0 val 2000 0 mean 0",
		"2 f-1=f-1 train 0 5 cls 9"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("analyses resolved to\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Without a validation split, the default split cannot be analysed.
	noVal := bytes.Replace(text, []byte("populations:"), []byte("val_frac: 0\npopulations:"), 1)
	f, _ = Parse(noVal, "resolve.yaml")
	if _, err := Check(f, "resolve.yaml", noVal, s); err == nil || !strings.Contains(err.Error(), "p-0 has no validation split") ||
		strings.Contains(err.Error(), "f-1 has no") {
		t.Errorf("an analysis of an empty validation split passed, or one of the train split failed: %v", err)
	}
	// A study of analyses alone, of models in the store, is a study.
	alone := []byte("name: alone\nanalyses:\n  - {models: [old]}\n")
	f, _ = Parse(alone, "alone.yaml")
	if plan, err := Check(f, "alone.yaml", alone, s); err != nil || len(plan.Analyses) != 1 {
		t.Errorf("a study of analyses alone: %v", err)
	}
}

func TestParseIsStrict(t *testing.T) {
	for _, bad := range []string{"name: x\npopulation: []\n", "name: x\n---\nname: y\n", "name: [\n", "populations: {a: 1}\n",
		"name: x\nanalyses: [{model: a}]\n", "name: x\nanalyses: [{models: a, limit: all}]\n"} {
		if _, err := Parse([]byte(bad), "bad.yaml"); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestQuickstartIsTheExample(t *testing.T) {
	example, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(example, Quickstart) {
		t.Error("examples/quickstart.yaml differs from the built-in quickstart")
	}
	for _, file := range []string{"../examples/quickstart.yaml", "../examples/paper-fashion-mnist.yaml", "../examples/merge-methods.yaml"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(text, file)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(text), "fashion") {
				testenv.NeedFashionMNIST(t)
			}
			if _, err := Check(f, file, text, openStore(t)); err != nil {
				t.Errorf("%s: %v", file, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Quickstart))
	f.Add([]byte("name: a\npopulations: [{name: p, variant: shuffle, size: 2}]\n"))
	f.Add([]byte("sweeps: [{kind: depth, models: [x], repeats: -1}]"))
	f.Add([]byte("name: a\npopulations: [{name: p, variant: shuffle, size: 2}]\nanalyses: [{models: [p, p-1], orders: 3, limit: 0, feature: cls}]\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		file, err := Parse(raw, "fuzz.yaml")
		if err != nil {
			return
		}
		// Checking never panics, whatever parsed (data sets are not loaded for
		// specs that are not directories of synthetic data).
		for i := range file.Populations {
			file.Populations[i].Data = "idx:/nonexistent"
		}
		file.Data = "idx:/nonexistent"
		s, err := checkpoint.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		Check(file, "fuzz.yaml", raw, s)
	})
}
