// Package swarm runs a model's encoder blocks as services on NATS: the
// scenario LayerShuffle was made for, a network spread over devices where
// the order in which blocks run is not guaranteed and blocks fail.
//
// A Worker serves blocks (and stems and heads) of loaded models; each block
// is a subject, shared by the workers that serve it as a queue group. A
// Router takes a batch of images to a stem, its activations from block to
// block in a plan (fixed, random per batch or per image, or in the order in
// which workers answer), skipping a block that does not answer within a
// deadline, and to a head; every image gets exactly one Answer with the
// plan it actually ran. Messages carry the batch id and the blocks already
// run, so that late and duplicate answers are recognised and dropped.
//
// Fleet starts workers as processes and Schedule kills, slows and restarts
// them on a seeded schedule; Summarise and Windows turn answers into the
// numbers of `frankenvit swarm bench`.
package swarm
