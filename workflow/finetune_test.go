package workflow

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// stripesFolders writes the Stripes task as full-size JPEG folders: four
// classes, and a copy with two of them only (a fine-tuning target with
// another class count).
func stripesFolders(t *testing.T) (four, two string) {
	t.Helper()
	four, two = filepath.Join(t.TempDir(), "four"), filepath.Join(t.TempDir(), "two")
	if err := synth.StripesFolder(four, 400, 80, 40, 1); err != nil {
		t.Fatal(err)
	}
	if err := synth.StripesFolder(two, 320, 60, 48, 2); err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "test"} {
		for _, c := range []string{"2", "3"} {
			if err := os.RemoveAll(filepath.Join(two, split, c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return four, two
}

func fullSizeRequest(name, dir string, image int, v vit.Variant) TrainRequest {
	opt := trainer.DefaultOptions()
	opt.Epochs, opt.Batch, opt.LR = 5, 16, 3e-3
	opt.Augment = trainer.AugmentNone // the class is where the band is: random crops would move it
	return TrainRequest{Name: name, Config: vit.Config{Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3, Variant: v},
		Data: modelstore.DataOptions{Spec: "folder:" + dir, ValFrac: 0.2}, Options: opt, Image: [2]int{image, image}}
}

// TestCopyPretrained: every tensor of the same name and shape is copied, the
// position embedding is resampled to the new grid, the head starts afresh
// only with newHead, a variant's extra tensors are initialised and said so,
// and any other difference is refused naming the tensors.
func TestCopyPretrained(t *testing.T) {
	parentCfg := vit.Config{ImageHeight: 16, ImageWidth: 16, Channels: 3, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3, Classes: 4, Variant: vit.Baseline}
	parent, err := vit.NewModel("pre", parentCfg)
	if err != nil {
		t.Fatal(err)
	}
	parent.Init(7)
	childCfg := parentCfg
	childCfg.ImageHeight, childCfg.ImageWidth, childCfg.Classes, childCfg.Variant = 32, 24, 2, vit.ShufflePredict
	child, err := vit.NewModel("ft", childCfg)
	if err != nil {
		t.Fatal(err)
	}
	child.Init(8)
	fresh := slices.Clone(child.Head.W.Data())
	if err := copyPretrained(child, parent, false, nil); err == nil || !strings.Contains(err.Error(), "--new-head") {
		t.Fatalf("another class count without newHead: %v", err)
	}
	var log bytes.Buffer
	if err := copyPretrained(child, parent, true, &log); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(child.Blocks[1].QkvW.Data(), parent.Blocks[1].QkvW.Data()) || !slices.Equal(child.Head.NormW.Data(), parent.Head.NormW.Data()) ||
		!slices.Equal(child.Stem.PatchW.Data(), parent.Stem.PatchW.Data()) {
		t.Error("a tensor of the same name and shape was not copied")
	}
	if !slices.Equal(child.Head.W.Data(), fresh) {
		t.Error("the new head is not the child's own initialisation")
	}
	want, err := vit.ResamplePosEmbed(parent.Stem.Pos.Data(), 1, 4, 4, 8, 6, 16)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(child.Stem.Pos.Data(), want) {
		t.Error("pos_embed is not the parent's resampled to the 8x6 grid")
	}
	for _, say := range []string{"pos_embed resampled from a 4x4 to a 8x6 patch grid", "new head: 2 classes", "block 0 pos_head.fc.weight is new"} {
		if !strings.Contains(log.String(), say) {
			t.Errorf("the log does not say %q:\n%s", say, log.String())
		}
	}
	wide := parentCfg
	wide.Dim, wide.Heads = 24, 2
	other, err := vit.NewModel("wide", wide)
	if err != nil {
		t.Fatal(err)
	}
	err = copyPretrained(other, parent, true, nil)
	if err == nil || !strings.Contains(err.Error(), "block 2 attn.qkv.weight is [72 24] here, [48 16] in pre") || !strings.Contains(err.Error(), "stem cls_token") {
		t.Errorf("a model of another width: %v", err)
	}
}

// TestFineTuneFullSize trains a model on a folder of full-size JPEGs at
// 16x16, then fine-tunes it with LayerShuffle at 32x32 on data with other
// classes (--new-head), evaluates it, and runs a population from it
// (--parent), which a rerun leaves as it is.
func TestFineTuneFullSize(t *testing.T) {
	four, two := stripesFolders(t)
	s := openStore(t)
	pre, err := Train(s, fullSizeRequest("pre", four, 16, vit.Baseline))
	if err != nil {
		t.Fatal(err)
	}
	if pre.TestAccuracy < 0.8 {
		t.Errorf("pretraining on full-size stripes: test accuracy %.3f, want >= 0.8", pre.TestAccuracy)
	}
	ft := fullSizeRequest("ft", two, 32, vit.Shuffle)
	ft.Config = vit.Config{Variant: vit.Shuffle} // the architecture is the init model's
	ft.Init, ft.Options.Epochs = "pre", 4
	if _, err := Train(s, ft); err == nil || !strings.Contains(err.Error(), "--new-head") || s.Exists("ft") {
		t.Fatalf("two classes from a four-class model without --new-head: %v (stored: %v)", err, s.Exists("ft"))
	}
	ft.NewHead = true
	out, err := Train(s, ft)
	if err != nil {
		t.Fatal(err)
	}
	st, err := modelstore.Load(s, "ft")
	if err != nil {
		t.Fatal(err)
	}
	preSt, err := modelstore.Load(s, "pre")
	if err != nil {
		t.Fatal(err)
	}
	c := st.Model.Config
	if c.ImageHeight != 32 || c.Classes != 2 || c.Dim != 16 || c.Depth != 3 || c.Variant != vit.Shuffle || st.Records.Preprocess == nil || st.Records.Preprocess.Height != 32 {
		t.Errorf("fine-tuned config %+v, preprocess %+v", c, st.Records.Preprocess)
	}
	if !slices.Equal(st.Records.Normalization.Mean, preSt.Records.Normalization.Mean) {
		t.Errorf("the fine-tuned model's normalisation %v is not its pretrained parent's %v", st.Records.Normalization, preSt.Records.Normalization)
	}
	if out.TestAccuracy < 0.8 {
		t.Errorf("fine-tuned test accuracy %.3f, want >= 0.8", out.TestAccuracy)
	}
	ev, err := Eval(s, EvalRequest{Name: "ft", Split: "test", Order: "reversed"})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(two, "test", "*", "*.jpg"))
	if ev.Images != len(files) || ev.Accuracy < 0.7 {
		t.Errorf("eval of the fine-tuned model read %d images, accuracy %.3f", ev.Images, ev.Accuracy)
	}
	pop := PopulationRequest{Prefix: "pp", Size: 2, Parent: "pre", Member: -1, RandomOrders: 2, Base: ft}
	pop.Base.Options.Epochs = 1
	sum, err := Population(s, pop)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Parent != "pre" || len(sum.MemberNames()) != 2 || s.Exists(ParentName("pp")) || !sum.Members[0].Unmeasured ||
		PopulationTables(sum)[0].Rows[0][5] != "-" {
		t.Fatalf("population from a given parent: %+v", sum)
	}
	man, err := s.Get("pp-1")
	if err != nil || man.Parent != "pre" {
		t.Fatalf("pp-1's parent: %v %v", man, err)
	}
	// Members fine-tuned on full-size folders share their data (a value,
	// compared by ==), so their merge evaluates on it.
	if _, err := Merge(s, MergeRequest{Out: "pp-soup", From: []string{"pp"}, Method: "uniform-soup", Eval: true, Orders: 2}); err != nil {
		t.Fatalf("merging the members: %v", err)
	}
	again, err := Population(s, pop)
	if err != nil {
		t.Fatal(err)
	}
	if again.Members[1].TestSequential != sum.Members[1].TestSequential {
		t.Error("a rerun changed a complete member")
	}
}
