package workflow

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/procstat"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/trainer"
)

// DataBenchRequest is `frankenvit bench data`: read a data set's training
// split once, batch by batch, as a training reads it.
type DataBenchRequest struct {
	Data    modelstore.DataOptions // Spec and Limit; ValFrac 0
	Image   [2]int                 // full-size folder data: the input size
	Augment bool                   // timm's training transform (full-size folder data)
	Batch   int
	Seed    uint64
	Log     io.Writer
}

// DataBenchResult is how fast the data was read and how much memory it took.
type DataBenchResult struct {
	Data         string  `json:"data"`
	Images       int     `json:"images"`
	Input        string  `json:"input"` // CxHxW of one model input
	Augment      bool    `json:"augment"`
	Threads      int     `json:"threads"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_second"`
	RSSPeakMB    float64 `json:"rss_peak_mb"`
}

// BenchData reads every training image once, in a seeded random order, in
// batches filled as trainer.Train fills them (decoded in parallel for
// full-size folder data), and reports images/s and the peak resident set.
func BenchData(req DataBenchRequest) (*DataBenchResult, error) {
	if req.Batch <= 0 {
		return nil, fmt.Errorf("--batch must be positive, got %d", req.Batch)
	}
	pre, err := fullSizePreprocess(req.Data, req.Image, nil)
	if err != nil {
		return nil, err
	}
	req.Data.Preprocess = pre
	start := time.Now()
	d, err := modelstore.LoadData(req.Data)
	if err != nil {
		return nil, err
	}
	tr := d.Train
	norm := dataset.Normalization{Mean: make([]float32, tr.C), Std: make([]float32, tr.C)}
	for c := range norm.Std {
		norm.Std[c] = 1
	}
	var aug *dataset.Augment
	if req.Augment {
		if !tr.Lazy() {
			return nil, fmt.Errorf("--augment applies to full-size folder data (give --image)")
		}
		aug = &dataset.Augment{RandomResizedCrop: true}
	}
	rng := rand.New(rand.NewPCG(req.Seed, 3))
	perm := rand.New(rand.NewPCG(req.Seed, 1)).Perm(tr.N)
	rows := min(req.Batch, tr.N) // a batch past the split is the whole split
	x := make([]float32, rows*tr.ImageSize())
	labels := make([]int32, rows)
	tick := trainer.NewCounter(req.Log, "reading "+req.Data.Spec+" (images)", tr.N)
	for lo := 0; lo < tr.N; lo += req.Batch {
		idx := perm[lo:min(lo+req.Batch, tr.N)]
		if err := tr.Fill(x[:len(idx)*tr.ImageSize()], labels[:len(idx)], idx, norm, aug, rng); err != nil {
			return nil, err
		}
		tick(lo + len(idx))
	}
	secs := time.Since(start).Seconds()
	return &DataBenchResult{Data: req.Data.Spec, Images: tr.N, Input: fmt.Sprintf("%dx%dx%d", tr.C, tr.H, tr.W),
		Augment: req.Augment, Threads: runtime.GOMAXPROCS(0), Seconds: secs, ImagesPerSec: float64(tr.N) / secs,
		RSSPeakMB: procstat.MB("VmHWM")}, nil
}

// Table is the result as one row.
func (r *DataBenchResult) Table() *table.Table {
	t := &table.Table{Title: "data loading (listing, reading, decoding, resizing, normalising)",
		Header: []string{"data", "images", "input", "augment", "threads", "seconds", "images/s", "peak RSS MB"}}
	t.Add(r.Data, fmt.Sprint(r.Images), r.Input, fmt.Sprint(r.Augment), fmt.Sprint(r.Threads), fmt.Sprintf("%.1f", r.Seconds),
		fmt.Sprintf("%.0f", r.ImagesPerSec), fmt.Sprintf("%.0f", r.RSSPeakMB))
	return t
}
