// Package analysis measures what each encoder block of a ViT does at each
// slot (execution position) it runs in, the paper's second finding made
// visible for one's own models.
//
// One sweep runs a fixed set of images through K random block orders, drawn
// as rows of random Latin squares so that every block visits every slot
// equally often, plus the sequential order, and records after every slot the
// block's output (the mean over tokens, or the class token), the head's
// prediction (the logit lens) and, for shuffle-predict models, the block's
// own slot prediction. It also reruns every order with one block replaced by
// the identity, the later blocks keeping their slots. From that sweep:
//
//   - lens.go: the logit lens, accuracy of the model's head after each slot;
//   - contribution.go: the change in accuracy and loss when a block is
//     skipped, block by slot;
//   - position.go: each shuffle-predict block's slot head, accuracy per slot
//     and the slot-by-slot confusion matrix;
//   - probe.go: a linear slot probe (multinomial logistic regression) on the
//     frozen outputs of each block, trained on part of the images and scored
//     on the rest, reported as the position heads are;
//   - cka.go: linear CKA between the outputs of every (block, slot) pair;
//   - pca.go: a 2-D PCA of each block's outputs, coloured by slot.
//
// Run returns everything as one Report, whose Tables print and write as
// CSV/JSON and whose Figures render as PNG or SVG (figure*.go), so a study's
// HTML report can embed the same pictures.
package analysis
