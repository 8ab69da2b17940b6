package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationmonobold"
	"codeberg.org/go-fonts/liberation/liberationmonobolditalic"
	"codeberg.org/go-fonts/liberation/liberationmonoitalic"
	"codeberg.org/go-fonts/liberation/liberationmonoregular"
	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansbolditalic"
	"codeberg.org/go-fonts/liberation/liberationsansitalic"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"codeberg.org/go-fonts/liberation/liberationserifbold"
	"codeberg.org/go-fonts/liberation/liberationserifbolditalic"
	"codeberg.org/go-fonts/liberation/liberationserifitalic"
	"codeberg.org/go-fonts/liberation/liberationserifregular"
)

// The plots lay their text out in the Liberation fonts (gonum/plot's
// default) and their SVG names the font without carrying it. A browser
// without those fonts substitutes wider ones and labels overrun the axes, so
// the page carries, once, every Liberation face its figures name.
var liberationFaces = map[string][]byte{
	"Liberation Serif/normal/normal": liberationserifregular.TTF,
	"Liberation Serif/bold/normal":   liberationserifbold.TTF,
	"Liberation Serif/normal/italic": liberationserifitalic.TTF,
	"Liberation Serif/bold/italic":   liberationserifbolditalic.TTF,
	"Liberation Sans/normal/normal":  liberationsansregular.TTF,
	"Liberation Sans/bold/normal":    liberationsansbold.TTF,
	"Liberation Sans/normal/italic":  liberationsansitalic.TTF,
	"Liberation Sans/bold/italic":    liberationsansbolditalic.TTF,
	"Liberation Mono/normal/normal":  liberationmonoregular.TTF,
	"Liberation Mono/bold/normal":    liberationmonobold.TTF,
	"Liberation Mono/normal/italic":  liberationmonoitalic.TTF,
	"Liberation Mono/bold/italic":    liberationmonobolditalic.TTF,
}

// svgFont matches the font of a text element as gonum's SVG canvas writes it.
var svgFont = regexp.MustCompile(`font-family:(Liberation (?:Serif|Sans|Mono));font-variant:[a-z-]*;font-weight:(normal|bold);font-style:(normal|italic)`)

// fontFaces returns the @font-face rules of the Liberation faces the SVG
// figures use, each once, in the order first used.
func fontFaces(svgs [][]byte) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, svg := range svgs {
		for _, m := range svgFont.FindAllSubmatch(svg, -1) {
			key := fmt.Sprintf("%s/%s/%s", m[1], m[2], m[3])
			ttf, ok := liberationFaces[key]
			if !ok || seen[key] {
				continue
			}
			seen[key] = true
			fmt.Fprintf(&b, "@font-face { font-family: %q; font-weight: %s; font-style: %s; src: url(data:font/ttf;base64,%s) format(\"truetype\"); }\n",
				m[1], m[2], m[3], base64.StdEncoding.EncodeToString(ttf))
		}
	}
	return b.String()
}

// StretchImages makes every <image> of an SVG fill the rectangle it is
// given, as gonum's SVG canvas means it to (a heat map's colour bar is a
// 1-pixel-wide picture stretched over the bar): without
// preserveAspectRatio="none" a browser keeps the picture's aspect ratio and
// draws a thin line. Images that say how to scale are left alone.
func StretchImages(svg []byte) []byte {
	const tag = "<image "
	if !bytes.Contains(svg, []byte(tag)) {
		return svg
	}
	var out bytes.Buffer
	rest := svg
	for {
		i := bytes.Index(rest, []byte(tag))
		if i < 0 {
			out.Write(rest)
			return out.Bytes()
		}
		out.Write(rest[:i+len(tag)])
		rest = rest[i+len(tag):]
		end := bytes.IndexByte(rest, '>')
		if end < 0 {
			end = len(rest)
		}
		if !bytes.Contains(rest[:end], []byte("preserveAspectRatio")) {
			out.WriteString(`preserveAspectRatio="none" `)
		}
	}
}
