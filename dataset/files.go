package dataset

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// openMaybeGzip opens path and, when its content starts with the gzip magic,
// decompresses it: files are accepted with or without compression whatever
// their name says.
func openMaybeGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(2)
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return readCloser{zr, f}, nil
	}
	return readCloser{br, f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// initialBuffer bounds the buffer allocated up front from a size that a
// file's header claims, so a lying header cannot make the reader allocate
// gigabytes: the buffer then doubles only as real data arrives.
const initialBuffer = 1 << 20

// readExactly reads want bytes from r. It returns fewer when r ends early
// (the caller reports truncation with the count), and trailing is true when
// r holds more than want bytes. It reads r to its end so that a gzip
// checksum is verified.
func readExactly(r io.Reader, want int64) (data []byte, trailing bool, err error) {
	data = make([]byte, 0, min(want, initialBuffer))
	for int64(len(data)) < want {
		if len(data) == cap(data) { // double, but never past want
			grown := make([]byte, len(data), min(want, 2*int64(cap(data))))
			copy(grown, data)
			data = grown
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			return data, false, nil
		}
		if err != nil {
			return data, false, err
		}
	}
	var probe [1]byte
	for {
		n, err := r.Read(probe[:])
		if n > 0 {
			return data, true, nil
		}
		if errors.Is(err, io.EOF) {
			return data, false, nil
		}
		if err != nil {
			return data, false, err
		}
	}
}

// fileExists reports whether path names an existing regular file (or a
// symlink to one).
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// checkDir gives a missing or mistyped data directory its own clear error
// rather than one about the first file looked for in it.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("dataset: %s: no such directory", dir)
		}
		return fmt.Errorf("dataset: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("dataset: %s: not a directory", dir)
	}
	return nil
}
