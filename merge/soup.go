package merge

import (
	"errors"
	"fmt"
	"sort"

	"github.com/frankenvit/frankenvit/vit"
)

// SoupResult says what a soup is made of and, for a greedy soup, how each
// candidate fared.
type SoupResult struct {
	Greedy      bool       `json:"greedy"`
	Ingredients []string   `json:"ingredients"` // the models averaged, in the order they were added
	Steps       []SoupStep `json:"steps,omitempty"`
	Score       float64    `json:"score,omitempty"` // the greedy soup's validation score
}

// SoupStep is one candidate of a greedy soup, best first.
type SoupStep struct {
	Model  string  `json:"model"`
	Alone  float64 `json:"alone"`   // the candidate's own score
	WithIt float64 `json:"with_it"` // the soup's score with the candidate added
	Kept   bool    `json:"kept"`
}

// Average returns a model named name whose every parameter is the mean of
// the models' (Wortsman et al.'s uniform soup). The models must have the
// same parameters (names and shapes, blocks in the same plan positions); a
// block i of the result is the average of the models' blocks i. The sums run
// in float64 in model order, so the result does not depend on anything else.
func Average(name string, models ...*vit.Model) (*vit.Model, error) {
	if len(models) == 0 {
		return nil, errors.New("a soup needs at least one model")
	}
	first := models[0]
	for _, m := range models[1:] {
		if err := vit.SameShapes(first, m); err != nil {
			return nil, fmt.Errorf("cannot average: %v", err)
		}
	}
	out, err := emptyLike(name, first)
	if err != nil {
		return nil, fmt.Errorf("cannot average: %v", err)
	}
	dst := out.Params()
	srcs := make([][]*vit.Param, len(models))
	for i, m := range models {
		srcs[i] = m.Params()
	}
	sum := []float64{}
	for k, p := range dst {
		d := p.Data()
		if cap(sum) < len(d) {
			sum = make([]float64, len(d))
		}
		sum = sum[:len(d)]
		clear(sum)
		for _, ps := range srcs {
			for j, v := range ps[k].Data() {
				sum[j] += float64(v)
			}
		}
		for j := range d {
			d[j] = float32(sum[j] / float64(len(models)))
		}
	}
	return out, nil
}

// Scorer measures a model, higher is better (validation accuracy).
type Scorer func(m *vit.Model) float64

// GreedySoup is Wortsman et al.'s greedy soup: the models are ranked by
// their own score, the best starts the soup, and each next one is added
// only if the average with it scores at least as well as without. So the
// soup scores at least as well as the best model (on the scorer's data).
func GreedySoup(name string, models []*vit.Model, score Scorer) (*vit.Model, *SoupResult, error) {
	if len(models) == 0 {
		return nil, nil, errors.New("a soup needs at least one model")
	}
	for _, m := range models[1:] {
		if err := vit.SameShapes(models[0], m); err != nil {
			return nil, nil, fmt.Errorf("cannot average: %v", err)
		}
	}
	alone := make([]float64, len(models))
	order := make([]int, len(models))
	for i, m := range models {
		alone[i], order[i] = score(m), i
	}
	sort.SliceStable(order, func(a, b int) bool { return alone[order[a]] > alone[order[b]] })
	res := &SoupResult{Greedy: true}
	kept := []*vit.Model{models[order[0]]}
	soup, err := Average(name, kept...)
	if err != nil {
		return nil, nil, err
	}
	best := alone[order[0]]
	res.Steps = append(res.Steps, SoupStep{Model: models[order[0]].Name, Alone: best, WithIt: best, Kept: true})
	res.Ingredients = append(res.Ingredients, models[order[0]].Name)
	for _, i := range order[1:] {
		cand, err := Average(name, append(kept[:len(kept):len(kept)], models[i])...)
		if err != nil {
			return nil, nil, err
		}
		s := score(cand)
		step := SoupStep{Model: models[i].Name, Alone: alone[i], WithIt: s}
		if s >= best {
			kept, soup, best, step.Kept = append(kept, models[i]), cand, s, true
			res.Ingredients = append(res.Ingredients, models[i].Name)
		}
		res.Steps = append(res.Steps, step)
	}
	res.Score = best
	return soup, res, nil
}
