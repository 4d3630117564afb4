// MetaFolio Autodiff under ordo-one/benchmark: per-op graph overhead, matmul forward+backward
// against the three raw GEMMs it needs, and elementwise kernels on 1M elements.
//
// Inputs are built once per benchmark in its `setup` closure (outside the measurement) from the
// seeded SplitMix64 streams (AutodiffWorkloads). `Malloc (total)` counts the allocations of one
// call: the elementwise kernels must show exactly one (the result's storage; nothing is allocated
// inside the loops), the raw GEMMs zero.
//
// OpenBLAS's thread count comes from OPENBLAS_NUM_THREADS (`make bench` sets it, default 1).

import Autodiff
import AutodiffWorkloads
import Benchmark

/// The suite: registered by package-benchmark's generated entry point.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 5,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )

    Benchmark("autodiff per-op 3 elementwise + backward 4x4 Float") { benchmark, workload in
        for _ in benchmark.scaledIterations { blackHole(workload.run()) }
    } setup: {
        PerOpWorkload<Float>()
    }
    Benchmark("autodiff per-op 3 elementwise + backward 4x4 Double") { benchmark, workload in
        for _ in benchmark.scaledIterations { blackHole(workload.run()) }
    } setup: {
        PerOpWorkload<Double>()
    }

    Benchmark("autodiff matmul fwd+bwd 256 Float") { benchmark, workload in
        for _ in benchmark.scaledIterations { blackHole(workload.run()) }
    } setup: {
        MatmulWorkload<Float>(order: 256)
    }
    Benchmark("autodiff three raw sgemm 256 (preallocated)") { benchmark, workload in
        for _ in benchmark.scaledIterations { workload.rawGemms() }
        blackHole(workload.c[0])
    } setup: {
        MatmulWorkload<Float>(order: 256)
    }
    Benchmark("autodiff matmul fwd+bwd 256 Double") { benchmark, workload in
        for _ in benchmark.scaledIterations { blackHole(workload.run()) }
    } setup: {
        MatmulWorkload<Double>(order: 256)
    }
    Benchmark("autodiff three raw dgemm 256 (preallocated)") { benchmark, workload in
        for _ in benchmark.scaledIterations { workload.rawGemms() }
        blackHole(workload.c[0])
    } setup: {
        MatmulWorkload<Double>(order: 256)
    }

    let count = 1 << 20
    Benchmark("autodiff add 1M Float") { benchmark, workload in
        for _ in benchmark.scaledIterations { blackHole(workload.u + workload.v) }
    } setup: {
        ElementwiseWorkload(count: count)
    }
    Benchmark("autodiff exp 1M Float") { benchmark, workload in
        for _ in benchmark.scaledIterations { blackHole(workload.u.exp()) }
    } setup: {
        ElementwiseWorkload(count: count)
    }
    Benchmark("autodiff tanh 1M Float") { benchmark, workload in
        for _ in benchmark.scaledIterations { blackHole(workload.u.tanh()) }
    } setup: {
        ElementwiseWorkload(count: count)
    }
    Benchmark("autodiff sum 1M Float") { benchmark, workload in
        for _ in benchmark.scaledIterations { blackHole(workload.u.sum()) }
    } setup: {
        ElementwiseWorkload(count: count)
    }
}
