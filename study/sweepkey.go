package study

import (
	"encoding/json"
	"errors"
	"os"
	"slices"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/durable"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/workflow"
)

// A sweep's results are reused only if the models it measured are the
// models in the store now: sweep-ID.weights.json, written after the
// results, maps every model the sweep measures to a digest of its weights.
// So a merge the study rebuilt (or a population trained again) is measured
// again rather than reported from the old models' results. A result without
// that file (or one written before it) is measured again.

// sweepWeights maps every model a sweep measures (its models, population
// prefixes standing for their members, and its references) to a digest of
// its weights.
func sweepWeights(s *checkpoint.Store, o sweep.Options) (map[string]string, error) {
	var names []string
	for _, n := range append(slices.Clone(o.Names), o.References...) {
		if s.Exists(n) {
			names = append(names, n)
			continue
		}
		var pop workflow.PopulationSummary
		if s.GetRecord("populations", n, &pop) == nil {
			for _, m := range pop.Members {
				names = append(names, m.Name)
			}
		}
	}
	return weightDigests(s, names)
}

type sweepWeightsFile struct {
	Models map[string]string `json:"models"`
}

// sameSweepWeights reports whether path records exactly these weights.
func sameSweepWeights(path string, weights map[string]string) bool {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var f sweepWeightsFile
	return json.Unmarshal(raw, &f) == nil && sameJSON(f.Models, weights)
}

func writeSweepWeights(path string, weights map[string]string) error {
	raw, err := json.MarshalIndent(sweepWeightsFile{Models: weights}, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(path, append(raw, '\n'))
}

// removeSweepWeights removes path before a sweep is measured again, so a
// crash before the new results are complete leaves no record matching them.
func removeSweepWeights(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
