// Package report writes one self-contained HTML page: sections with text,
// tables and figures (inline SVG, or PNG as data URIs), each optionally
// divided into titled parts, and the study file and versions it came from.
// It needs no network and no other file (WriteHTML refuses a figure that
// refers to anything outside the page; see ExternalReferences). Tables
// wider than the page scroll.
//
// A small script at the end of the page checks, once the browser has laid it
// out, that every figure and table has a size, and writes the verdict into
// the element #render-check ("ok: N figures, M tables" or "FAILED: ..."),
// so a headless browser can tell whether the page rendered.
package report
