package study

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/synth"
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
`, data)
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
	// populations (2), merge (rows + summary), 3 sweeps
	if len(res.Tables) != 7 {
		t.Errorf("%d headline tables, want 7", len(res.Tables))
	}
	for _, name := range []string{"report.html", "study.yaml", "sweep-1-orders.json", "sweep-2-depth.svg", "sweep-2-depth.png",
		"sweep-3-merge.csv", "merge-tf.json", "table-01.csv"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("missing output %s", name)
		}
	}
	html, _ := os.ReadFile(res.Report)
	for _, want := range []string{"population tb", "population ts", "merge tf", "Sweep 2-depth", "greedy", "<svg", "name: tiny", "Versions"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	models := storeFiles(t, s)
	sweepJSON, _ := os.ReadFile(filepath.Join(out, "sweep-2-depth.json"))
	log.Reset()
	res2, err := Run(s, plan, out, &log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "training ") || !strings.Contains(log.String(), "merge tf: already in the store") ||
		strings.Count(log.String(), "results in") != 3 {
		t.Errorf("the rerun redid work:\n%s", log.String())
	}
	after := storeFiles(t, s)
	for name, m := range models {
		if after[name] != m && !strings.HasPrefix(name, "t") {
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
	if browser, err := exec.LookPath("chromium"); err == nil {
		dom, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
			"--dump-dom", "file://"+res.Report).Output()
		if err != nil || !strings.Contains(string(dom), `id="render-check">ok: 3 figures`) {
			i := strings.Index(string(dom), "render-check")
			t.Errorf("report did not render in chromium: %v %.200s", err, string(dom)[max(i, 0):])
		}
	} else {
		t.Log("chromium not installed (Debian package chromium): the report was not opened in a browser")
	}
}

func TestCheckNamesEveryProblem(t *testing.T) {
	data := stripes(t)
	text := []byte(fmt.Sprintf(`name: broken
data: idx:%s
populations:
  - {name: a, variant: sideways, size: 2}
  - {name: b, variant: shuffle, size: 0, data: "idx:/no/such/dir"}
  - {name: a, variant: baseline, size: 1, model: {heads: 5}}
merges:
  - {name: m, method: random, from: [ghost]}
  - {name: n, method: blend, from: [a]}
sweeps:
  - {kind: width, models: [a]}
  - {kind: depth, models: [nothere], strategies: "last,bogus"}
  - {kind: orders, models: [a], split: train}
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
	for _, want := range []string{`unknown variant "sideways"`, "size must be positive", "/no/such/dir", "already used by population 1",
		"heads 5 does not divide dim 64", "from names ghost", `unknown method "blend"`, `unknown kind "width"`, `"bogus"`,
		"nothere is not a population", "split must be test or val"} {
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

func TestParseIsStrict(t *testing.T) {
	for _, bad := range []string{"name: x\npopulation: []\n", "name: x\n---\nname: y\n", "name: [\n", "populations: {a: 1}\n"} {
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
	for _, file := range []string{"../examples/quickstart.yaml", "../examples/paper-fashion-mnist.yaml"} {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(text, file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(file, "fashion") {
			if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
				t.Log("skipping the check of the paper study: needs Debian package dataset-fashion-mnist")
				continue
			}
		}
		if _, err := Check(f, file, text, openStore(t)); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Quickstart))
	f.Add([]byte("name: a\npopulations: [{name: p, variant: shuffle, size: 2}]\n"))
	f.Add([]byte("sweeps: [{kind: depth, models: [x], repeats: -1}]"))
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
