// Package methods holds the weight-space merge methods that model-merging
// users know from mergekit (linear, task arithmetic, TIES, DARE, Breadcrumbs,
// DELLA, SCE, SLERP and its variants, Karcher mean, model stock, nearswap),
// each defined exactly as mergekit defines it, as pure functions over one
// tensor at a time: the base model's tensor (where the method has one), the
// tensors of the models being merged, and their parameters.
//
// A method is found by its mergekit name (Lookup) and says which parameters
// it takes, which are required, their ranges and how many models it merges
// (Spec), so that a merge configuration can be checked completely before any
// weight is read. Everything random (DARE, DELLA) draws from the seeded
// generator it is given. Package merge applies a method to every tensor of
// the stem, the blocks and the head of whole models.
package methods
