package merge

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

func TestAverage(t *testing.T) {
	c := tinyConfig(vit.ShufflePredict)
	a, b, d := tinyModel(t, "a", c, 1), tinyModel(t, "b", c, 2), tinyModel(t, "d", c, 3)
	soup, err := Average("s", a, b, d)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb, pd, ps := a.Params(), b.Params(), d.Params(), soup.Params()
	for k := range ps {
		for j, v := range ps[k].Data() {
			want := (float64(pa[k].Data()[j]) + float64(pb[k].Data()[j]) + float64(pd[k].Data()[j])) / 3
			if math.Abs(float64(v)-want) > 1e-7 {
				t.Fatalf("%s[%d] = %v, want the mean %v", ps[k].Name, j, v, want)
			}
		}
	}
	if soup.Blocks[1].Source != "s" || soup.Blocks[1].Index != 1 || soup.Blocks[1] == a.Blocks[1] {
		t.Error("the soup's blocks should be new blocks of the soup")
	}
	// A soup of copies of one model is that model.
	twin := tinyModel(t, "twin", c, 1)
	same, _ := Average("same", a, twin)
	x := testImages(c, 2)
	if d := maxAbsDiff(logits(same, x, 2), logits(a, x, 2)); d != 0 {
		t.Errorf("the average of a model and its copy differs by %g", d)
	}
	wide := tinyConfig(vit.ShufflePredict)
	wide.MLP = 32
	if _, err := Average("bad", a, tinyModel(t, "w", wide, 4)); err == nil || !strings.Contains(err.Error(), "cannot average") {
		t.Errorf("models of other sizes: %v", err)
	}
}

// The greedy soup keeps a candidate only if the soup does not get worse.
// The score here is how close the head bias is to 1.1: a (1.0) and b (1.2)
// average to 1.1 exactly, c (5.0) would pull it away.
func TestGreedySoupKnownAnswer(t *testing.T) {
	c := tinyConfig(vit.Shuffle)
	var models []*vit.Model
	for i, v := range []float32{5.0, 1.0, 1.2} {
		m := tinyModel(t, []string{"c", "a", "b"}[i], c, 1)
		for j := range m.Head.B.Data() {
			m.Head.B.Data()[j] = v
		}
		models = append(models, m)
	}
	score := func(m *vit.Model) float64 { return -math.Abs(float64(m.Head.B.Data()[0]) - 1.1) }
	soup, res, err := GreedySoup("g", models, score)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Ingredients, []string{"a", "b"}) {
		t.Errorf("ingredients %v, want [a b]", res.Ingredients)
	}
	if got := soup.Head.B.Data()[0]; math.Abs(float64(got)-1.1) > 1e-6 {
		t.Errorf("soup head bias %v, want 1.1", got)
	}
	if len(res.Steps) != 3 || res.Steps[2].Model != "c" || res.Steps[2].Kept || res.Score < res.Steps[0].Alone {
		t.Errorf("steps %+v", res.Steps)
	}
}
