package merge

// Record is how a merged model was built, stored in its manifest (the
// "recipe" field) so it can be rebuilt and audited: the method, the source
// models, the seed, and what the method decided (the splice, the soup's
// ingredients, the search's trace, the alignment's permutations).
type Record struct {
	Method string   `json:"method"` // random, recipe, uniform-soup, greedy-soup, search, align, or a merge/methods name (ties, slerp, ...)
	From   []string `json:"from"`
	Seed   uint64   `json:"seed,omitempty"`
	// Splice is the plan of a splice (random, recipe, search, and the
	// reference copy of align).
	Splice *Splice `json:"splice,omitempty"`
	// Random: the draw of --count and its index.
	AnyBlock bool `json:"any_block,omitempty"`
	Draw     int  `json:"draw,omitempty"`
	// RecipeFile and RecipeText are the recipe as given.
	RecipeFile string         `json:"recipe_file,omitempty"`
	RecipeText string         `json:"recipe_text,omitempty"`
	Soup       *SoupResult    `json:"soup,omitempty"`
	Search     *SearchResult  `json:"search,omitempty"`
	Align      *AlignResult   `json:"align,omitempty"`
	Options    map[string]any `json:"options,omitempty"`
	// Weight merges (merge/methods): the base model ("" when the method
	// takes none), the merge-wide parameters and each source's own, as given
	// (defaults are the method's).
	Base     string               `json:"base,omitempty"`
	Params   map[string]float64   `json:"params,omitempty"`
	PerModel []map[string]float64 `json:"per_model,omitempty"`
	// Heads: a multi-task weight merge keeps each task's own head; this maps
	// every task of the result to the model whose head rows it kept ("" =
	// merged, no source owns the task).
	Heads map[string]string `json:"heads,omitempty"`
	// Slots are the plan slots of a recipe that are weight merges of
	// blocks (stored as new blocks of the result itself).
	Slots []SlotRecord `json:"slots,omitempty"`
	// Data-driven merges (package datamerge): the data the method read, and
	// what it learned.
	Data    *DataUse       `json:"data,omitempty"`
	Learned *LearnedRecord `json:"learned,omitempty"`
}

// DataUse names the data a data-driven merge read: which split of each
// source's own data (its task), how many images per source, and whether it
// read their labels (AdaMerging reads test images without labels).
type DataUse struct {
	Split  string `json:"split"`
	Images int    `json:"images"`
	Labels bool   `json:"labels"`
}

// LearnedRecord is what a data-driven merge learned: a table of
// coefficients or parameters (Rows x Cols, e.g. parts x sources), the
// objective it reached and the number of steps or evaluations.
type LearnedRecord struct {
	What      string      `json:"what"` // e.g. "merge coefficients (AdaMerging, block-wise)"
	Rows      []string    `json:"rows"`
	Cols      []string    `json:"cols"`
	Values    [][]float64 `json:"values"`
	Objective string      `json:"objective,omitempty"` // e.g. "mean prediction entropy"
	Start     float64     `json:"start,omitempty"`
	Final     float64     `json:"final,omitempty"`
	Steps     int         `json:"steps,omitempty"`
}

// SlotRecord is one merged slot of a recipe: the method, the merged blocks,
// the base block and the parameters as written.
type SlotRecord struct {
	Slot    int    `json:"slot"`
	Method  string `json:"method"`
	Sources []Ref  `json:"sources"`
	Base    *Ref   `json:"base,omitempty"`
}
