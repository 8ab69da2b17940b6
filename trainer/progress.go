package trainer

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress reports a running epoch: a bar on a terminal, plain lines in logs.
type Progress interface {
	StartEpoch(epoch, epochs, steps int)
	Update(step int, loss, acc, imagesPerSec float64)
	EndEpoch(rec EpochRecord)
}

// NewProgress picks a bar when w is a terminal and plain lines otherwise;
// a nil w reports nothing.
func NewProgress(w io.Writer) Progress {
	if w == nil {
		return quiet{}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

type quiet struct{}

func (quiet) StartEpoch(int, int, int)              {}
func (quiet) Update(int, float64, float64, float64) {}
func (quiet) EndEpoch(EpochRecord)                  {}

type barProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	epoch string
}

func (p *barProgress) StartEpoch(epoch, epochs, steps int) {
	p.epoch = fmt.Sprintf("epoch %d/%d", epoch, epochs)
	p.bar = progressbar.NewOptions(steps, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(p.epoch),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(24), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

func (p *barProgress) Update(step int, loss, acc, ips float64) {
	p.bar.Describe(fmt.Sprintf("%s loss %.4f acc %.2f%% %4.0f img/s", p.epoch, loss, 100*acc, ips))
	_ = p.bar.Set(step)
}

func (p *barProgress) EndEpoch(rec EpochRecord) {
	_ = p.bar.Finish()
	fmt.Fprintln(p.w, rec.Line())
}

type lineProgress struct {
	w          io.Writer
	epoch      string
	steps      int
	lastReport time.Time
}

func (p *lineProgress) StartEpoch(epoch, epochs, steps int) {
	p.epoch, p.steps, p.lastReport = fmt.Sprintf("epoch %d/%d", epoch, epochs), steps, time.Now()
}

// Update prints at most one line every 10 seconds so logs stay readable.
func (p *lineProgress) Update(step int, loss, acc, ips float64) {
	if time.Since(p.lastReport) < 10*time.Second {
		return
	}
	p.lastReport = time.Now()
	fmt.Fprintf(p.w, "%s step %d/%d loss %.4f acc %.2f%% %.0f img/s\n", p.epoch, step, p.steps, loss, 100*acc, ips)
}

func (p *lineProgress) EndEpoch(rec EpochRecord) { fmt.Fprintln(p.w, rec.Line()) }

// NewCounter reports progress through total units of work described by what:
// a bar on a terminal, a line every 10 seconds in logs, nothing for a nil w.
// Call the returned function with the number of units done.
func NewCounter(w io.Writer, what string, total int) func(done int) {
	if w == nil {
		return func(int) {}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(24), progressbar.OptionClearOnFinish())
		return func(done int) { _ = bar.Set(done) }
	}
	last := time.Now()
	return func(done int) {
		if time.Since(last) >= 10*time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(w, "%s: %d/%d\n", what, done, total)
		}
	}
}
