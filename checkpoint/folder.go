package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// File names of a published model folder (timm's hub layout and Hugging
// Face's): one safetensors file, or shards listed by an index.
const (
	FolderWeights = "model.safetensors"
	FolderIndex   = "model.safetensors.index.json"
	folderPickle  = "pytorch_model.bin"
)

// ReadSafetensorsFolder reads the weights of a published model folder:
// model.safetensors, or the shards that model.safetensors.index.json lists
// in its weight_map (every tensor must be in the shard the index names, and
// every shard tensor in the index). A folder with only pytorch_model.bin is
// refused: frankenvit reads safetensors only.
func ReadSafetensorsFolder(dir string) (Tensors, error) {
	ts, err := readFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %v", dir, err)
	}
	return ts, nil
}

func readFolder(dir string) (Tensors, error) {
	if _, err := os.Stat(filepath.Join(dir, FolderWeights)); err == nil {
		ts, _, err := ReadSafetensorsFile(filepath.Join(dir, FolderWeights))
		return ts, err
	}
	index, err := os.ReadFile(filepath.Join(dir, FolderIndex))
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir, folderPickle)); err == nil {
			return nil, fmt.Errorf("has only %s, a pickle: frankenvit reads safetensors only (convert it with "+
				"safetensors.torch.save_file, or download the model's %s)", folderPickle, FolderWeights)
		}
		return nil, fmt.Errorf("has neither %s nor %s", FolderWeights, FolderIndex)
	}
	if err != nil {
		return nil, err
	}
	weightMap, err := parseIndex(index)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", FolderIndex, err)
	}
	byShard := map[string][]string{}
	for name, shard := range weightMap {
		byShard[shard] = append(byShard[shard], name)
	}
	shards := make([]string, 0, len(byShard))
	for shard := range byShard {
		shards = append(shards, shard)
	}
	sort.Strings(shards)
	all := Tensors{}
	for _, shard := range shards {
		if shard == "" || filepath.Base(shard) != shard {
			return nil, fmt.Errorf("%s: shard %q must be a file name in the folder", FolderIndex, shard)
		}
		ts, _, err := ReadSafetensorsFile(filepath.Join(dir, shard))
		if err != nil {
			return nil, err
		}
		for name, t := range ts {
			if weightMap[name] != shard {
				return nil, fmt.Errorf("shard %s holds tensor %q, which %s places in %q", shard, name, FolderIndex, weightMap[name])
			}
			all[name] = t
		}
		for _, name := range byShard[shard] {
			if _, ok := ts[name]; !ok {
				return nil, fmt.Errorf("%s places tensor %q in shard %s, which does not hold it", FolderIndex, name, shard)
			}
		}
	}
	return all, nil
}

// parseIndex reads the weight_map of a shard index.
func parseIndex(data []byte) (map[string]string, error) {
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("not a shard index: %v", err)
	}
	if len(index.WeightMap) == 0 {
		return nil, errors.New("no weight_map")
	}
	return index.WeightMap, nil
}

// FolderFile is one file of a folder written by WriteFolder.
type FolderFile struct {
	Name  string
	Write func(io.Writer) error
}

// JSONFile is a FolderFile holding v as indented JSON.
func JSONFile(name string, v any) FolderFile {
	return FolderFile{Name: name, Write: func(w io.Writer) error {
		enc := json.NewEncoder(w) // into WriteFolder's temporary file: a failed encoding leaves nothing
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}}
}

// WriteFolder creates the folder dir holding files, all or nothing: the
// files are written durably into a temporary folder beside dir, which is
// then renamed into place. An existing dir must be empty (it is replaced);
// a non-empty one is refused.
func WriteFolder(dir string, files []FolderFile) error {
	if err := writeFolder(dir, files); err != nil {
		return fmt.Errorf("checkpoint: %s: %v", dir, err)
	}
	return nil
}

func writeFolder(dir string, files []FolderFile) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("the folder exists and is not empty (%d entries): export into a new or empty folder", len(entries))
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	tmp, err := os.MkdirTemp(parent, durable.TempPrefix+filepath.Base(dir)+"-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := durable.Write(filepath.Join(tmp, f.Name), f.Write); err != nil {
			return fmt.Errorf("%s: %v", f.Name, err)
		}
	}
	// rename(2) replaces an empty folder and refuses a non-empty one, so a
	// folder filled meanwhile is not overwritten.
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	done = true
	return durable.SyncDir(parent)
}
