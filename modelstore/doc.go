// Package modelstore maps models to and from the store (package checkpoint):
// the typed records of a manifest (config, data options, normalisation,
// training record, history, recipe), decoded and checked in one place
// (DecodeRecords) so that a field that does not decode or does not fit is
// always one error naming the model and the field; loading a model with its
// plan (Load) and storing its weights as blobs (PutWeights); a training's
// resume state (SaveState, LoadState); and loading a model together with the
// data it was trained on, its splits carved as its training carved them
// (LoadModelData), which every use case that measures a stored model starts
// from.
//
// It sits below the use cases (package workflow) and imports none of them.
package modelstore
