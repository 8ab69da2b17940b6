// Package trainer trains models of package vit: mini-batch training with
// AdamW (decoupled weight decay, as PyTorch defines it), linear warm-up then
// cosine decay, gradient-norm clipping, the block-order samplers of the
// variants (one random permutation per batch for the shuffle variants, or
// per sample as an ablation; LayerDrop's random skips), validation every epoch
// with the best epoch kept, a stop with a clear error on a NaN or Inf loss,
// progress reporting, and tape-free evaluation under any block order.
//
// Every random stream of an epoch is derived from the seed and the epoch
// number, so the same seed on the same machine gives bit-identical weights.
package trainer
