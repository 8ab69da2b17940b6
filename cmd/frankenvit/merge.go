package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/internal/durable"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
	"github.com/spf13/cobra"
)

func newMergeCmd() *cobra.Command {
	var req workflow.MergeRequest
	var from, csvFile, jsonFile string
	var asJSON bool
	var weights string
	var normalize bool
	wparams := map[string]*float64{"density": new(float64), "lambda": new(float64), "t": new(float64),
		"epsilon": new(float64), "gamma": new(float64), "select_topk": new(float64), "alpha": new(float64)}
	cmd := &cobra.Command{
		Use:   "merge OUT",
		Short: "Build Frankenstein models, soups, searched plans or aligned copies from stored models",
		Long: `Builds OUT from the models of --from (model names or population prefixes) by --method:
  random          each slot takes the block at that position (--any-block: any block) of a random source;
                  --count K stores OUT-0 .. OUT-(K-1)
  recipe:FILE     a YAML recipe (stem, head, slices of model + blocks or layer_range)
  uniform-soup    the average of all sources' weights
  greedy-soup     sources added best first, each kept only if validation accuracy does not drop
  search          greedy forward selection, then evolution, of plans over all sources' blocks on the
                  validation split; test accuracy of the best plan at the end
  align           Git Re-Basin weight matching of each source to the first; stores OUT-0 .. OUT-(N-1)
  linear, task_arithmetic, ties, dare_linear, dare_ties, breadcrumbs, breadcrumbs_ties, della,
  della_linear, sce, slerp, nuslerp, multislerp, karcher, model_stock, nearswap
                  mergekit's weight merges, tensor by tensor over the stem, every block and the head;
                  --base P (default: the sources' common parent, for methods that need a base),
                  --weights (one per model, or one for all), --density, --lambda, --t, --epsilon,
                  --gamma, --select-topk, --normalize (only the flags given are passed; the others
                  take the method's defaults). Everything is checked before any weight is read.
  fisher          Fisher merging: each parameter weighted by each source's diagonal empirical Fisher on
                  --images (256) of its own training images and labels
  regmean         RegMean: every linear layer solved in closed form from the Gram matrices of its inputs on
                  --images (256) training images of each source (no labels); --alpha (0.9) scales the
                  off-diagonals; the rest averaged
  adamerging, adamerging-blocks
                  AdaMerging: one coefficient per task vector (per task vector and part) learned by Adam
                  (--steps, --lr) minimising the prediction entropy on each source's test images, never
                  their labels; base as for the weight merges; the coefficients are kept in the recipe
  evolve          CMA-ES over --evolve-method's (ties) weight and main parameter per source (--per-block:
                  and per block), maximising the mean validation accuracy over the sources, --evaluations
                  (100) merges scored; --plan-search then searches plans over its and the sources' blocks;
                  --trajectory FILE records every evaluation and resumes from an earlier one
Splices store a manifest only (the donors' blocks by reference); soups and aligned copies new weights.
The recipe that built a model is kept in its manifest. The sources and the results are evaluated on the
validation and test splits (sequential, and random:K with --orders K) unless --eval=false.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Out, req.Log = args[0], os.Stderr
			if from != "" {
				req.From = strings.Split(from, ",")
			}
			if weights != "" {
				for _, w := range strings.Split(weights, ",") {
					v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
					if err != nil {
						return fmt.Errorf("--weights: %q is not a number", w)
					}
					req.Weights = append(req.Weights, v)
				}
			}
			for name, v := range wparams {
				if cmd.Flags().Changed(strings.ReplaceAll(name, "_", "-")) {
					if req.Params == nil {
						req.Params = methods.Params{}
					}
					req.Params[name] = *v
				}
			}
			if cmd.Flags().Changed("normalize") {
				if req.Params == nil {
					req.Params = methods.Params{}
				}
				req.Params["normalize"] = 0
				if normalize {
					req.Params["normalize"] = 1
				}
			}
			s, err := openStore()
			if err != nil {
				return err
			}
			files, err := createTableFiles(csvFile, jsonFile)
			if err != nil {
				return err
			}
			out, err := workflow.Merge(s, req)
			if err != nil {
				return err
			}
			tables := workflow.MergeTables(out)
			if err := files.write(tables[0]); err != nil {
				return err
			}
			if asJSON {
				return printResult(true, out, nil)
			}
			for _, t := range tables {
				if err := t.Render(os.Stdout); err != nil {
					return err
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "source models or population prefixes, comma-separated")
	fl.StringVar(&req.Method, "method", "random", "random | recipe:FILE | uniform-soup | greedy-soup | search | align | a weight merge (ties, slerp, ...: see above)")
	fl.StringVar(&req.Base, "base", "", "weight merges: the base model (default: the sources' common parent when the method needs one)")
	fl.StringVar(&weights, "weights", "", "weight merges: the models' weights, comma-separated, one per model or one for all")
	fl.Float64Var(wparams["density"], "density", 0, "weight merges: fraction of each task vector kept")
	fl.Float64Var(wparams["lambda"], "lambda", 0, "weight merges: scale of the merged task vector")
	fl.Float64Var(wparams["t"], "t", 0, "slerp, nearswap: interpolation factor")
	fl.Float64Var(wparams["epsilon"], "epsilon", 0, "della: half-width of the keep probabilities")
	fl.Float64Var(wparams["gamma"], "gamma", 0, "breadcrumbs: fraction of the largest entries removed")
	fl.Float64Var(wparams["select_topk"], "select-topk", 0, "sce: fraction of positions kept by variance")
	fl.Float64Var(wparams["alpha"], "alpha", 0, "regmean: scale of the Gram matrices' off-diagonals (default 0.9)")
	fl.IntVar(&req.Learned.Images, "images", 0, "fisher, regmean, adamerging, evolve: images of each source's data read (0: the method's default)")
	fl.IntVar(&req.Learned.Steps, "steps", 0, "adamerging: Adam steps (0: 100)")
	fl.Float64Var(&req.Learned.LR, "lr", 0, "adamerging: Adam's learning rate (0: 1e-3)")
	fl.StringVar(&req.Learned.EvolveMethod, "evolve-method", "ties", "evolve: the weight merge whose parameters are evolved")
	fl.IntVar(&req.Learned.Evaluations, "evaluations", 0, "evolve: merges scored (0: 100)")
	fl.BoolVar(&req.Learned.PerBlock, "per-block", false, "evolve: one set of parameters per block")
	fl.BoolVar(&req.Learned.PlanSearch, "plan-search", false, "evolve: then search plans over the merged and the sources' blocks (--population, --generations)")
	fl.StringVar(&req.Learned.Trajectory, "trajectory", "", "evolve: append every evaluation to FILE as JSON lines; an existing FILE is resumed")
	fl.BoolVar(&normalize, "normalize", false, "weight merges: divide by the sum of the weights (method default if not given)")
	fl.Uint64Var(&req.Seed, "seed", 0, "seed of random draws, the search and random:K orders")
	fl.IntVar(&req.Count, "count", 1, "random: number of models")
	fl.BoolVar(&req.AnyBlock, "any-block", false, "random: a slot may take any block of its source")
	fl.StringVar(&req.Stem, "stem", "", "random, search: the model giving stem and head (default: drawn / the best source)")
	fl.IntVar(&req.Search.MinDepth, "min-depth", 1, "search: fewest blocks of a plan")
	fl.IntVar(&req.Search.MaxDepth, "max-depth", 0, "search: most blocks of a plan (0 = the stem model's depth)")
	fl.IntVar(&req.Search.Population, "population", 16, "search: plans per generation of the evolution")
	fl.IntVar(&req.Search.Generations, "generations", 10, "search: generations of the evolution (0 = greedy selection only)")
	fl.BoolVar(&req.Eval, "eval", true, "evaluate the sources and the results on the validation and test splits")
	fl.StringVar(&req.Data, "data", "", "data set to evaluate on (default: the sources')")
	fl.IntVar(&req.Limit, "limit", 0, "evaluate on the first N images of each split only (0 = all)")
	fl.IntVar(&req.Orders, "orders", 10, "K of the test accuracy under random:K block orders (0 = sequential only)")
	fl.StringVar(&csvFile, "csv", "", "also write the table as CSV to this file")
	fl.StringVar(&jsonFile, "json-file", "", "also write the table as JSON to this file")
	fl.BoolVar(&asJSON, "json", false, "print the outcome as one JSON object")
	return cmd
}

// tableFiles are the --csv and --json-file outputs. Their folders are
// checked before the work starts, so that a bad path fails before anything
// is stored; the files are written whole at the end, or not at all.
type tableFiles struct{ csv, json string }

func createTableFiles(csvPath, jsonPath string) (*tableFiles, error) {
	if err := checkOutputs("", outputFile{"--csv", csvPath}, outputFile{"--json-file", jsonPath}); err != nil {
		return nil, err
	}
	return &tableFiles{csv: csvPath, json: jsonPath}, nil
}

func (f *tableFiles) write(t *table.Table) error {
	if f.csv != "" {
		if err := durable.Write(f.csv, t.WriteCSV); err != nil {
			return fmt.Errorf("--csv %s: %v", f.csv, err)
		}
	}
	if f.json != "" {
		if err := durable.Write(f.json, t.WriteJSON); err != nil {
			return fmt.Errorf("--json-file %s: %v", f.json, err)
		}
	}
	return nil
}
