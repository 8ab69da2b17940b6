// Package durable is the one way frankenvit writes a file it means to keep
// (manifests, blobs, resume states, sweeps, plots, reports, analyses): the
// content goes to a temporary file beside the target, is fsynced, and is
// renamed (or linked) into place, and the folder is fsynced, so a reader or a
// crash sees the old file or the new one, never a mix, and a finished write
// survives a power cut.
package durable
