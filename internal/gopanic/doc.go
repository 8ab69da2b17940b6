// Package gopanic carries a panic of a helper goroutine back to the
// goroutine that waits for it. A panic on a goroutine of its own ends the
// process, whatever the program does; on the caller's goroutine it can be
// recovered (the training graph's operators turn it into an error, the
// command into one line).
package gopanic
