// Package vit is the Vision Transformer of frankenvit: its config, its
// parameters (stem, encoder blocks, head), execution plans, the fused spago
// operators of the training graph and a tape-free forward pass for
// evaluation.
//
// The model follows timm's VisionTransformer (pre-LN blocks, LayerNorm eps
// 1e-6, exact GELU, fused qkv, class token, learned position embedding), so
// exported weights load in PyTorch. A forward pass runs a Plan: any ordered
// list of blocks, from this model or from others of the same width; the
// stem and head come from the model the plan runs on.
//
// Variants (layershuffle-brief.md): baseline, shuffle, shuffle-position
// (blocks carry pos_proj and the stem a slot table layer_pos_embed [L, P]:
// h + GELU(Linear(LN(concat(h, E[slot])))) before the block), shuffle-predict
// (blocks carry pos_head predicting their slot from the token mean of their
// output) and layerdrop. Which orders a variant trains on is the trainer's
// business; the model runs whatever plan it is given.
//
// Each sub-layer is an llm.c-style pair of forward/backward functions over
// flat float32 buffers (layers.go) on the kernels of package kernels, wrapped
// as one spago operator (ops.go).
package vit
