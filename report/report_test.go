package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/internal/testenv"
	"github.com/frankenvit/frankenvit/plot"
	"github.com/frankenvit/frankenvit/table"
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
	if strings.Contains(html, "<?xml") {
		t.Error("the page carries an XML declaration")
	}
	// Self-contained: nothing loaded or linked from outside the page (the
	// checker can fire: TestExternalReferences), while the page does carry
	// the kinds of reference the checker lets through.
	if refs := ExternalReferences(b.Bytes()); len(refs) != 0 {
		t.Errorf("the page is not self-contained: %q", refs)
	}
	for _, inPage := range []string{`src="data:image/png;base64,`, `url(data:font/ttf;base64,`, `xmlns="http://www.w3.org/2000/svg"`} {
		if !strings.Contains(html, inPage) {
			t.Errorf("the page lacks %q, so the self-containment check saw none", inPage)
		}
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
	browser := testenv.NeedChromium(t)
	// A browser that hangs is killed, with the processes it started, after
	// two minutes (it renders in seconds).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000", "--dump-dom", "file://"+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("chromium: no page after 2 minutes")
	}
	if err != nil {
		t.Fatalf("chromium: %v: %s", err, lastLine(stderr.String()))
	}
	dom := string(out)
	i := strings.Index(dom, `id="render-check">`)
	if i < 0 {
		t.Fatalf("no render check in the rendered page:\n%.500s", dom)
	}
	verdict, _, ok := strings.Cut(dom[i+len(`id="render-check">`):], "<")
	if !ok {
		t.Fatalf("the render check's element does not end:\n%.500s", dom[i:])
	}
	return verdict
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func TestRendersInChromium(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.html")
	var b bytes.Buffer
	if err := sample(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
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
	if err := os.WriteFile(bad, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := renderHeadless(t, bad); !strings.HasPrefix(v, "FAILED") || !strings.Contains(v, "figure 0") || !strings.Contains(v, "image 1") ||
		!strings.Contains(v, "figure 2 draws nothing") {
		t.Errorf("a broken page passed the render check: %q", v)
	}
}

// The self-containment check flags every kind of external reference and
// lets in-page anchors, data: URIs and namespace names through.
func TestExternalReferences(t *testing.T) {
	for _, tc := range []struct {
		page string
		want []string
	}{
		{`<img src="https://example.com/a.png">`, []string{`src="https://example.com/a.png"`}},
		{`<IMG SRC=a.png alt=x>`, []string{`src="a.png"`}},
		{`<a href="http://example.com/">x</a>`, []string{`href="http://example.com/"`}},
		{`<link rel=stylesheet href='//cdn.example.com/s.css'>`, []string{`href="//cdn.example.com/s.css"`}},
		{`<svg><image xlink:href="pic.png" width="1"/></svg>`, []string{`xlink:href="pic.png"`}},
		{`<svg><use href = "other.svg#g"/></svg>`, []string{`href="other.svg#g"`}},
		{`<a href="&#104;ttp://x">`, []string{`href="http://x"`}},
		{`<script src="x.js"></script>`, []string{`src="x.js"`}},
		{`<img srcset="data:image/png;base64,AA== 1x, big.png 2x">`, []string{`srcset="data:image/png;base64,AA== 1x, big.png 2x"`}},
		{`<form action="/post"></form>`, []string{`action="/post"`}},
		{`<object data="x.swf"></object>`, []string{`data="x.swf"`}},
		{`<style>body { background: url( 'bg.png' ) }</style>`, []string{`url(bg.png)`}},
		{`<style>@font-face { src: url("https://fonts.example.com/f.ttf") }</style>`, []string{`url(https://fonts.example.com/f.ttf)`}},
		{`<style>@import "x.css";</style>`, []string{`@import "x.css"`}},
		{`<p style="background:URL(http://x/y.png)">`, []string{`url(http://x/y.png)`}},
		{`<svg><rect fill="url(other.svg#grad)"/></svg>`, []string{`url(other.svg#grad)`}},
		{`<meta http-equiv="refresh" content="0; url=http://x">`, []string{`meta refresh "0; url=http://x"`}},
		// Not external.
		{`<a href="#results">x</a><img src="data:image/png;base64,AA==">`, nil},
		{`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="#p"/></svg>`, nil},
		{`<style>@font-face { src: url(data:font/ttf;base64,AA==) }</style><rect clip-path="url(#c)"/>`, nil},
		{`<p>write src="x.png" or url(x.png) in text: &lt;img src="y"&gt;</p><!-- <img src="z.png"> -->`, nil},
		{`<img alt="see url(x.png)" title="href=y" src="data:,">`, nil},
		{`<script>var s = "<img src='x.png'>";</script>`, nil},
	} {
		got := ExternalReferences([]byte(tc.page))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s\n  flagged %q, want %q", tc.page, got, tc.want)
		}
	}
}

// The generator refuses a figure that would make the page load something,
// naming the figure, and writes nothing.
func TestWriteHTMLRefusesExternalReferences(t *testing.T) {
	for _, svg := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg"><image href="http://example.com/a.png" width="1" height="1"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(s.css);</style><path d="M0,0"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(x.svg#g)"/></svg>`,
	} {
		r := sample(t)
		r.Sections[0].Parts[0].Figures[0].SVG = []byte(svg)
		var b bytes.Buffer
		err := r.WriteHTML(&b)
		if err == nil || !strings.Contains(err.Error(), `figure "the curve again" refers to`) || !strings.Contains(err.Error(), "outside the page") {
			t.Errorf("%s: %v", svg, err)
		}
		if b.Len() != 0 {
			t.Errorf("%s: %d bytes written although the page was refused", svg, b.Len())
		}
	}
}
