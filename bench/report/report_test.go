package report

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/bench/plot"
	"github.com/frankenvit/frankenvit/bench/table"
)

func sample(t *testing.T) *Report {
	t.Helper()
	fig := &plot.Figure{Panels: []plot.Panel{{Title: "curve", XLabel: "x", YLabel: "y", Series: []plot.Series{
		{Name: "a", X: []float64{0, 1}, Y: []float64{1, 2}, Low: []float64{0.5, 1.5}, High: []float64{1.5, 2.5}}}}}}
	var svg, png bytes.Buffer
	if err := fig.Write(&svg, "svg"); err != nil {
		t.Fatal(err)
	}
	if err := fig.Write(&png, "png"); err != nil {
		t.Fatal(err)
	}
	tab := &table.Table{Title: "numbers", Header: []string{"model", "accuracy"}}
	tab.Add("m<1>", "97.00%")
	wide := &table.Table{Title: "a wide table", Header: []string{"cell"}}
	row := []string{"b0@s0"}
	for i := 0; i < 60; i++ {
		wide.Header = append(wide.Header, fmt.Sprintf("column %d", i))
		row = append(row, "0.123")
	}
	wide.Add(row...)
	return &Report{Title: "A study", Generated: time.Unix(0, 0), Source: "s.yaml", Text: "name: s\n# <script>alert(1)</script>\n",
		Versions: [][2]string{{"go", "go1.26"}},
		Sections: []Section{{Heading: "Results", Text: "First.\n\nSecond.", Tables: []*table.Table{tab},
			Figures: []Figure{{Caption: "svg curve", SVG: svg.Bytes()}, {Caption: "png curve", PNG: png.Bytes()}},
			Parts: []Part{{Heading: "A measure", Text: "What it <measures>.", Tables: []*table.Table{wide},
				Figures: []Figure{{Caption: "the curve again", SVG: svg.Bytes()}}}}}}}
}

func TestWriteHTML(t *testing.T) {
	var b bytes.Buffer
	if err := sample(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{"<h1>A study</h1>", "<caption>numbers</caption>", "<td>m&lt;1&gt;</td>", "<svg", "data:image/png;base64,",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "<p>Second.</p>", "<td>go1.26</td>",
		"<h3>A measure</h3>", "<p>What it &lt;measures&gt;.</p>", "<caption>a wide table</caption>", "<figcaption>the curve again</figcaption>"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(html, "<?xml") || strings.Contains(html, "http://") && strings.Contains(html, "src=\"http") {
		t.Error("the page is not self-contained or carries an XML declaration")
	}
	bad := sample(t)
	bad.Sections[0].Figures[0].SVG = []byte("not an image")
	if err := bad.WriteHTML(&bytes.Buffer{}); err == nil {
		t.Error("a figure that is not SVG was accepted")
	}
	bad = sample(t)
	bad.Sections[0].Parts[0].Figures[0].SVG = nil
	if err := bad.WriteHTML(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "the curve again") {
		t.Errorf("a part's figure without an image was accepted: %v", err)
	}
	// The parts come after the section's own figures, in order.
	if i, j := strings.Index(html, "png curve"), strings.Index(html, "<h3>A measure</h3>"); i < 0 || j < i {
		t.Error("the part is not after the section's figures")
	}
}

// RenderHeadless opens a page in headless Chromium and returns the verdict
// of the page's own render check.
func renderHeadless(t *testing.T, path string) string {
	t.Helper()
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("needs Debian package chromium (apt-get install chromium)")
	}
	out, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000", "--dump-dom", "file://"+path).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	i := strings.Index(dom, `id="render-check">`)
	if i < 0 {
		t.Fatalf("no render check in the rendered page:\n%.500s", dom)
	}
	verdict := dom[i+len(`id="render-check">`):]
	return verdict[:strings.Index(verdict, "<")]
}

func TestRendersInChromium(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.html")
	var b bytes.Buffer
	if err := sample(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(good, b.Bytes(), 0o644)
	if v := renderHeadless(t, good); v != "ok: 3 figures, 3 tables" {
		t.Errorf("render check: %q", v)
	}
	// The check can fail: an empty drawing and a PNG that does not decode.
	broken := sample(t)
	broken.Sections[0].Figures[0].SVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>`)
	broken.Sections[0].Figures[1].PNG = []byte("not a png")
	broken.Sections[0].Parts[0].Figures[0].SVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>`)
	b.Reset()
	if err := broken.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, b.Bytes(), 0o644)
	if v := renderHeadless(t, bad); !strings.HasPrefix(v, "FAILED") || !strings.Contains(v, "figure 0") || !strings.Contains(v, "image 1") ||
		!strings.Contains(v, "figure 2 draws nothing") {
		t.Errorf("a broken page passed the render check: %q", v)
	}
}
