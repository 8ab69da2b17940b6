// Command frankenvit trains LayerShuffle Vision Transformers, builds
// Frankenstein models out of their blocks and measures how they degrade.
package main
