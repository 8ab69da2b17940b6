package dataset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
)

// IDX magic numbers: two zero bytes, the element type (0x08 unsigned byte)
// and the number of dimensions.
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
	// maxIDXSide rejects absurd image sides before anything is allocated.
	maxIDXSide = 1 << 16
)

// ReadIDXImages reads an uncompressed IDX file of unsigned-byte images
// (magic 0x00000803, dims N, H, W) from r and returns them as a one-channel
// Split without labels. The data must be exactly N*H*W bytes: a short or a
// longer file is an error. Errors do not name the file; callers add it.
func ReadIDXImages(r io.Reader) (*Split, error) {
	// The magic is checked before the rest of the header is read, so that a
	// short file of the wrong kind is reported as such.
	var hdr [16]byte
	if err := readHeader(r, hdr[:4], 0, "image"); err != nil {
		return nil, err
	}
	if magic := binary.BigEndian.Uint32(hdr[0:4]); magic != idxImagesMagic {
		return nil, badMagic(magic, idxImagesMagic, "IDX images of unsigned bytes")
	}
	if err := readHeader(r, hdr[:], 4, "image"); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[4:8])
	h := binary.BigEndian.Uint32(hdr[8:12])
	w := binary.BigEndian.Uint32(hdr[12:16])
	if h == 0 || w == 0 || h > maxIDXSide || w > maxIDXSide {
		return nil, fmt.Errorf("implausible image size %dx%d", h, w)
	}
	want := uint64(n) * uint64(h) * uint64(w) // < 2^64: n < 2^32, h*w <= 2^32
	if want > math.MaxInt64 || want > uint64(math.MaxInt) {
		return nil, fmt.Errorf("%d images of %dx%d are too large", n, h, w)
	}
	data, trailing, err := readExactly(r, int64(want))
	if err != nil {
		return nil, fmt.Errorf("reading image data after %d of %d bytes: %w", len(data), want, err)
	}
	if uint64(len(data)) < want {
		return nil, fmt.Errorf("truncated: want %d image bytes, got %d", want, len(data))
	}
	if trailing {
		return nil, fmt.Errorf("trailing data after %d images of %dx%d", n, h, w)
	}
	return &Split{Pixels: data, N: int(n), C: 1, H: int(h), W: int(w)}, nil
}

// ReadIDXLabels reads an uncompressed IDX file of unsigned-byte labels
// (magic 0x00000801, one dim N) from r. The data must be exactly N bytes.
func ReadIDXLabels(r io.Reader) ([]uint8, error) {
	var hdr [8]byte
	if err := readHeader(r, hdr[:4], 0, "label"); err != nil {
		return nil, err
	}
	if magic := binary.BigEndian.Uint32(hdr[0:4]); magic != idxLabelsMagic {
		return nil, badMagic(magic, idxLabelsMagic, "IDX labels of unsigned bytes")
	}
	if err := readHeader(r, hdr[:], 4, "label"); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[4:8])
	data, trailing, err := readExactly(r, int64(n))
	if err != nil {
		return nil, fmt.Errorf("reading label data after %d of %d bytes: %w", len(data), n, err)
	}
	if len(data) < int(n) {
		return nil, fmt.Errorf("truncated: want %d label bytes, got %d", n, len(data))
	}
	if trailing {
		return nil, fmt.Errorf("trailing data after %d labels", n)
	}
	return data, nil
}

// readHeader reads hdr[from:] (hdr[:from] was read before) and reports a
// short read with the number of header bytes the file held.
func readHeader(r io.Reader, hdr []byte, from int, what string) error {
	n, err := io.ReadFull(r, hdr[from:])
	switch {
	case err == nil:
		return nil
	case from+n == 0 && errors.Is(err, io.EOF):
		return fmt.Errorf("empty file: want an IDX %s header", what)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated: want a %d-byte IDX %s header, got %d bytes", len(hdr), what, from+n)
	default:
		return err
	}
}

func badMagic(got, want uint32, what string) error {
	return fmt.Errorf("bad magic 0x%08X: want 0x%08X (%s)", got, want, what)
}

// idxNames lists the accepted spellings of the four IDX files, first the
// canonical names, then the dotted ones some downloads use; each may also
// carry a .gz suffix.
var idxNames = map[string][]string{
	"train-images": {"train-images-idx3-ubyte", "train-images.idx3-ubyte"},
	"train-labels": {"train-labels-idx1-ubyte", "train-labels.idx1-ubyte"},
	"test-images":  {"t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"},
	"test-labels":  {"t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"},
}

// findIDXFile returns the path of one of the four IDX files in dir,
// preferring the uncompressed file when both exist (it reads faster).
func findIDXFile(dir, role string) (string, error) {
	for _, name := range idxNames[role] {
		for _, suffix := range []string{"", ".gz"} {
			if p := filepath.Join(dir, name+suffix); fileExists(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("dataset: %s: missing %s (or %[2]s.gz)", dir, idxNames[role][0])
}

// readIDXImagesFile and readIDXLabelsFile add the file name to reader errors.
func readIDXImagesFile(path string) (*Split, error) {
	return cachedIDXImages(path, func() (*Split, error) { return decodeIDXImagesFile(path) })
}

func decodeIDXImagesFile(path string) (*Split, error) {
	rc, err := openMaybeGzip(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer rc.Close()
	s, err := ReadIDXImages(rc)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return s, nil
}

func readIDXLabelsFile(path string) ([]uint8, error) {
	rc, err := openMaybeGzip(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer rc.Close()
	labels, err := ReadIDXLabels(rc)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return labels, nil
}

// readIDXPair reads one split: images plus labels of the same count.
func readIDXPair(dir, imagesRole, labelsRole string) (*Split, string, error) {
	imagesPath, err := findIDXFile(dir, imagesRole)
	if err != nil {
		return nil, "", err
	}
	labelsPath, err := findIDXFile(dir, labelsRole)
	if err != nil {
		return nil, "", err
	}
	s, err := readIDXImagesFile(imagesPath)
	if err != nil {
		return nil, "", err
	}
	labels, err := readIDXLabelsFile(labelsPath)
	if err != nil {
		return nil, "", err
	}
	if len(labels) != s.N {
		return nil, "", fmt.Errorf("dataset: %s has %d images but %s has %d labels", imagesPath, s.N, labelsPath, len(labels))
	}
	s.Labels = labels
	return s, labelsPath, nil
}

// LoadIDX reads the four IDX files (train-images-idx3-ubyte, ...-labels-idx1-ubyte,
// t10k-...; each optionally gzipped) of dir. numClasses > 0 fixes the number
// of classes and every label must be below it; numClasses <= 0 infers it as
// the largest label + 1. Class names are the digits "0", "1", ....
func LoadIDX(dir string, numClasses int) (*Dataset, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	train, trainLabels, err := readIDXPair(dir, "train-images", "train-labels")
	if err != nil {
		return nil, err
	}
	test, testLabels, err := readIDXPair(dir, "test-images", "test-labels")
	if err != nil {
		return nil, err
	}
	if train.N == 0 {
		return nil, fmt.Errorf("dataset: %s: no training images", dir)
	}
	if test.H != train.H || test.W != train.W {
		return nil, fmt.Errorf("dataset: %s: test images are %dx%d but training images are %dx%d", dir, test.H, test.W, train.H, train.W)
	}
	if numClasses <= 0 {
		numClasses = max(maxLabel(train.Labels), maxLabel(test.Labels)) + 1
	}
	if err := checkLabels(train.Labels, numClasses, trainLabels); err != nil {
		return nil, err
	}
	if err := checkLabels(test.Labels, numClasses, testLabels); err != nil {
		return nil, err
	}
	return &Dataset{Classes: digitNames(numClasses), Train: train, Test: test}, nil
}

func maxLabel(labels []uint8) int {
	m := 0
	for _, l := range labels {
		m = max(m, int(l))
	}
	return m
}

// checkLabels names the first label that is not a valid class index.
func checkLabels(labels []uint8, numClasses int, path string) error {
	for i, l := range labels {
		if int(l) >= numClasses {
			return fmt.Errorf("dataset: %s: label %d of image %d is out of range (%d classes)", path, l, i, numClasses)
		}
	}
	return nil
}

func digitNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}
