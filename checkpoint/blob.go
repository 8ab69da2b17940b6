package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/frankenvit/frankenvit/internal/durable"
	"github.com/klauspost/compress/zstd"
)

// digestPrefix is the only algorithm the store uses, as in OCI digests.
const digestPrefix = "sha256:"

// maxBlobDecoded caps a blob's decompressed size, so a small hostile blob
// (a zip bomb) cannot exhaust memory. A variable so tests can lower it.
var maxBlobDecoded int64 = 4 << 30

// maxBlobWindow caps the zstd window a blob may demand. Our encoder uses at
// most 8 MiB, so anything larger is not one of ours.
const maxBlobWindow = 64 << 20

// The level is fixed and each encoder runs on one goroutine, so a part
// always compresses to the same bytes and so to the same digest.
var encoders = sync.Pool{New: func() any {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		panic("checkpoint: zstd encoder: " + err.Error()) // only on invalid options
	}
	return enc
}}

var decoders = sync.Pool{New: func() any {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(uint64(maxBlobWindow)), zstd.WithDecoderMaxWindow(maxBlobWindow))
	if err != nil {
		panic("checkpoint: zstd decoder: " + err.Error())
	}
	return dec
}}

func compress(raw []byte) []byte {
	enc := encoders.Get().(*zstd.Encoder)
	defer encoders.Put(enc)
	return enc.EncodeAll(raw, make([]byte, 0, len(raw)/2+64))
}

// decompress streams so that memory follows the bytes actually produced
// (DecodeAll would trust the size declared in the frame header), and stops
// at the cap.
func decompress(stored []byte) ([]byte, error) {
	dec := decoders.Get().(*zstd.Decoder)
	defer decoders.Put(dec)
	if err := dec.Reset(bytes.NewReader(stored)); err != nil {
		return nil, err
	}
	defer dec.Reset(nil)
	out, err := io.ReadAll(io.LimitReader(dec, maxBlobDecoded+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > maxBlobDecoded {
		return nil, fmt.Errorf("decompresses to more than %d bytes", maxBlobDecoded)
	}
	return out, nil
}

// DigestOf is the digest of stored blob bytes: "sha256:<hex>".
func DigestOf(stored []byte) string {
	sum := sha256.Sum256(stored)
	return digestPrefix + hex.EncodeToString(sum[:])
}

// ValidDigest accepts exactly "sha256:" and 64 lowercase hex digits, so a
// digest can safely become a file name.
func ValidDigest(digest string) error {
	hexPart, ok := strings.CutPrefix(digest, digestPrefix)
	if !ok {
		return fmt.Errorf("store: invalid blob digest %q: must start with %q", digest, digestPrefix)
	}
	if len(hexPart) != 64 {
		return fmt.Errorf("store: invalid blob digest %q: need 64 hex digits, got %d", digest, len(hexPart))
	}
	for _, c := range hexPart {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("store: invalid blob digest %q: %q is not a lowercase hex digit", digest, c)
		}
	}
	return nil
}

// blobPath is where a valid digest lives.
func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.Dir, "blobs", "sha256", digest[len(digestPrefix):])
}

// EncodeBlob returns the stored bytes of a part (zstd-compressed
// safetensors without metadata) and their digest, without touching a store.
func EncodeBlob(ts Tensors) (stored []byte, digest string, err error) {
	if len(ts) == 0 {
		return nil, "", errors.New("store: refusing to store a part with no tensors")
	}
	raw, err := EncodeSafetensors(ts, nil)
	if err != nil {
		return nil, "", fmt.Errorf("store: encode part: %v", err)
	}
	stored = compress(raw)
	return stored, DigestOf(stored), nil
}

// PutBlob stores one part and returns its digest. Equal parts give equal
// bytes and so one file: an existing intact blob is not rewritten (a corrupt
// one is replaced). The write is atomic, so concurrent writers of the same
// part, even in several processes, are harmless.
//
// PutBlob holds the store's shared lock while it writes. A blob that no
// manifest references yet is garbage to GC, so a writer should put its
// blobs and write the manifest inside one WithSharedLock.
func (s *Store) PutBlob(ts Tensors) (string, error) {
	stored, digest, err := EncodeBlob(ts)
	if err != nil {
		return "", err
	}
	unlock, err := s.lockShared(false)
	if err != nil {
		return "", err
	}
	defer unlock()
	path := s.blobPath(digest)
	if existing, err := os.ReadFile(path); err == nil && bytes.Equal(existing, stored) {
		return digest, nil
	}
	err = durable.Write(path, func(w io.Writer) error {
		_, err := w.Write(stored)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: write blob %s: %v", digest, err)
	}
	return digest, nil
}

// BlobError is what is wrong with one stored blob. Problem is short
// ("missing", "hash mismatch", "invalid zstd data", "invalid safetensors",
// ...), Detail says more. A missing blob's error wraps ErrNotFound.
type BlobError struct {
	Digest  string
	Problem string
	Detail  string
	Err     error // the cause, if any (ErrNotFound for a missing blob)
}

func (e *BlobError) Error() string { return "store: blob " + e.Digest + ": " + e.describe() }

func (e *BlobError) Unwrap() error { return e.Err }

// describe is the problem and its detail, without the blob.
func (e *BlobError) describe() string {
	if e.Detail == "" {
		return e.Problem
	}
	return e.Problem + ": " + e.Detail
}

// readBlob returns the stored bytes of a blob after checking their hash.
func (s *Store) readBlob(digest string) ([]byte, error) {
	if err := ValidDigest(digest); err != nil {
		return nil, err
	}
	fail := func(problem, detail string, err error) ([]byte, error) {
		return nil, &BlobError{Digest: digest, Problem: problem, Detail: detail, Err: err}
	}
	path := s.blobPath(digest)
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fail("missing", fmt.Sprintf("%v in %s", ErrNotFound, s.Dir), ErrNotFound)
	}
	if err != nil {
		return fail("unreadable", err.Error(), err)
	}
	if !info.Mode().IsRegular() {
		return fail("not a regular file", path, nil)
	}
	if info.Size() > maxBlobDecoded {
		return fail("too large", fmt.Sprintf("%d bytes is more than a part can be", info.Size()), nil)
	}
	stored, err := os.ReadFile(path)
	if err != nil {
		return fail("unreadable", err.Error(), err)
	}
	if got := DigestOf(stored); got != digest {
		return fail("hash mismatch", fmt.Sprintf("the blob is corrupt: its %d bytes hash to %s", len(stored), got), nil)
	}
	return stored, nil
}

// GetBlob reads one part, verifying its hash before decoding anything.
// Problems with the blob are *BlobError.
func (s *Store) GetBlob(digest string) (Tensors, error) {
	stored, err := s.readBlob(digest)
	if err != nil {
		return nil, err
	}
	return DecodeBlob(digest, stored)
}

// DecodeBlob decodes the stored bytes of a part; digest only names it in
// errors, which are *BlobError. It does not check the hash: GetBlob does.
func DecodeBlob(digest string, stored []byte) (Tensors, error) {
	raw, err := decompress(stored)
	if err != nil {
		return nil, &BlobError{Digest: digest, Problem: "invalid zstd data", Detail: err.Error(), Err: err}
	}
	ts, _, err := decodeSafetensors(raw)
	if err != nil {
		return nil, &BlobError{Digest: digest, Problem: "invalid safetensors", Detail: err.Error(), Err: err}
	}
	if len(ts) == 0 {
		return nil, &BlobError{Digest: digest, Problem: "holds no tensors"}
	}
	return ts, nil
}

// BlobSize is the stored (compressed) size of a blob in bytes.
func (s *Store) BlobSize(digest string) (int64, error) {
	if err := ValidDigest(digest); err != nil {
		return 0, err
	}
	info, err := os.Stat(s.blobPath(digest))
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("store: blob %s: %w in %s", digest, ErrNotFound, s.Dir)
	}
	if err != nil {
		return 0, fmt.Errorf("store: blob %s: %v", digest, err)
	}
	return info.Size(), nil
}

// HasBlob reports whether a blob file is present (without verifying it).
func (s *Store) HasBlob(digest string) bool {
	if ValidDigest(digest) != nil {
		return false
	}
	info, err := os.Stat(s.blobPath(digest))
	return err == nil && info.Mode().IsRegular()
}
