// Package layers holds the rule of frankenvit's architecture as a test:
// packages sit in layers and import only packages of lower layers (see the
// README's "Architecture" section). It has no code of its own.
package layers
