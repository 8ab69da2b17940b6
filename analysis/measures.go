package analysis

// Measure is one question an analysis answers: a title, what the numbers
// mean (the wording of the README's table of measures), and the names of the
// Report's tables and figures that show it. A study's HTML report shows each
// measure as one part, its explanation above its tables and figures.
type Measure struct {
	Title   string
	About   string
	Tables  []string // NamedTable.Name of Report.Tables
	Figures []string // Figure.Name of Report.Figures
}

// Measures are every table and figure of a Report, grouped, in the order a
// report shows them. Head appears only for shuffle-predict models.
var Measures = []Measure{
	{Title: "Logit lens and skipped blocks, per slot",
		About: "The logit lens: the model's final LayerNorm and head applied after each slot, accuracy in the " +
			"sequential order and over the random orders (mean ± std); and per slot the mean accuracy drop and loss " +
			"rise when the block there is skipped (replaced by the identity, the later blocks keeping their slots).",
		Tables: []string{"slots"}, Figures: []string{"lens"}},
	{Title: "Contribution of each block at each slot",
		About: "Block x slot: accuracy(order) − accuracy(order with that block replaced by the identity, the later " +
			"blocks keeping their slots), and the loss rise, averaged over the orders that put the block there. A block " +
			"computing the identity contributes exactly 0; a block that helps wherever it runs is positive in every column.",
		Tables: []string{"contribution-accuracy", "contribution-loss"}, Figures: []string{"contribution-accuracy", "contribution-loss"}},
	{Title: "Logit lens after each block at each slot",
		About:  "Block x slot: the accuracy of the model's head applied right after that block in that slot, over the random orders.",
		Tables: []string{"lens-blocks"}, Figures: []string{"lens-blocks"}},
	{Title: "Position heads",
		About: "Shuffle-predict only: each block's own position head (on the mean over tokens of its output), accuracy " +
			"per true slot and the slot x slot confusion.",
		Tables: []string{"head", "head-confusion"}, Figures: []string{"head", "head-confusion"}},
	{Title: "Slot probe: does a block's output say where it ran?",
		About: "A linear probe per block (multinomial logistic regression on the frozen outputs, each layer-normalised, " +
			"then standardised; seeded), trained on part of the images and scored on the held-out rest, reported as the " +
			"position heads are. The normalisation gives the probe exactly a position head's form, fc(LN(x)), so it " +
			"cannot read the slot from the residual stream's growing scale alone. Chance is 1/depth.",
		Tables: []string{"probe", "probe-confusion"}, Figures: []string{"probe", "probe-confusion"}},
	{Title: "Representation similarity (linear CKA)",
		About: "Linear CKA (Kornblith et al. 2019) between the outputs of every (block, slot) cell on the same images, " +
			"each cell averaged over its orders (1: the same representation up to rotation and scale); the first table " +
			"gives the mean CKA of one block at two different slots, and of two blocks at one slot.",
		Tables: []string{"cka", "cka-matrix"}, Figures: []string{"cka"}},
	{Title: "2-D PCA of each block's outputs",
		About: "Per block, a 2-D PCA of its outputs at every slot (the same images at every slot), coloured by slot; " +
			"centred first removes each image's mean over the slots, leaving what the slot alone changes. Slot share " +
			"is the part of the plane's variance between the slot means.",
		Tables: []string{"pca"}, Figures: []string{"pca", "pca-centred"}},
}
