// Package sweep measures how a model's accuracy holds up when its blocks are
// reordered (the orders sweep), removed (the depth sweep) or swapped for
// other population members' blocks (the merge sweep: random Frankenstein
// models of 1 .. N sources), for many models or population members at once,
// and summarises the measurements per model or population with means and
// 95% intervals.
//
// A sweep is a list of units of work (one model and one task, such as "the
// greedy pruning curve of model a", or one population and a number of
// sources), numbered in a fixed order, so that
// --shard i/n runs the units whose number is i modulo n. Every unit yields
// Samples: one accuracy per plan evaluated. A Document holds the options and
// the samples; the documents of all shards of a sweep merge into the
// document an unsharded run writes, byte for byte, because the summary is a
// function of the samples alone and the samples are put in unit order.
//
// Every batch of plans of a unit is evaluated in one prefix-sharing pass
// (trainer.Evaluator.AccuracyOfPlans). Orders drawn per batch or per sample
// go through MixedOrderAccuracy, a thin wrapper of the evaluator's own
// (trainer.Evaluator.MixedOrderAccuracy), which groups the images of a batch
// by the block each runs at each slot.
package sweep
