package dataset

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CIFAR-10 binary records: one label byte, then a 3x32x32 channel-first image.
const (
	cifarSide       = 32
	cifarChannels   = 3
	cifarImageBytes = cifarChannels * cifarSide * cifarSide
	cifarRecord     = 1 + cifarImageBytes
	cifarClasses    = 10
)

// CIFAR10Classes are the standard CIFAR-10 class names, used when
// batches.meta.txt is absent.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// ReadCIFAR reads one CIFAR-10 binary batch from r: records of 1 label byte
// (< 10) and 3072 image bytes. The size must be a positive multiple of 3073.
func ReadCIFAR(r io.Reader) (*Split, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return parseCIFAR(data)
}

func parseCIFAR(data []byte) (*Split, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("empty file: want CIFAR-10 records of %d bytes", cifarRecord)
	}
	if len(data)%cifarRecord != 0 {
		return nil, fmt.Errorf("size %d is not a multiple of the %d-byte CIFAR-10 record (%d whole records and %d bytes over)",
			len(data), cifarRecord, len(data)/cifarRecord, len(data)%cifarRecord)
	}
	n := len(data) / cifarRecord
	s := &Split{
		Pixels: make([]uint8, n*cifarImageBytes),
		Labels: make([]uint8, n),
		N:      n, C: cifarChannels, H: cifarSide, W: cifarSide,
	}
	for i := 0; i < n; i++ {
		rec := data[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] >= cifarClasses {
			return nil, fmt.Errorf("label %d of record %d is out of range (%d classes)", rec[0], i, cifarClasses)
		}
		s.Labels[i] = rec[0]
		copy(s.Pixels[i*cifarImageBytes:], rec[1:])
	}
	return s, nil
}

func readCIFARFile(path string) (*Split, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	s, err := parseCIFAR(data)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return s, nil
}

// cifarTrainFiles are the five training batches of the binary version.
var cifarTrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}

// LoadCIFAR10 reads the CIFAR-10 binary version from dir, or from
// dir/cifar-10-batches-bin as the archive unpacks: data_batch_1..5.bin are
// the training split, test_batch.bin the test split, and batches.meta.txt,
// when present, names the classes.
func LoadCIFAR10(dir string) (*Dataset, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	base := dir
	if !fileExists(filepath.Join(base, cifarTrainFiles[0])) {
		if nested := filepath.Join(dir, "cifar-10-batches-bin"); fileExists(filepath.Join(nested, cifarTrainFiles[0])) {
			base = nested
		}
	}
	for _, name := range slices.Concat(cifarTrainFiles, []string{"test_batch.bin"}) {
		if !fileExists(filepath.Join(base, name)) {
			return nil, fmt.Errorf("dataset: %s: missing %s (want the CIFAR-10 binary version: data_batch_1..5.bin and test_batch.bin)", base, name)
		}
	}
	var batches []*Split
	for _, name := range cifarTrainFiles {
		s, err := readCIFARFile(filepath.Join(base, name))
		if err != nil {
			return nil, err
		}
		batches = append(batches, s)
	}
	test, err := readCIFARFile(filepath.Join(base, "test_batch.bin"))
	if err != nil {
		return nil, err
	}
	classes, err := readCIFARClassNames(filepath.Join(base, "batches.meta.txt"))
	if err != nil {
		return nil, err
	}
	return &Dataset{Classes: classes, Train: concatSplits(batches), Test: test}, nil
}

// readCIFARClassNames reads one class name per line, ignoring blank lines.
func readCIFARClassNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return append([]string(nil), CIFAR10Classes...), nil
	}
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if name := strings.TrimSpace(line); name != "" {
			names = append(names, name)
		}
	}
	if len(names) != cifarClasses {
		return nil, fmt.Errorf("dataset: %s: want %d class names, one per line, got %d", path, cifarClasses, len(names))
	}
	return names, nil
}

// concatSplits joins splits of the same image shape, in order.
func concatSplits(parts []*Split) *Split {
	out := &Split{C: parts[0].C, H: parts[0].H, W: parts[0].W}
	for _, p := range parts {
		out.N += p.N
	}
	out.Pixels = make([]uint8, 0, out.N*out.ImageSize())
	out.Labels = make([]uint8, 0, out.N)
	for _, p := range parts {
		out.Pixels = append(out.Pixels, p.Pixels...)
		out.Labels = append(out.Labels, p.Labels...)
	}
	return out
}
