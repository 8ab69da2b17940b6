// Package workflow holds the use cases the CLI runs: train a model and store
// it, train a population, evaluate a stored model under an order, merge
// (every method), prune, sweep and analyse. It builds on package modelstore,
// which maps models to and from the store (manifest records, loading a model
// with its data); the cobra commands in cmd/frankenvit only parse flags, call
// these and print. Nothing here changes process-wide settings: the commands
// that train set the garbage collector's target themselves.
package workflow
