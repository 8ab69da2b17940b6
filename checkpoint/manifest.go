package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// ManifestFormatVersion is the manifest format this package writes and reads.
const ManifestFormatVersion = 1

// maxNameLen bounds model names (they become file names).
const maxNameLen = 128

// PartRef points at one stored part and says where it came from.
type PartRef struct {
	Blob   string `json:"blob"`             // "sha256:<hex>"
	Source string `json:"source,omitempty"` // model the part was trained in (for a Frankenstein model, the donor)
	Index  int    `json:"index"`            // block index in the source model (0 for stem and head)
}

// Manifest describes one model: where its data and settings came from, how
// it trained, and its plan: the stem, the blocks in execution order, and the
// head, each by blob digest. Config, Normalization, Training, History and
// Recipe are JSON owned by other packages; the store only checks that they
// are valid JSON.
type Manifest struct {
	FormatVersion int                `json:"format_version"` // ManifestFormatVersion
	Name          string             `json:"name"`
	CreatedAt     time.Time          `json:"created_at"`
	Status        string             `json:"status"` // "training", "complete", "stopped: <reason>"
	Variant       string             `json:"variant"`
	Config        json.RawMessage    `json:"config"` // the model config, owned by package vit
	Data          string             `json:"data"`
	Normalization json.RawMessage    `json:"normalization,omitempty"`
	Preprocess    json.RawMessage    `json:"preprocess,omitempty"` // full-size image preprocessing (dataset.Preprocess) of an imported model
	Seed          uint64             `json:"seed"`
	Parent        string             `json:"parent,omitempty"`
	Training      json.RawMessage    `json:"training,omitempty"` // flags used
	History       json.RawMessage    `json:"history,omitempty"`  // per-epoch records
	Metrics       map[string]float64 `json:"metrics,omitempty"`
	Stem          PartRef            `json:"stem"`
	Blocks        []PartRef          `json:"blocks"` // the plan: the blocks in execution order
	Head          PartRef            `json:"head"`
	Recipe        json.RawMessage    `json:"recipe,omitempty"`
}

// ValidName accepts model names that are safe as file names everywhere:
// a letter or digit, then up to 127 letters, digits, '.', '_' or '-', and
// no "..".
func ValidName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("store: invalid model name %q: %s", name, why)
	}
	switch {
	case name == "":
		return bad("it is empty")
	case len(name) > maxNameLen:
		return bad(fmt.Sprintf("it is %d bytes long, the limit is %d", len(name), maxNameLen))
	case !isAlnum(name[0]):
		return bad("it must start with a letter or a digit")
	case strings.Contains(name, ".."):
		return bad(`it must not contain ".."`)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return bad(fmt.Sprintf("character %q is not allowed (use letters, digits, '.', '_' or '-')", c))
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Parts lists every part reference with a label for messages: "stem",
// "block 0", ..., "head".
func (m *Manifest) Parts() (labels []string, refs []PartRef) {
	labels = append(labels, "stem")
	refs = append(refs, m.Stem)
	for i, b := range m.Blocks {
		labels = append(labels, fmt.Sprintf("block %d", i))
		refs = append(refs, b)
	}
	return append(labels, "head"), append(refs, m.Head)
}

// Validate checks everything the store relies on: the format version, the
// names, the digests, the JSON fields and finite metrics.
func (m *Manifest) Validate() error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("store: manifest %q: %v", m.Name, err)
	}
	return nil
}

func (m *Manifest) validate() error {
	if m.FormatVersion != ManifestFormatVersion {
		return fmt.Errorf("format_version is %d, this frankenvit reads version %d", m.FormatVersion, ManifestFormatVersion)
	}
	if err := ValidName(m.Name); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "store: "))
	}
	if m.Parent != "" {
		if err := ValidName(m.Parent); err != nil {
			return fmt.Errorf("parent: %v", strings.TrimPrefix(err.Error(), "store: "))
		}
	}
	labels, refs := m.Parts()
	for i, ref := range refs {
		if err := ValidDigest(ref.Blob); err != nil {
			return fmt.Errorf("%s: %v", labels[i], strings.TrimPrefix(err.Error(), "store: "))
		}
		if ref.Source != "" {
			if err := ValidName(ref.Source); err != nil {
				return fmt.Errorf("%s source: %v", labels[i], strings.TrimPrefix(err.Error(), "store: "))
			}
		}
		if ref.Index < 0 {
			return fmt.Errorf("%s: negative index %d", labels[i], ref.Index)
		}
	}
	for _, f := range []struct {
		field string
		raw   json.RawMessage
	}{{"config", m.Config}, {"normalization", m.Normalization}, {"preprocess", m.Preprocess}, {"training", m.Training},
		{"history", m.History}, {"recipe", m.Recipe}} {
		if len(f.raw) > 0 && !json.Valid(f.raw) {
			return fmt.Errorf("%s is not valid JSON", f.field)
		}
	}
	for k, v := range m.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("metric %q is %v; only finite numbers can be stored", k, v)
		}
	}
	return nil
}

// DecodeManifest parses and validates one manifest file. Unknown fields and
// trailing data are errors: the manifest is the store's schema, and a typo
// in a hand-edited file should not pass silently.
func DecodeManifest(data []byte) (*Manifest, error) {
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("store: manifest: %v", err)
	}
	return m, nil
}

func decodeManifest(data []byte) (*Manifest, error) {
	// Check the version first, so a newer file says so instead of failing
	// on a field this version does not know.
	var version struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &version); err != nil {
		return nil, fmt.Errorf("invalid JSON%s: %v", jsonErrorPlace(data, err), strings.TrimPrefix(err.Error(), "json: "))
	}
	if version.FormatVersion == nil {
		return nil, errors.New("no format_version field")
	}
	if v := *version.FormatVersion; v != ManifestFormatVersion {
		return nil, fmt.Errorf("format_version is %d, this frankenvit reads version %d", v, ManifestFormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid manifest: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	// The file is indented for people; hand the JSON fields back compact,
	// as the writer gave them.
	for _, raw := range []*json.RawMessage{&m.Config, &m.Normalization, &m.Preprocess, &m.Training, &m.History, &m.Recipe} {
		if len(*raw) > 0 {
			*raw = compactJSON(*raw)
		}
	}
	return &m, nil
}

// jsonErrorPlace says where in data a JSON syntax error is (" in field F
// at line L, column C (TEXT)", F the top-level field it is in, the line's
// text shortened), so a hand-edited file points at its mistake (a NaN, a
// missing comma); "" for other errors.
func jsonErrorPlace(data []byte, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset <= 0 || se.Offset > int64(len(data)) {
		return ""
	}
	before := data[:se.Offset-1]
	line := 1 + bytes.Count(before, []byte{'\n'})
	start := bytes.LastIndexByte(before, '\n') + 1
	end := bytes.IndexByte(data[start:], '\n')
	if end < 0 {
		end = len(data) - start
	}
	text := strings.TrimSpace(string(data[start : start+end]))
	if len(text) > 60 {
		text = text[:57] + "..."
	}
	field := ""
	if k := topLevelKey(data); k != "" {
		field = fmt.Sprintf(" in field %s", k)
	}
	return fmt.Sprintf("%s at line %d, column %d (%q)", field, line, len(before)-start+1, text)
}

// topLevelKey is the last key of the top-level object that data's tokens
// reach before they stop being valid JSON.
func topLevelKey(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth, key, wantKey := 0, "", false
	for {
		tok, err := dec.Token()
		if err != nil {
			return key
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
			if depth == 1 {
				wantKey = d == '{' || d == '}' || d == ']'
			}
			continue
		}
		if depth == 1 {
			if s, ok := tok.(string); ok && wantKey {
				key = s
				wantKey = false
			} else {
				wantKey = true
			}
		}
	}
}

// encodeManifest is the stored form: indented for people, newline-terminated.
func encodeManifest(m *Manifest) ([]byte, error) {
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// compactJSON drops insignificant whitespace; raw is already known to be valid.
func compactJSON(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
