// Package speed is the speed benchmark (`frankenvit bench speed`): how fast
// frankenvit trains and infers against the machine's limits and against
// PyTorch on the same machine. Its parts, one file each:
//
//   - flops.go: the analytic FLOP count of a model per image;
//   - peaks.go: the FMA peak and the big-GEMM rate the shares are taken of;
//   - measure.go: one measurement in this process (training steps,
//     evaluation, resident memory from /proc) and the child-process protocol
//     that gives each model a process of its own;
//   - peer.go: the PyTorch peer (torch_speed.py) under a chosen BLAS and
//     thread count;
//   - table.go: the report, its table and its notes.
//
// Every child runs under a time limit in its own process group, and its
// failure is one line.
package speed
