package analysis

import (
	"math"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// The analysis runs a block's position head exactly as the training graph
// does: the same logits for every slot of an order.
func TestSlotHeadMatchesTrainingGraph(t *testing.T) {
	split, norm := stripes(16, 9)
	m := randomModel(t, tinyConfig(vit.ShufflePredict), 11)
	c := m.Config
	const B = 16
	x := make([]float32, B*split.ImageSize())
	labels := make([]int32, B)
	idx := make([]int, B)
	for i := range idx {
		idx[i] = i
	}
	split.Fill(x, labels, idx, norm, nil, nil)
	plan, _ := m.PlanOf([]int{2, 0, 1})
	st, err := m.Forward(x, labels, B, []vit.Plan{plan}, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := vit.NewRunner(m)
	T, D := c.Tokens(), c.Dim
	h, next := make([]float32, B*T*D), make([]float32, B*T*D)
	r.Embed(h, x, B)
	var head slotHead
	for s, bl := range plan {
		r.RunBlock(next, h, B, bl, s)
		h, next = next, h
		head.predict(h, bl, B, T, vit.LayerNormEps)
		want := st.SlotLogits(s)
		if len(want) != len(head.logits) {
			t.Fatalf("slot %d: %d logits, the graph has %d", s, len(head.logits), len(want))
		}
		for i := range want {
			if math.Abs(float64(want[i]-head.logits[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("slot %d logit %d: analysis %v, training graph %v", s, i, head.logits[i], want[i])
			}
		}
	}
}
