// Package table is the one form every printed result takes: a titled grid
// that renders with tablewriter and also writes as CSV or JSON.
package table
