package report

import (
	"html"
	"regexp"
	"strings"
)

// ExternalReferences lists every reference of an HTML page (or SVG markup)
// to something outside it, each as `attribute="value"` or `url(value)` or
// `@import ...`: the page is self-contained when there is none. It looks at
// the attributes that load or link something (src, href, xlink:href,
// srcset, poster, action, formaction, data, background, cite, longdesc,
// manifest, ping, codebase, archive, usemap) of every tag, at CSS (inside
// <style> elements, and in style and every other attribute but prose ones
// such as alt and title, as SVG's fill="url(...)") for url(...) and
// @import, and at <meta http-equiv="refresh">. In-page anchors ("#...") and data: URIs are
// not external; namespace declarations (xmlns="http://...") name, they do
// not load. Character references in attribute values are decoded first.
func ExternalReferences(page []byte) []string {
	var out []string
	s := string(page)
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				return out
			}
			i += 4 + end + 3
			continue
		case len(rest) < 2 || !isLetter(rest[1]):
			i++ // "<" in text (escaped in a well-formed page), "</", "<!DOCTYPE"
			continue
		}
		name, attrs, n := readTag(rest)
		i += n
		for _, a := range attrs {
			switch {
			case a.name == "srcset":
				// Candidates are "URL [descriptor]" separated by commas
				// and white space (a data: URI has commas but no spaces).
				for _, c := range srcsetSep.Split(strings.TrimSpace(a.value), -1) {
					if u, _, _ := strings.Cut(strings.TrimSpace(c), " "); external(u) {
						out = append(out, a.name+`="`+a.value+`"`)
						break
					}
				}
			case linkAttributes[a.name]:
				if external(a.value) {
					out = append(out, a.name+`="`+a.value+`"`)
				}
			case name == "meta" && a.name == "content" && hasAttr(attrs, "http-equiv", "refresh"):
				if _, target, ok := strings.Cut(strings.ToLower(a.value), "url="); ok && external(target) {
					out = append(out, `meta refresh "`+a.value+`"`)
				}
			case !proseAttributes[a.name]:
				// style="...", and SVG's fill, stroke, clip-path, mask,
				// filter, marker-*: anything that takes CSS's url(...).
				out = append(out, cssReferences(a.value)...)
			}
		}
		if name == "style" || name == "script" {
			// Raw text up to the closing tag: CSS is checked, a script
			// loads nothing unless it has a src (checked above).
			end := strings.Index(asciiLower(s[i:]), "</"+name)
			if end < 0 {
				end = len(s) - i
			}
			if name == "style" {
				out = append(out, cssReferences(s[i:i+end])...)
			}
			i += end
		}
	}
	return out
}

// linkAttributes are the attributes whose value is a URL that is loaded or
// linked.
var linkAttributes = map[string]bool{"src": true, "href": true, "xlink:href": true, "srcset": true, "poster": true,
	"action": true, "formaction": true, "data": true, "background": true, "cite": true, "longdesc": true,
	"manifest": true, "ping": true, "codebase": true, "archive": true, "usemap": true, "lowsrc": true, "dynsrc": true}

// proseAttributes hold text for people, where "url(" is only a word.
var proseAttributes = map[string]bool{"alt": true, "title": true, "aria-label": true, "aria-description": true,
	"placeholder": true, "value": true, "content": true, "label": true}

var srcsetSep = regexp.MustCompile(`,\s+`)

// external reports whether a URL leaves the page: anything but an in-page
// anchor or a data: URI.
func external(url string) bool {
	u := strings.ToLower(strings.TrimSpace(url))
	u = strings.Trim(u, `"'`)
	return !strings.HasPrefix(u, "#") && !strings.HasPrefix(u, "data:")
}

var (
	cssURL    = regexp.MustCompile(`(?i)url\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\s*\)`)
	cssImport = regexp.MustCompile(`(?i)@import\s+[^;]*`)
)

// cssReferences lists the external url(...) and every @import of CSS text.
func cssReferences(css string) []string {
	var out []string
	if !strings.Contains(strings.ToLower(css), "url(") && !strings.Contains(css, "@") {
		return nil
	}
	for _, m := range cssURL.FindAllStringSubmatch(css, -1) {
		if u := m[1] + m[2] + m[3]; external(u) {
			out = append(out, "url("+strings.TrimSpace(u)+")")
		}
	}
	for _, m := range cssImport.FindAllString(css, -1) {
		out = append(out, strings.TrimSpace(m))
	}
	return out
}

type attr struct{ name, value string }

func hasAttr(attrs []attr, name, value string) bool {
	for _, a := range attrs {
		if a.name == name && strings.EqualFold(strings.TrimSpace(a.value), value) {
			return true
		}
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// readTag reads the start tag at the beginning of s ("<name attr=value
// ...>"): its lower-case name, its attributes (names lower-cased, values
// unquoted and with character references decoded) and its length.
func readTag(s string) (name string, attrs []attr, n int) {
	i := 1
	for i < len(s) && !isSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	name = strings.ToLower(s[1:i])
	for i < len(s) {
		for i < len(s) && (isSpace(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '>' {
			return name, attrs, i + 1
		}
		start := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/' {
			i++
		}
		a := attr{name: strings.ToLower(s[start:i])}
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			var raw string
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					end = len(s) - i - 1
				}
				raw = s[i+1 : i+1+end]
				i += end + 2
			} else {
				start := i
				for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
					i++
				}
				raw = s[start:i]
			}
			a.value = html.UnescapeString(raw)
		}
		if a.name != "" {
			attrs = append(attrs, a)
		} else {
			i++ // a stray character: step over it
		}
	}
	return name, attrs, min(i, len(s))
}

// asciiLower lowercases A-Z only, byte for byte, so that an index into the
// result is an index into s (strings.ToLower turns an invalid UTF-8 byte into
// a 3-byte U+FFFD, which shifted the offsets and ran past the end).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
