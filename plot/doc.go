// Package plot is the one plotting layer of frankenvit, over gonum/plot:
// the sweeps and the analyses draw their pictures through it, and no other
// package imports gonum/plot.
//
// A Chart is a picture Render draws on a page of a given size as SVG or PNG
// (Formats, ParseFormat):
//
//   - Figure: the sweeps' curves, one or more panels two per row, one curve
//     per series with a shaded band and error bars for each point's 95%
//     interval, or series side by side over categories; it has its own Size,
//     and Write and Save render it (Save atomically, the format from the
//     file name, see Format).
//   - HeatMap: a matrix of values as coloured cells in one blue-grey-red
//     palette, optionally labelled, with a colour bar in the unit of the
//     labels.
//   - LineChart: lines with markers and optional error bars over labelled
//     ticks.
//   - ScatterGrid: scatter plots side by side, points coloured by class
//     (ClassColor), with the classes' legend in a strip on the right.
//
// Lengths are in points (Length, Inch, Centimeter, Millimeter). The
// plotting library panics on some data it cannot draw; Render returns that
// as an error instead.
package plot
