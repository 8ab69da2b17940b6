// Package workflow joins the data sets, the trainer and the store into the
// jobs the CLI runs: train a model and store it, load a stored model with its
// data, evaluate it under an order. The cobra commands in cmd/frankenvit only
// parse flags, call these and print.
package workflow
