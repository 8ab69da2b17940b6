// Package merge builds new models out of trained ones: Frankenstein splices
// (a plan whose blocks come from several models), weight-space soups, plan
// search and Git Re-Basin alignment.
//
// A splice never copies a weight: it names the model that gives the stem,
// the model that gives the head, and for every slot of the plan a block of
// some model (Ref). Random draws the paper's Frankenstein models, a Recipe
// (YAML in the spirit of mergekit's slices) writes one down by hand, and
// Search looks for the plan with the best validation accuracy, greedily and
// by evolution. Splice.Check reports every reason a splice cannot run at
// once; Splice.Build assembles a vit.Model that shares its blocks with the
// donors.
//
// Average and GreedySoup (Wortsman et al. 2022) make real new weights from
// models of one population. Align (weight matching of Ainsworth et al.
// 2022, "Git Re-Basin") permutes the hidden units of an independently
// initialised model — one permutation of the residual stream for the whole
// model, and per block one of the attention heads, one of the query/key
// dimensions and one of the value dimensions inside each head, and one of
// the MLP units — so that its blocks live in the reference model's basis;
// the permuted model computes exactly the same function.
//
// Weight merges apply merge/methods' mergekit methods tensor by tensor:
// WeightMerge merges whole models with one set of parameters, MergeWeights
// runs a WeightMergeSpec (which part of which model makes each part of the
// result, parameters per tensor, each task's own head kept in a multi-task
// merge). ParseMergekit reads mergekit's YAML as published and
// MergekitConfig.Plan checks it against the models' manifest facts before
// any weight is read; a Recipe's slice may be a weight merge of blocks of
// any depths (Recipe.MergedSlots).
//
// Everything random takes a seed. The package works on models in memory;
// package workflow loads them from the store and keeps the results.
package merge
