// Package datamerge merges models with methods that look at data, not only
// at the weights: Fisher merging (each parameter weighted by its diagonal
// empirical Fisher), RegMean (every linear layer solved in closed form from
// its inputs' Gram matrices), AdaMerging (merge coefficients learned by
// minimising the prediction entropy on unlabeled images) and evolved
// recipes (CMA-ES over a weight merge's parameters, with the plan search).
//
// Every method names the data it reads (Source.Data: which split, how many
// images); none reads test labels.
package datamerge
