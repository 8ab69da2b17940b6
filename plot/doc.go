// Package plot draws the sweeps' curves with gonum/plot: one curve per
// series, a shaded band and error bars for each point's 95% interval, a
// legend and labelled axes, saved as SVG or PNG.
package plot
