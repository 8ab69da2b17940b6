package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/table"
)

// Figure is one image: SVG markup, or PNG bytes.
type Figure struct {
	Caption string
	SVG     []byte
	PNG     []byte
}

// Section is one part of the report: its text, tables and figures, then
// its parts.
type Section struct {
	Heading string
	Text    string
	Tables  []*table.Table
	Figures []Figure
	Parts   []Part
}

// Part is a titled piece of a section (one measure of an analysis, say):
// its text, tables and figures, shown under a smaller heading.
type Part struct {
	Heading string
	Text    string
	Tables  []*table.Table
	Figures []Figure
}

// Report is the whole page.
type Report struct {
	Title     string
	Generated time.Time
	Sections  []Section
	Source    string      // the study file's name
	Text      string      // the study file as given
	Versions  [][2]string // name, version
}

type figureView struct {
	Caption string
	Inline  template.HTML
}

type sectionView struct {
	Heading string
	Text    string
	Tables  []*table.Table
	Figures []figureView
	Parts   []sectionView
}

// inlineSVG strips what precedes the <svg element (XML declaration, doctype),
// which HTML does not take inline.
func inlineSVG(svg []byte) (template.HTML, error) {
	i := bytes.Index(svg, []byte("<svg"))
	if i < 0 {
		return "", fmt.Errorf("figure is not SVG: no <svg element")
	}
	return template.HTML(StretchImages(svg[i:])), nil
}

// WriteHTML writes the report.
func (r *Report) WriteHTML(w io.Writer) error {
	view := struct {
		*Report
		Views []sectionView
		Stamp string
		Fonts template.CSS
	}{Report: r, Stamp: r.Generated.UTC().Format("2006-01-02 15:04:05 MST")}
	var svgs [][]byte
	for _, s := range r.Sections {
		sv, err := viewOf(s.Heading, s.Text, s.Tables, s.Figures)
		if err != nil {
			return err
		}
		for _, p := range s.Parts {
			pv, err := viewOf(p.Heading, p.Text, p.Tables, p.Figures)
			if err != nil {
				return err
			}
			sv.Parts = append(sv.Parts, pv)
		}
		view.Views = append(view.Views, sv)
		for _, f := range s.Figures {
			svgs = append(svgs, f.SVG)
		}
		for _, p := range s.Parts {
			for _, f := range p.Figures {
				svgs = append(svgs, f.SVG)
			}
		}
	}
	view.Fonts = template.CSS(fontFaces(svgs))
	var b bytes.Buffer
	if err := page.Execute(&b, view); err != nil {
		return err
	}
	// Whatever the figures and the template hold, the page loads nothing
	// from outside itself.
	if refs := ExternalReferences(b.Bytes()); len(refs) > 0 {
		return fmt.Errorf("report: the page refers to %s outside itself", strings.Join(refs, ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// viewOf readies a section or part for the page: each figure becomes its
// inline markup.
func viewOf(heading, text string, tables []*table.Table, figures []Figure) (sectionView, error) {
	sv := sectionView{Heading: heading, Text: text, Tables: tables}
	for _, f := range figures {
		var inline template.HTML
		switch {
		case len(f.SVG) > 0:
			svg, err := inlineSVG(f.SVG)
			if err != nil {
				return sv, fmt.Errorf("report: %s: %v", f.Caption, err)
			}
			if refs := ExternalReferences([]byte(svg)); len(refs) > 0 {
				return sv, fmt.Errorf("report: figure %q refers to %s outside the page, which must be self-contained",
					f.Caption, strings.Join(refs, ", "))
			}
			inline = svg
		case len(f.PNG) > 0:
			inline = template.HTML(`<img alt="` + template.HTMLEscapeString(f.Caption) + `" src="data:image/png;base64,` +
				base64.StdEncoding.EncodeToString(f.PNG) + `">`)
		default:
			return sv, fmt.Errorf("report: figure %q has no image", f.Caption)
		}
		sv.Figures = append(sv.Figures, figureView{Caption: f.Caption, Inline: inline})
	}
	return sv, nil
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"paragraphs": func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
{{.Fonts}}body { font-family: sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #eee; }
td:first-child, th:first-child { text-align: left; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 0.3em 0; }
figure { margin: 1em 0; }
figure svg, figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
.wide { overflow-x: auto; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
#render-check { color: #888; font-size: 0.8em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>Generated {{.Stamp}}.</p>
{{range .Views}}<section>
<h2>{{.Heading}}</h2>
{{template "body" .}}{{range .Parts}}<h3>{{.Heading}}</h3>
{{template "body" .}}{{end}}</section>
{{end}}<section>
<h2>Versions</h2>
<table><thead><tr><th>component</th><th>version</th></tr></thead>
<tbody>{{range .Versions}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>
{{end}}</tbody></table>
</section>
{{if .Text}}<section>
<h2>Study file {{.Source}}</h2>
<pre>{{.Text}}</pre>
</section>
{{end}}<p id="render-check">render check did not run</p>
<script>
(function () {
  var bad = [];
  var figs = document.querySelectorAll("figure svg, figure img");
  figs.forEach(function (f, i) {
    var b = f.getBoundingClientRect();
    if (!(b.width > 0 && b.height > 0)) bad.push("figure " + i + " has no size");
    if (f.tagName.toLowerCase() === "img" && !(f.complete && f.naturalWidth > 0)) bad.push("image " + i + " did not decode");
    if (f.tagName.toLowerCase() === "svg" && f.querySelectorAll("path, text, line, polyline").length === 0) bad.push("figure " + i + " draws nothing");
  });
  var tables = document.querySelectorAll("table");
  tables.forEach(function (t, i) {
    if (t.getBoundingClientRect().height <= 0) bad.push("table " + i + " has no height");
  });
  document.getElementById("render-check").textContent = bad.length === 0 ?
    "ok: " + figs.length + " figures, " + tables.length + " tables" : "FAILED: " + bad.join("; ");
})();
</script>
</body>
</html>
{{define "body"}}{{range paragraphs .Text}}<p>{{.}}</p>
{{end}}{{range .Tables}}<div class="wide"><table>
{{if .Title}}<caption>{{.Title}}</caption>{{end}}
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}{{range .Figures}}<figure>
{{.Inline}}
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}{{end}}`))
