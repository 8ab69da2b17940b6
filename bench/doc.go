// Package bench holds result tables and, as the workbench grows, the sweeps
// and speed benchmarks that produce them. Every table prints with
// tablewriter and can also be written as CSV or JSON.
package bench
