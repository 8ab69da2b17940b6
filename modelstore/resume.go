package modelstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// A resume state is kept in the store as one safetensors file: the current
// weights, the AdamW moments and the best epoch's weights, each tensor named
// by group and index in Model.Params() order, and the rest as JSON metadata.

type stateMeta struct {
	Epoch     int                   `json:"epoch"`
	Steps     int                   `json:"steps"`
	BestEpoch int                   `json:"best_epoch"`
	BestVal   float64               `json:"best_val"`
	History   []trainer.EpochRecord `json:"history"`
}

func stateTensorName(group string, i int) string { return fmt.Sprintf("%s.%04d", group, i) }

// SaveState writes the state of m's training after an epoch.
func SaveState(s *checkpoint.Store, m *vit.Model, st *trainer.State) error {
	ts := checkpoint.Tensors{}
	for i, p := range m.Params() {
		ts[stateTensorName("weights", i)] = checkpoint.Tensor{Shape: p.Shape, Data: p.Data()}
		ts[stateTensorName("adam_m", i)] = checkpoint.Tensor{Shape: p.Shape, Data: st.M[i]}
		ts[stateTensorName("adam_v", i)] = checkpoint.Tensor{Shape: p.Shape, Data: st.V[i]}
		ts[stateTensorName("best", i)] = checkpoint.Tensor{Shape: p.Shape, Data: st.Best[i]}
	}
	meta, err := json.Marshal(stateMeta{Epoch: st.Epoch, Steps: st.Steps, BestEpoch: st.BestEpoch, BestVal: st.BestVal,
		History: st.History})
	if err != nil {
		return err
	}
	return s.SaveState(m.Name, ts, map[string]string{"frankenvit_state": string(meta)})
}

// LoadState puts the saved current weights into m and returns the state to
// resume from, or nil when the store has none. The store verifies the
// state's checksum; a state that fails it, or does not fit m, is an error:
// the training refuses to resume (rather than resume from garbage or
// silently start over) and says how to start over.
func LoadState(s *checkpoint.Store, m *vit.Model) (*trainer.State, error) {
	ts, meta, err := s.LoadState(m.Name)
	if errors.Is(err, checkpoint.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: cannot resume: %w; pass --overwrite to start the training over", m.Name, err)
	}
	var sm stateMeta
	raw, ok := meta["frankenvit_state"]
	if !ok {
		return nil, fmt.Errorf("model %s: cannot resume: the resume state has no frankenvit_state metadata; pass --overwrite to start the training over", m.Name)
	}
	if err := decodeStrict(json.RawMessage(raw), &sm); err != nil {
		return nil, fmt.Errorf("model %s: cannot resume: the resume state's frankenvit_state metadata: %v", m.Name, err)
	}
	params := m.Params()
	st := &trainer.State{Epoch: sm.Epoch, Steps: sm.Steps, BestEpoch: sm.BestEpoch, BestVal: sm.BestVal, History: sm.History,
		M: make([][]float32, len(params)), V: make([][]float32, len(params)), Best: make([][]float32, len(params))}
	for i, p := range params {
		get := func(group string) ([]float32, error) {
			t, ok := ts[stateTensorName(group, i)]
			if !ok || len(t.Data) != p.Size() {
				return nil, fmt.Errorf("model %s: cannot resume: the resume state's %s of %s is missing or mis-sized; pass --overwrite to start the training over", m.Name, group, p.Name)
			}
			return t.Data, nil
		}
		w, err := get("weights")
		if err != nil {
			return nil, err
		}
		copy(p.Data(), w)
		if st.M[i], err = get("adam_m"); err != nil {
			return nil, err
		}
		if st.V[i], err = get("adam_v"); err != nil {
			return nil, err
		}
		if st.Best[i], err = get("best"); err != nil {
			return nil, err
		}
	}
	return st, nil
}
