package vit

// LinearInput is the input of one linear layer during a forward pass: X is
// Rows x In, row-major, one row per token (per image for the heads). It is a
// view of the runner's buffers, valid only during the visit.
type LinearInput struct {
	// Slot is the plan position the block ran at (-1 for the classifier).
	Slot int
	// Block is the block the layer belongs to (nil for the classifier).
	Block *Block
	// Layer is the layer's timm name inside its part: "attn.qkv",
	// "attn.proj", "mlp.fc1", "mlp.fc2", "pos_proj.fc", "pos_head.fc" or
	// "head".
	Layer string
	// W is the layer's weight [out, In].
	W        *Param
	X        []float32
	Rows, In int
}

// LinearInputs runs B normalised images through the plan, as Logits does,
// and calls visit with the input of every linear layer in execution order
// (the patch embedding excepted): the activation statistics data-driven
// merges such as RegMean are built from. A block with a slot head also runs
// it (on its output at slots below its slot count) so its input is seen,
// although inference does not need it. It returns the logits [B, classes],
// reused by the next call. The plan must pass m.Check.
func (r *Runner) LinearInputs(x []float32, B int, plan Plan, visit func(LinearInput)) []float32 {
	c := r.m.Config
	T, D := c.Tokens(), c.Dim
	rows := B * T
	n := rows * D
	r.h, r.tmp = grow(r.h, n), grow(r.tmp, n)
	r.Embed(r.h, x, B)
	var ph posHeadActs
	for slot, bl := range plan {
		r.runBlock(r.tmp, r.h, B, bl, slot, false) // the visits read both sub-layers' activations
		r.h, r.tmp = r.tmp, r.h
		if bl.PosProj != nil {
			visit(LinearInput{Slot: slot, Block: bl, Layer: "pos_proj.fc", W: bl.PosProj.FcW, X: r.pos.ln, Rows: rows, In: D + bl.PosDim})
		}
		visit(LinearInput{Slot: slot, Block: bl, Layer: "attn.qkv", W: bl.QkvW, X: r.attn.ln, Rows: rows, In: D})
		visit(LinearInput{Slot: slot, Block: bl, Layer: "attn.proj", W: bl.ProjW, X: r.attn.att, Rows: rows, In: D})
		visit(LinearInput{Slot: slot, Block: bl, Layer: "mlp.fc1", W: bl.Fc1W, X: r.mlp.ln, Rows: rows, In: D})
		visit(LinearInput{Slot: slot, Block: bl, Layer: "mlp.fc2", W: bl.Fc2W, X: r.mlp.act, Rows: rows, In: bl.MLP})
		if bl.PosHead != nil && slot < bl.Slots {
			posHeadForward(nil, r.Workers, r.m.Config.Eps(), r.h, &ph, bl, B, T)
			visit(LinearInput{Slot: slot, Block: bl, Layer: "pos_head.fc", W: bl.PosHead.FcW, X: ph.ln, Rows: B, In: D})
		}
	}
	logits := r.HeadLogits(r.h, B)
	visit(LinearInput{Slot: -1, Layer: "head", W: r.m.Head.W, X: r.head.ln, Rows: B, In: D})
	return logits
}
