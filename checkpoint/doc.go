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
//
// Blobs are immutable and shared: two models with an identical part store it
// once, and a Frankenstein model is only a manifest that points at other
// models' block blobs, so it adds no weight bytes. Every blob is checked
// against its hash when read.
//
// Every write is atomic (a temporary file in the same directory, fsync,
// rename or link, fsync of the directory), so a crash never leaves a partial
// blob or manifest, and several processes may write to one store at once:
// blobs with the same content are interchangeable, Create refuses a name that
// already exists, and Replace swaps a whole manifest at once. Temporary files
// start with "." and are ignored by readers.
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
