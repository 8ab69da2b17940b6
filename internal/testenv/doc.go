// Package testenv decides what a test does when a system package it needs is
// missing: it skips, naming the Debian package that brings it, so `go test
// ./...` passes on a fresh machine; and where FRANKENVIT_REQUIRE lists the
// feature (as .ci/run sets it), it fails instead, so CI can never silently
// lose the PyTorch parity, browser or real-data tests.
//
// FRANKENVIT_REQUIRE is a comma-separated list of feature names (Torch,
// OpenBLAS, Chromium, FashionMNIST), or "all".
package testenv
