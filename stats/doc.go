// Package stats is the one home of the small statistics every measurement
// uses: the mean, the sample standard deviation and the 95% confidence
// interval of a set of accuracies (Summarise, MeanStd), and, per row of
// logits, the predicted class (Argmax) and the cross-entropy (CrossEntropy).
// Everything that reports a mean or scores logits calls these, so two
// tables can never disagree on an empty set or an initial maximum.
package stats
