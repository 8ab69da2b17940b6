// Package checkpoint stores trained Vision Transformers: the safetensors file
// format, a content-addressed store of model parts, and the manifests that
// assemble parts into models.
//
// The package is deliberately generic. A model arrives as named float32
// tensors (PyTorch layout) grouped in parts: the stem (patch, class and
// position embeddings), one part per encoder block, and the head. The store
// never interprets tensor names, except that Export prefixes block tensors
// with "blocks.{i}." so the file loads in timm.
//
// # The store
//
// A store is a directory laid out like an OCI image layout:
//
//	DIR/blobs/sha256/<hex>   one part as zstd-compressed safetensors;
//	                         <hex> is the SHA-256 of the stored (compressed) bytes
//	DIR/models/<name>.json   a manifest: config, data, history, metrics and
//	                         the plan, i.e. the blob of the stem, of each
//	                         block in execution order, and of the head
//	DIR/lock, DIR/lock.gate  the store-wide lock (see Locking)
//
// Blobs are immutable and shared: two models with an identical part store it
// once, and a Frankenstein model is only a manifest that points at other
// models' block blobs, so it adds no weight bytes. Every blob is checked
// against its hash when read.
//
// Every write is atomic (a temporary file in the same directory, fsync,
// rename or link, fsync of the directory), so a crash, even kill -9, never
// leaves a partial blob or manifest: a model's manifest is its previous
// version or its new one, and the previous version's blobs are still
// there. Blobs with the same content are interchangeable, Create refuses a
// name that already exists, and Replace swaps a whole manifest at once.
// Temporary files start with ".tmp-" and are ignored by readers.
//
// # Locking
//
// DIR/lock is a store-wide flock(2) lock, taken shared by everything that
// writes (PutBlob, Create, Replace, Import) or reads a model's blobs
// (LoadParts, Verify, Check, Export), and exclusive by what deletes (Remove
// and GC). So any number of processes, one per population member, write
// at once, while a gc waits until none is in the middle of a save and holds
// them off while it runs. DIR/lock.gate queues new shared holders behind a
// waiting gc, so a busy population cannot starve it. The kernel drops a
// dead process's locks: a killed writer never leaves the store locked. In
// one process the shared lock is taken once and counted: nested and
// concurrent holders share it and never wait for one another.
//
// Each call takes the lock for itself, but a save is several calls, and a
// blob that no manifest references yet is garbage to a gc running between
// them. So a writer holds the lock across the whole save with
// WithSharedLock (or LockShared):
//
//	err := s.WithSharedLock(func() error {
//		// PutBlob the stem, every block and the head, then
//		return s.Replace(m) // or s.Create(m)
//	})
//
// Remove and GC must not be called while holding the shared lock (they
// would wait for it forever).
//
// # Verify, rm and gc
//
// Check (store verify) reads every manifest and every blob it references,
// each distinct blob once, checking its hash and decoding it, and reports
// each problem with the model and the part it breaks: "model b: block 3
// (sha256:...): hash mismatch", a missing blob, an unreadable (truncated,
// invalid) manifest. A problem never hides another model's verdict. With
// no model named it also hashes the blobs that no manifest references and
// lists them as garbage, which is not a problem. Verify(name) is Check for
// one model, as an error.
//
// Remove (store rm) deletes a model's manifest, then every blob that no
// remaining manifest references: blob lifetimes are counted by manifests,
// so the donor blocks a Frankenstein model points at stay until the last
// model using them is removed. GC (store gc) deletes every unreferenced
// blob and every ".tmp-*" file: under the exclusive lock no writer is
// mid-save, so every temporary file is a leftover of a killed one,
// whatever its age. While any manifest is unreadable, which blobs are in
// use is unknown, so Remove (of another model) and GC change nothing and
// name the broken manifest; removing the broken model itself works.
//
// Reading is defensive: ReadSafetensors validates every header field and
// never panics, GetBlob checks the hash before decompressing and caps the
// decompressed size, Get names the model and the problem for a damaged
// manifest, and List returns the readable manifests together with a
// *ListError naming the broken ones.
//
// Export writes one plain safetensors file with timm's tensor names
// ("blocks.{i}." before each block tensor, i in execution order) and the
// model's config, normalisation and plan in its metadata; Import stores
// such a file as a new model.
package checkpoint
