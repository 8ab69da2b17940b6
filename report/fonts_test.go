package report

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"codeberg.org/go-fonts/liberation/liberationserifregular"
)

// The page carries the font its plots were laid out in, once, and only the
// faces they use.
func TestPageCarriesThePlotsFont(t *testing.T) {
	var b bytes.Buffer
	r := sample(t)
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	want := `@font-face { font-family: "Liberation Serif"; font-weight: normal; font-style: normal; src: url(data:font/ttf;base64,` +
		base64.StdEncoding.EncodeToString(liberationserifregular.TTF) + `) format("truetype"); }`
	if !strings.Contains(html, want) {
		t.Error("the page does not carry Liberation Serif, the font of its plots")
	}
	if n := strings.Count(html, "@font-face"); n != 1 {
		t.Errorf("%d @font-face rules, want 1 (two SVG figures, one face)", n)
	}
	// Without SVG text, no font.
	r.Sections[0].Figures = r.Sections[0].Figures[1:] // the PNG
	r.Sections[0].Parts = nil
	b.Reset()
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "@font-face") {
		t.Error("a page without SVG text carries a font")
	}
}

func TestStretchImages(t *testing.T) {
	in := `<svg><image x="1" xlink:href="data:a" /><text>x</text><image preserveAspectRatio="xMidYMid" href="b"/><image y="2"/></svg>`
	want := `<svg><image preserveAspectRatio="none" x="1" xlink:href="data:a" /><text>x</text><image preserveAspectRatio="xMidYMid" href="b"/>` +
		`<image preserveAspectRatio="none" y="2"/></svg>`
	if got := string(StretchImages([]byte(in))); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	plain := []byte(`<svg><path d="M0,0"/></svg>`)
	if got := StretchImages(plain); !bytes.Equal(got, plain) {
		t.Errorf("an SVG without images changed: %s", got)
	}
	// The page's inline figures are stretched.
	r := sample(t)
	r.Sections[0].Figures[0].SVG = []byte(`<svg width="10" height="10"><image width="5" height="10" xlink:href="data:x"/></svg>`)
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<image preserveAspectRatio="none" width="5"`) {
		t.Error("the page's SVG images keep their aspect ratio")
	}
}

// StretchImages only ever inserts the attribute: removing what it inserted
// gives the input back.
func FuzzStretchImages(f *testing.F) {
	f.Add([]byte(`<svg><image x="1"/></svg>`))
	f.Add([]byte(`<image <image preserveAspectRatio="x"`))
	f.Add([]byte(`<image `))
	f.Fuzz(func(t *testing.T, svg []byte) {
		out := StretchImages(svg)
		back := bytes.ReplaceAll(out, []byte(`<image preserveAspectRatio="none" `), []byte(`<image `))
		if !bytes.Equal(back, bytes.ReplaceAll(svg, []byte(`<image preserveAspectRatio="none" `), []byte(`<image `))) {
			t.Errorf("%q became %q", svg, out)
		}
	})
}
