// Package study runs a whole experiment from one YAML file: the populations
// to train, the merged models to build, the sweeps to measure and the models
// to analyse (package analysis: what each block does at each slot), then one
// self-contained HTML report with every table and plot, the study file and
// the versions.
//
// The file is checked completely before anything is trained: every problem
// (an unknown variant, a data set that cannot be read, a merge or sweep
// naming a population the study does not define, a bad size or option) is
// named in one error. A run is resumable: trained models and merges already
// in the store, and sweeps and analyses whose results are already in the
// output folder with the same options and of the same weights, are skipped,
// so rerunning after a crash or an edit does only what is missing. A merge
// whose entry changed (method, sources or their weights, count, seed or any
// other option) is rebuilt: the models the study built for it are removed
// and built again, and what measured them is measured again; models the
// study did not build are never removed (a merge whose names they hold is
// refused). An analysis naming a population analyses its first member.
//
// Without a file, the built-in quickstart (quickstart.yaml, also in
// examples/) trains small baseline and LayerShuffle populations on part of
// MNIST, runs every sweep and analyses one LayerShuffle member in a few
// minutes.
package study
