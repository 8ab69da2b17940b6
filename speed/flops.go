package speed

import (
	"github.com/frankenvit/frankenvit/vit"
)

// FLOPs counts the floating-point operations of one image's forward pass,
// term by term (a multiply-add is 2 FLOPs). With N = (H/P)(W/P) patches,
// T = N+1 tokens, width D, MLP width M, depth L, K classes and C channels:
//
//	patch embedding       2·N·(C·P²)·D
//	per block, L times:
//	  qkv                 2·T·D·3D
//	  attention scores    2·T·T·D      (Q·Kᵀ, all heads: heads·T·T·(D/heads))
//	  weighted sum        2·T·T·D      (softmax(S)·V)
//	  proj                2·T·D·D
//	  fc1                 2·T·D·M
//	  fc2                 2·T·M·D
//	head                  2·D·K        (class token only)
//
// so forward = 2NCP²D + L·(8TD² + 4TDM + 4T²D) + 2DK. LayerNorm, softmax,
// GELU, biases and residual adds are O(T·D) per block and not counted.
// Training counts 3x forward (the backward pass is two GEMMs per forward
// GEMM: the input gradient and the weight gradient).
type FLOPs struct {
	PatchEmbed int64 `json:"patch_embed"`
	QKV        int64 `json:"qkv"`
	Scores     int64 `json:"attention_scores"`
	Weighted   int64 `json:"attention_weighted_sum"`
	Proj       int64 `json:"proj"`
	FC1        int64 `json:"fc1"`
	FC2        int64 `json:"fc2"`
	Head       int64 `json:"head"`
}

// CountFLOPs returns the per-image forward FLOPs of c, by term (block terms
// summed over the depth).
func CountFLOPs(c vit.Config) FLOPs {
	N, T := int64(c.Patches()), int64(c.Tokens())
	D, M, L := int64(c.Dim), int64(c.MLP), int64(c.Depth)
	return FLOPs{
		PatchEmbed: 2 * N * int64(c.PatchSize()) * D,
		QKV:        L * 2 * T * D * 3 * D,
		Scores:     L * 2 * T * T * D,
		Weighted:   L * 2 * T * T * D,
		Proj:       L * 2 * T * D * D,
		FC1:        L * 2 * T * D * M,
		FC2:        L * 2 * T * M * D,
		Head:       2 * D * int64(c.Classes),
	}
}

// Forward is the total forward FLOPs of one image.
func (f FLOPs) Forward() int64 {
	return f.PatchEmbed + f.QKV + f.Scores + f.Weighted + f.Proj + f.FC1 + f.FC2 + f.Head
}

// Train is the FLOPs of one training image: forward + backward ≈ 3x forward.
func (f FLOPs) Train() int64 { return 3 * f.Forward() }
