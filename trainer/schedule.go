package trainer

import "math"

// Schedule is linear warm-up from 0 to Peak over Warmup steps, then cosine
// (or, with Linear, straight-line) decay to Final*Peak at Total steps.
type Schedule struct {
	Peak   float64
	Warmup int
	Total  int
	Final  float64 // fraction of Peak reached at the end
	Linear bool    // linear decay (the paper's fine-tuning) instead of cosine
}

// LR is the learning rate of 0-based step.
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step+1) / float64(s.Warmup)
	}
	span := s.Total - s.Warmup
	if span <= 0 {
		return s.Peak
	}
	progress := math.Min(1, float64(step-s.Warmup)/float64(span))
	low := s.Peak * s.Final
	if s.Linear {
		return s.Peak - (s.Peak-low)*progress
	}
	return low + (s.Peak-low)*0.5*(1+math.Cos(math.Pi*progress))
}
