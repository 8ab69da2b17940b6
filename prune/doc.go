// Package prune chooses which encoder blocks of a model's plan to remove and
// measures how important each block is.
//
// A pruned model is only a shorter plan: the kept blocks, in their original
// order, on the same stem and head. Strategies:
//
//	last, first    drop the last (first) K blocks
//	random         K blocks drawn with a seed
//	every-other    LayerDrop's rule (Fan et al. 2019): with rate p = K/N drop
//	               the blocks at 1-based depth d = ⌈i·N/K⌉, i = 1..K, i.e. every
//	               other block when K = N/2
//	greedy         repeatedly drop the block whose removal costs the least
//	               validation accuracy (ties: lower loss, then earlier block)
//	influence      ShortGPT's Block Influence (Men et al. 2024):
//	               1 - cos(block input, block output), averaged over every token
//	               of every validation image; the K lowest go
//	angular        Gromov et al. 2024: the run of K consecutive blocks whose
//	               input and output are closest in angle, arccos(cos)/π, on the
//	               class token (the one the head reads; Gromov et al. use the
//	               last token of a causal model), averaged over validation images
//
// The data-driven strategies (greedy, influence, angular) measure on the
// split of the Evaluator they are given, which should be validation data.
// Removal sets of greedy and influence are nested (removing K+1 blocks drops
// the K blocks of K plus one more); a Pruner computes their scores once and
// answers every K from them.
package prune
