// Package synth makes small synthetic data sets for tests and benchmarks of the
// packages above dataset: IDX files in a directory, usable as "idx:DIR", and
// noise splits in memory.
package synth
