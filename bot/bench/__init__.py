"""`python -m bot bench`: the benchmarks, one module per subject.

`run` is the entry point and the end-to-end figures; `queue_costs` measures the per-request costs that
must not grow with the queue or the history; `renderer` the idle gap between renders and the
memory ceiling; `startup` the first image after start; `gpu` (with `gpu_models`) the GPU speed table
of `--gpu`.
"""
