package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// A model trained with --limit L is measured on the whole test split unless
// the command's own limit says otherwise, wherever its data options are
// reused (eval, analyze, sweeps and prune through LoadModelData, merge
// evaluation); its validation split is the one its training validated on.
func TestEvalLimits(t *testing.T) {
	dir := t.TempDir()
	const trainN, testN, limit = 300, 140, 100 // limit < testN, so a limited test split shows
	if err := synth.Stripes(dir, trainN, testN, 4); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	req := tinyRequest("lim", dir, vit.Shuffle)
	req.Options.Epochs = 2
	req.Data.Limit, req.Data.ValFrac, req.Data.ValSeed = limit, 0.25, 9
	out, err := Train(s, req)
	if err != nil {
		t.Fatal(err)
	}
	best := out.History[out.BestEpoch-1]
	if out.TestImages != limit || out.ValImages != limit/4 {
		t.Errorf("the training measured %d test and %d validation images, want its --limit %d and %d", out.TestImages, out.ValImages, limit, limit/4)
	}

	// The test split is whole; the request's Limit shortens it.
	ev, err := Eval(s, EvalRequest{Name: "lim", Split: "test", Order: "sequential"})
	if err != nil || ev.Images != testN {
		t.Fatalf("eval of a --limit %d model: %d test images (want all %d), %v", limit, ev.Images, testN, err)
	}
	for _, l := range []int{30, testN, 10 * testN} {
		ev, err := Eval(s, EvalRequest{Name: "lim", Split: "test", Order: "sequential", Limit: l})
		if want := min(l, testN); err != nil || ev.Images != want {
			t.Errorf("eval --limit %d: %d images, want %d (%v)", l, ev.Images, want, err)
		}
	}
	if _, err := Eval(s, EvalRequest{Name: "lim", Split: "test", Order: "sequential", Limit: -1}); err == nil {
		t.Error("eval --limit -1 accepted")
	}

	// The validation split holds the very images the training validated
	// on: the training's loader and the stored record give the same bytes,
	// and the evaluator scores them as the training's best epoch did.
	trained, err := modelstore.LoadData(req.Data)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := modelstore.Load(s, "lim")
	if err != nil {
		t.Fatal(err)
	}
	recs := lim.Records
	if recs.Training.Data != req.Data {
		t.Fatalf("stored data options %+v, trained with %+v", recs.Training.Data, req.Data)
	}
	again, err := modelstore.LoadTrainedData(recs.Training.Data)
	if err != nil {
		t.Fatal(err)
	}
	tv, ev2 := trained.Val, again.Val
	if tv.N != limit/4 || ev2.N != tv.N || !bytes.Equal(tv.Pixels, ev2.Pixels) || !bytes.Equal(tv.Labels, ev2.Labels) {
		t.Fatalf("validation split: %d images at training, %d at evaluation (want %d, the same bytes)", tv.N, ev2.N, limit/4)
	}
	if trained.Test.N != limit || again.Test.N != testN {
		t.Errorf("test split: %d images at training (want its --limit %d), %d when measuring (want all %d)", trained.Test.N, limit, again.Test.N, testN)
	}
	// The same carve with the limit applied after the split, or without
	// it, would give other validation images: the comparison above can fail.
	unlimited := req.Data
	unlimited.Limit = 0
	if other, err := modelstore.LoadData(unlimited); err != nil || bytes.Equal(other.Val.Pixels[:tv.ImageSize()*tv.N], tv.Pixels) {
		t.Fatalf("the validation split does not depend on the training's limit (%v): the test proves nothing", err)
	}
	val, err := Eval(s, EvalRequest{Name: "lim", Split: "val", Order: "sequential"})
	if err != nil || val.Images != limit/4 || val.Accuracy != best.ValAcc {
		t.Errorf("eval --split val: %d images, accuracy %v; the training validated %d images at %v (%v)", val.Images, val.Accuracy, limit/4, best.ValAcc, err)
	}

	// Analyze, LoadModelData (sweeps, prune), sweeps, prune and merge
	// evaluation see the whole test split too.
	rep, err := Analyze(s, AnalyzeRequest{Name: "lim", Split: "test", Limit: 0})
	if err != nil || rep.Images != testN {
		t.Errorf("analyze --split test --limit 0: %v images, %v", rep, err)
	}
	md, err := modelstore.LoadModelData(s, "lim", "", nil)
	if err != nil || md.Data.Test.N != testN || md.Data.Val.N != limit/4 || md.Data.Train.N != limit-limit/4 {
		t.Errorf("LoadModelData: %+v, %v", md, err)
	}
	for _, l := range []int{0, 20} {
		o := sweep.Options{Names: []string{"lim"}, Split: "test", Limit: l}
		subjects, err := sweepSubjects(s, o.Names, true, o, map[modelstore.DataOptions]*modelstore.Data{})
		if err != nil || len(subjects) != 1 {
			t.Fatalf("sweep subjects: %v, %v", subjects, err)
		}
		loaded, err := subjects[0].Load()
		want := testN
		if l > 0 {
			want = l
		}
		if err != nil || loaded.Test.N != want || loaded.Val.N != limit/4 {
			t.Errorf("a sweep with --limit %d measures %d test images (want %d) and %d validation images, %v", l, loaded.Test.N, want, loaded.Val.N, err)
		}
	}
	pr, err := Prune(s, PruneRequest{Name: "lim", Out: "lim-p", Remove: 1, Strategy: "last"})
	if err != nil || pr.TestImages != testN {
		t.Errorf("prune: %+v, %v", pr, err)
	}
	seq, _ := Eval(s, EvalRequest{Name: "lim", Split: "test", Order: "sequential"})
	if pr != nil && pr.SourceTestAccuracy != seq.Accuracy {
		t.Errorf("prune reports the source at %v, eval of the whole test split gives %v", pr.SourceTestAccuracy, seq.Accuracy)
	}
	mo, err := Merge(s, MergeRequest{Out: "lim-m", From: []string{"lim"}, Method: "random", Count: 1, Seed: 1, Eval: true})
	if err != nil || mo.TestImages != testN || mo.ValImages != limit/4 {
		t.Errorf("merge evaluation: %d test and %d validation images (want %d and %d), %v", mo.TestImages, mo.ValImages, testN, limit/4, err)
	}
	mo, err = Merge(s, MergeRequest{Out: "lim-m2", From: []string{"lim"}, Method: "random", Count: 1, Seed: 1, Eval: true, Limit: 10})
	if err != nil || mo.TestImages != 10 || mo.ValImages != 10 {
		t.Errorf("merge --limit 10: %d test and %d validation images, %v", mo.TestImages, mo.ValImages, err)
	}
}

// badManifest stores a copy of model good's manifest as name with one JSON
// field replaced (raw is written into the file as is, so it may be what no
// encoder writes, such as NaN).
func badManifest(t *testing.T, s *checkpoint.Store, good, name, field, raw string) {
	t.Helper()
	man, err := s.Get(good)
	if err != nil {
		t.Fatal(err)
	}
	c := *man
	c.Name = name
	const marker = `"frankenvit-test-marker"`
	switch field {
	case "config":
		c.Config = json.RawMessage(marker)
	case "normalization":
		c.Normalization = json.RawMessage(marker)
	case "training":
		c.Training = json.RawMessage(marker)
	case "recipe":
		c.Recipe = json.RawMessage(marker)
	case "history":
		c.History = json.RawMessage(marker)
	default:
		t.Fatalf("field %q", field)
	}
	data, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte(marker), []byte(raw), 1)
	if err := os.WriteFile(filepath.Join(s.Dir, "models", name+".json"), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every manifest that cannot be used is refused by every use case that
// loads it, with one line naming the model and the field, before anything
// is computed or stored: the store is byte for byte unchanged.
func TestBadManifestsRefused(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	req := tinyRequest("good", dir, vit.Baseline)
	req.Options.Epochs = 1
	if _, err := Train(s, req); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, field, raw, want string
	}{
		{"norm-len", "normalization", `{"mean":[0.1,0.2],"std":[0.3,0.3]}`,
			"model norm-len: manifest field normalization: 2 mean(s) and 2 std(s) for images of 1 channel(s): want one of each per channel"},
		{"norm-std0", "normalization", `{"mean":[0.1],"std":[0]}`,
			"model norm-std0: manifest field normalization: channel 0 has std 0: want a positive finite number"},
		{"norm-stdneg", "normalization", `{"mean":[0.1],"std":[-0.5]}`,
			"model norm-stdneg: manifest field normalization: channel 0 has std -0.5: want a positive finite number"},
		{"norm-std-tiny", "normalization", `{"mean":[0.1],"std":[1e-50]}`, // rounds to float32 0
			"model norm-std-tiny: manifest field normalization: channel 0 has std 0: want a positive finite number"},
		{"norm-std-inf", "normalization", `{"mean":[0.1],"std":[1e39]}`,
			"model norm-std-inf: manifest field normalization: std is number 1e39, which does not fit a Go float32"},
		{"norm-mean-inf", "normalization", `{"mean":[-1e400],"std":[0.3]}`,
			"model norm-mean-inf: manifest field normalization: mean is number -1e400, which does not fit a Go float32"},
		{"norm-std-nan", "normalization", `{"mean":[0.1],"std":[NaN]}`,
			`model norm-std-nan: manifest (` + filepath.Join(s.Dir, "models", "norm-std-nan.json") + `): unreadable: invalid JSON in field normalization at line`},
		{"norm-missing", "normalization", `null`,
			"model norm-missing: manifest field normalization: missing"},
		{"norm-typo", "normalization", `{"mean":[0.1],"sdt":[0.3]}`,
			`model norm-typo: manifest field normalization: unknown field "sdt"`},
		{"train-type", "training", `{"data":{"data":"mnist","val_frac":"0.1"}}`,
			"model train-type: manifest field training: data.val_frac is a JSON string, want a number"},
		{"train-list", "training", `[1,2]`,
			"model train-list: manifest field training: the value is a JSON array, want an object"},
		{"train-typo", "training", `{"data":{"data":"mnist","valfrac":0.5}}`,
			`model train-typo: manifest field training: unknown field "valfrac"`},
		{"train-frac", "training", `{"data":{"data":"mnist","val_frac":1.5}}`,
			"model train-frac: manifest field training: data.val_frac is 1.5, want 0 <= val_frac < 1"},
		{"config-type", "config", `{"dim":"sixteen"}`,
			"model config-type: manifest field config: dim is a JSON string, want a number"},
		{"config-invalid", "config", `{"image_height":8,"image_width":8,"channels":1,"patch":4,"dim":16,"heads":3,"mlp":24,"depth":3,"classes":4,"variant":"baseline"}`,
			"model config-invalid: manifest field config: invalid model config: heads 3 does not divide dim 16"},
		{"config-huge", "config", `{"image_height":8,"image_width":8,"channels":1,"patch":4,"dim":1000000000,"heads":1,"mlp":24,"depth":3,"classes":4,"variant":"baseline"}`,
			"model config-huge: manifest field config: invalid model config: dim 1000000000 is over the limit of 65536"},
		{"config-other", "config", `{"image_height":8,"image_width":8,"channels":1,"patch":4,"dim":32,"heads":2,"mlp":24,"depth":3,"classes":4,"variant":"baseline"}`,
			"model config-other: manifest field config: patch_embed.proj.weight is [16 1 4 4] in the stored stem, but the config gives [32 1 4 4] (baseline, 8x8x1, patch 4, dim 32"},
		{"recipe-type", "recipe", `{"method":"random","from":"a"}`,
			"model recipe-type: manifest field recipe: from is a JSON string, want an array"},
		{"recipe-other", "recipe", `{"steps":[1]}`,
			`model recipe-other: manifest field recipe: neither a merge's record (with a "method") nor a prune's (with "kind": "prune")`},
		{"recipe-prune", "recipe", `{"kind":"prune","kept":"all"}`,
			"model recipe-prune: manifest field recipe: kept is a JSON string, want an array"},
		{"history-type", "history", `{"epoch":1}`,
			"model history-type: manifest field history: the value is a JSON object, want an array"},
	}
	for _, c := range cases {
		badManifest(t, s, "good", c.name, c.field, c.raw)
	}
	before := snapshotDir(t, s.Dir)
	calls := []struct {
		what string
		run  func(name string) error
	}{
		{"eval", func(n string) error {
			_, err := Eval(s, EvalRequest{Name: n, Split: "test", Order: "sequential"})
			return err
		}},
		{"analyze", func(n string) error {
			_, err := Analyze(s, AnalyzeRequest{Name: n, Limit: 50})
			return err
		}},
		{"prune", func(n string) error {
			_, err := Prune(s, PruneRequest{Name: n, Out: n + "-pruned", Remove: 1, Strategy: "last"})
			return err
		}},
		{"merge", func(n string) error {
			_, err := Merge(s, MergeRequest{Out: n + "-merged", From: []string{"good", n}, Method: "uniform-soup", Eval: true})
			return err
		}},
		{"train --init", func(n string) error {
			r := tinyRequest(n+"-child", dir, vit.Baseline)
			r.Init = n
			_, err := Train(s, r)
			return err
		}},
		{"bench orders", func(n string) error {
			_, err := Sweep(s, SweepRequest{Kind: sweep.Orders, Options: sweep.Options{Names: []string{n}, Orders: 2, OrderBatch: 8, Seed: 1}})
			return err
		}},
	}
	for _, c := range cases {
		for _, call := range calls {
			err := call.run(c.name)
			switch {
			case err == nil:
				t.Errorf("%s of %s (%s %s): accepted", call.what, c.name, c.field, c.raw)
			case !strings.Contains(err.Error(), c.want) || strings.ContainsAny(err.Error(), "\n\r"):
				t.Errorf("%s of %s:\n got %v\nwant %s", call.what, c.name, err, c.want)
			}
		}
		// CheckManifest (store show, store ls) reads no blob, so it cannot
		// see that a valid config does not describe the stored weights.
		err := CheckManifestFile(t, s, c.name)
		if c.name == "config-other" {
			if err != nil {
				t.Errorf("CheckManifest of %s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckManifest of %s: %v", c.name, err)
		}
		t.Logf("%s: %v", c.name, err)
	}
	if after := snapshotDir(t, s.Dir); !bytes.Equal(before, after) {
		t.Error("a refused manifest changed the store")
	}
	// store ls lists them all and names the broken ones in its error.
	rows, err := ListModels(s)
	if len(rows) != len(cases) || err == nil || !strings.Contains(err.Error(), "model config-type: manifest field config") {
		t.Errorf("ListModels: %d rows, %v", len(rows), err)
	}
	// store show shows the problem instead of zeros.
	man, err := s.Get("config-type")
	if err != nil {
		t.Fatal(err)
	}
	rows2 := rowsOf(t, DescribeManifest(man)[0])
	if !strings.Contains(rows2["problem"], "dim is a JSON string") || rows2["sizes"] != "" {
		t.Errorf("store show of a manifest whose config does not decode: %v", rows2)
	}
}

// CheckManifestFile is CheckManifest of a stored model, or the store's own
// error when the manifest does not even read.
func CheckManifestFile(t *testing.T, s *checkpoint.Store, name string) error {
	t.Helper()
	man, err := s.Get(name)
	if err != nil {
		return err
	}
	return CheckManifest(man)
}

// A resume state that was corrupted (a flipped byte) or truncated is
// refused, one line naming the model and saying how to start over; the
// training does not resume from it, and the store is unchanged. An intact
// state resumes.
func TestCorruptResumeStateRefused(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	req := tinyRequest("r", dir, vit.Baseline)
	req.Options.Epochs = 3
	// Stop the training during its second epoch's hook, as a kill would:
	// the manifest and the resume state of epoch 1 stay.
	crash := req
	crash.AfterEpoch = func(_ *vit.Model, rec trainer.EpochRecord) {
		if rec.Epoch == 2 {
			panic("killed")
		}
	}
	func() {
		defer func() {
			if r := recover(); r != "killed" {
				t.Fatalf("the killed training: %v", r)
			}
		}()
		Train(s, crash)
	}()
	path := filepath.Join(s.Dir, "state", "r.safetensors")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no resume state after the crash: %v", err)
	}
	for _, c := range []struct {
		what string
		data []byte
	}{
		{"a flipped byte", flipByte(good, len(good)-3)},
		{"a truncated state", good[:len(good)*2/3]},
	} {
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		before := snapshotDir(t, s.Dir)
		_, err := Train(s, req)
		if err == nil || !errors.Is(err, checkpoint.ErrCorruptState) || !strings.HasPrefix(err.Error(), "model r: cannot resume: ") ||
			!strings.Contains(err.Error(), "--overwrite") || strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("%s: %v", c.what, err)
		}
		t.Logf("%s: %v", c.what, err)
		if after := snapshotDir(t, s.Dir); !bytes.Equal(before, after) {
			t.Errorf("%s: the refused resume changed the store", c.what)
		}
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := Train(s, req)
	if err != nil || len(out.History) != 3 || out.History[0].Epoch != 1 {
		t.Fatalf("resuming from the intact state: %+v, %v", out, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the resume state outlived the finished training: %v", err)
	}
}

func flipByte(data []byte, i int) []byte {
	out := slices.Clone(data)
	out[i] ^= 0x40
	return out
}
