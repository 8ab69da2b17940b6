package modelstore

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
)

// Whatever JSON a manifest's fields hold, decoding them never panics; an
// error is one line naming the model and the field, and what is accepted is
// usable: a valid config of bounded size, a normalisation that fits its
// channels, data options a training can have had.
func FuzzManifestRecords(f *testing.F) {
	good := []string{
		`{"image_height":8,"image_width":8,"channels":1,"patch":4,"dim":16,"heads":2,"mlp":24,"depth":3,"classes":4,"variant":"baseline"}`,
		`{"mean":[0.13],"std":[0.31]}`,
		`{"options":{"epochs":1,"batch":8,"lr":0.003,"seed":1,"shuffle_per":"batch"},"data":{"data":"mnist","val_frac":0.1,"val_seed":0,"limit":3000},"params":100}`,
		`[{"epoch":1,"train_loss":1.2,"val_acc":0.5,"best":true}]`,
		`{"method":"random","from":["a","b"],"splice":{"stem":"a","head":"a","blocks":[{"model":"b","index":1}]}}`,
	}
	f.Add(good[0], good[1], good[2], good[3], good[4])
	f.Add(good[0], `{"mean":[0.1],"std":[0]}`, `{"imported_from":"x.safetensors"}`, ``, `{"kind":"prune","from":"m","kept":[0,2]}`)
	f.Add(`{"dim":"x"}`, `{"mean":[1e39],"std":[1]}`, `[1]`, `{}`, `"text"`)
	f.Add(`{"image_height":8,"image_width":8,"channels":3,"patch":4,"dim":1000000000,"heads":1,"mlp":1,"depth":99999,"classes":4,"variant":"shuffle-position","pos_dim":4}`,
		`{"mean":[0,0,0],"std":[1,1,1],"x":1}`, `{"data":{"val_frac":1}}`, `null`, `{"method":""}`)
	f.Add(good[0], good[1], `{"data":{"limit":-1}}`, `[{"epoch":"1"}]`, `{"method":"search","search":{"options":{"stem":5}}}`)
	f.Fuzz(func(t *testing.T, config, norm, training, history, recipe string) {
		raw := func(s string) json.RawMessage {
			if s == "" || !json.Valid([]byte(s)) {
				return nil // the store refuses what is not JSON
			}
			return json.RawMessage(s)
		}
		man := &checkpoint.Manifest{FormatVersion: checkpoint.ManifestFormatVersion, Name: "fz", Data: "mnist",
			Config: raw(config), Normalization: raw(norm), Training: raw(training), History: raw(history), Recipe: raw(recipe)}
		recs, err := DecodeRecords(man)
		if err != nil {
			var me *ManifestError
			if !errors.As(err, &me) || me.Model != "fz" || !strings.HasPrefix(err.Error(), "model fz: manifest field "+me.Field+": ") ||
				strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error %q does not name the model and field in one line", err)
			}
			return
		}
		c := recs.Config
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config %+v: %v", c, err)
		}
		if err := recs.Normalization.Check(c.Channels); err != nil {
			t.Fatalf("accepted normalisation %+v: %v", recs.Normalization, err)
		}
		if err := recs.Training.Data.check(); err != nil || recs.Training.Data.Spec == "" {
			t.Fatalf("accepted data options %+v: %v", recs.Training.Data, err)
		}
		if raw(recipe) != nil && !absent(raw(recipe)) && (recs.Recipe == nil || (recs.Recipe.Merge == nil) == (recs.Recipe.Prune == nil)) {
			t.Fatalf("accepted recipe %s as %+v", recipe, recs.Recipe)
		}
	})
}
