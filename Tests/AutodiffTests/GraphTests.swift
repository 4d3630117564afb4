import Linalg
import Testing
@testable import Autodiff

@Suite("Reverse mode: graph, higher order, scopes, memory, concurrency")
struct GraphTests {
    @Test("third derivative of x³ by repeated createGraph (exact: 3x², 6x, 6)")
    func higherOrder() {
        let x = Tensor<Double>([0.5, -1.5, 2]).requiringGradient()
        let y = (x * x * x).sum()
        let g1 = gradient(of: y, wrt: x, createGraph: true)
        #expect(g1.requiresGradient)
        let g2 = gradient(of: g1.sum(), wrt: x, createGraph: true)
        let g3 = gradient(of: g2.sum(), wrt: x)
        // Tolerance 1e-12: a handful of roundings of O(10) values.
        #expect(isClose(g1.scalars, [0.75, 6.75, 12], atol: 1e-12))
        #expect(isClose(g2.scalars, [3, -9, 12], atol: 1e-12))
        #expect(isClose(g3.scalars, [6, 6, 6], atol: 1e-12))
        #expect(!g3.requiresGradient)
    }

    /// Three products of one input reach the sum at the same generation, so the order in which their
    /// gradients are added into `x` decides the rounding: `1e16 + 1 − 1e16` is 0 or 1 by order. The
    /// order follows creation, not addresses: objects of varying sizes allocated between the products
    /// move them around the heap, and every run gives the same bits (it did not when ties were broken
    /// by address: the EIIE agent's RNN training differed in the last bits from run to run).
    @Test("gradients fed by nodes of one generation are summed in creation order, whatever the addresses")
    func tieOrderIsDeterministic() {
        func run(padding: Int) -> UInt64 {
            var keep: [[UInt8]] = []
            let x = Tensor<Double>([1]).requiringGradient()
            var terms: [Tensor<Double>] = []
            for (k, c) in [1e16, 1, -1e16].enumerated() {
                keep.append([UInt8](repeating: 0, count: 1 + (padding * (k + 7)) % 97))
                terms.append(x * c)
            }
            let y = (terms[0] + terms[1] + terms[2]).sum()
            withExtendedLifetime(keep) {}
            return gradient(of: y, wrt: x).scalars[0].bitPattern
        }
        let first = run(padding: 0)
        for padding in 1..<40 { #expect(run(padding: padding) == first) }
    }

    @Test("fan-out accumulates within a call; separate calls do not accumulate")
    func accumulation() {
        let x = Tensor<Double>([1, 2, 3]).requiringGradient()
        let y = (x * x + x * 3).sum() // dy/dx = 2x + 3
        let first = gradient(of: y, wrt: [x], retainGraph: true)[0]
        let second = gradient(of: y, wrt: [x])[0]
        #expect(first.scalars == [5, 7, 9])
        #expect(second.scalars == [5, 7, 9])
    }

    @Test("an input the output does not depend on gets zeros; several inputs at once")
    func unusedInput() {
        let x = Tensor<Double>([1, 2]).requiringGradient()
        let z = Tensor<Double>(shape: [2, 2], repeating: 1).requiringGradient()
        let grads = gradient(of: (x * x).sum(), wrt: [x, z])
        #expect(grads[0].scalars == [2, 4])
        #expect(grads[1].shape == [2, 2] && grads[1].scalars == [0, 0, 0, 0])
    }

    @Test("gradient with respect to an intermediate tensor and with an explicit seed (VJP)")
    func intermediateAndSeed() {
        let x = Tensor<Double>([1, 2, 3]).requiringGradient()
        let h = x * 2
        let y = h * h // dy/dh = 2h·seed
        let seed = Tensor<Double>([1, 0, -1])
        let grads = gradient(of: y, wrt: [h, x], seed: seed)
        #expect(grads[0].scalars == [4, 0, -12])
        #expect(grads[1].scalars == [8, 0, -24])
    }

    @Test("no-gradient scope is task-local and nests")
    func noGradScope() async {
        let x = Tensor<Double>([1, 2]).requiringGradient()
        #expect((x * x).requiresGradient)
        #expect(isRecordingGradients)
        withoutGradients {
            #expect(!isRecordingGradients)
            #expect(!(x * x).requiresGradient)
            #expect(!x.exp().sum().requiresGradient)
            withoutGradients { #expect(!(x + x).requiresGradient) }
        }
        #expect((x * x).requiresGradient)
        await withoutGradients {
            // Child tasks inherit the scope, a detached task does not.
            async let child = (x * x).requiresGradient
            #expect(await child == false)
            let detached = await Task.detached { (x * x).requiresGradient }.value
            #expect(detached)
        }
    }

    @Test("constants never record; requiringGradient cuts the graph; detached drops it")
    func constants() {
        let c = Tensor<Double>([1, 2])
        #expect(!(c * c).requiresGradient)
        let x = c.requiringGradient()
        let y = (x * 3).requiringGradient() // a new leaf: gradients stop here
        let g = gradient(of: (y * y).sum(), wrt: [x, y])
        #expect(g[0].scalars == [0, 0])
        #expect(g[1].scalars == [6, 12])
        #expect(!(x * 2).detached().requiresGradient)
    }

    @Test("the graph is freed after backward unless retained, and nothing leaks")
    func graphFreeing() {
        let tracker = NodeTracker()
        tracker.track {
            var generator = Xoshiro256StarStar(seed: 1)
            let x = Tensor<Double>.normal([4, 3], using: &generator).requiringGradient()
            let w = Tensor<Double>.normal([3, 2], using: &generator).requiringGradient()
            // Three recorded ops; their intermediates are owned only by the graph.
            func loss() -> Tensor<Double> { x.matmul(w).tanh().sum() }

            let l1 = loss()
            #expect(tracker.liveNodes == 5) // x, w, matmul, tanh, sum
            _ = gradient(of: l1, wrt: [x, w])
            // Backward freed the rule of every visited node: matmul and tanh are gone
            // although the loss tensor is still alive.
            #expect(tracker.liveNodes == 3)

            let l2 = loss()
            _ = gradient(of: l2, wrt: [x, w], retainGraph: true)
            #expect(tracker.liveNodes == 3 + 3) // l2's graph is retained
            _ = gradient(of: l2, wrt: [x, w]) // usable again
            #expect(tracker.liveNodes == 4)

            // Second order: gradients with createGraph own a graph too.
            do {
                let l3 = loss()
                let g = gradient(of: l3, wrt: [x, w], createGraph: true)
                let hv = (g[0] * g[0]).sum() + g[1].sum()
                _ = gradient(of: hv, wrt: [x, w])
                #expect(tracker.liveNodes > 4)
            }
        }
        // Every tensor created in the scope is gone: so is every node.
        #expect(tracker.createdNodes > 10)
        #expect(tracker.liveNodes == 0)
    }

    @Test("a very deep graph is differentiated and released without recursion")
    func deepGraph() {
        let tracker = NodeTracker()
        tracker.track {
            let x = Tensor<Double>([1]).requiringGradient()
            var y = x
            for _ in 0..<20_000 { y = y * 1.0001 + 0.001 }
            let g = gradient(of: y.sum(), wrt: x, retainGraph: true)
            // d/dx of 20000 affine steps: 1.0001^20000 (tolerance 1e-9 relative).
            #expect(Swift.abs(g.scalar - Foundation_pow(1.0001, 20_000)) <= 1e-9 * g.scalar)
        }
        #expect(tracker.liveNodes == 0)
        // Deeper still, dropped without backward (ARC release of a 400k-node chain).
        tracker.track {
            var y = Tensor<Double>([1]).requiringGradient()
            for _ in 0..<200_000 { y = y * 1.0 + 0.0 }
            #expect(tracker.liveNodes == 400_001)
        }
        #expect(tracker.liveNodes == 0)
    }

    @Test("concurrent tasks build and differentiate independent graphs without interference")
    func concurrency() async {
        // Reference results computed serially.
        func work(seed: UInt64, rounds: Int) -> [Double] {
            var generator = Xoshiro256StarStar(seed: seed)
            var w = Tensor<Double>.normal([8, 8], using: &generator)
            let x = Tensor<Double>.normal([4, 8], using: &generator)
            var trace: [Double] = []
            for _ in 0..<rounds {
                let wv = w.requiringGradient()
                let loss = x.matmul(wv).tanh().pow(2).mean()
                let g = gradient(of: loss, wrt: [wv], createGraph: seed % 2 == 0)[0]
                // Tasks with even seeds also take a second-order path.
                let step = seed % 2 == 0 ? gradient(of: (g * g).sum(), wrt: wv) * 0.1 + g : g
                w = withoutGradients { w - step * 0.5 }
                trace.append(loss.scalar)
            }
            return trace
        }
        let expected = (0..<4).map { work(seed: UInt64($0), rounds: 30) }
        let results = await withTaskGroup(of: (Int, [Double]).self) { group in
            for i in 0..<4 {
                group.addTask {
                    // Odd tasks run inside a no-gradient scope that must not leak into the others.
                    if i == 3 {
                        return withoutGradients { (i, [isRecordingGradients ? 1.0 : 0.0]) }
                    }
                    return (i, work(seed: UInt64(i), rounds: 30))
                }
            }
            var out = [[Double]](repeating: [], count: 4)
            for await (i, trace) in group { out[i] = trace }
            return out
        }
        // Tolerance 1e-12 relative, not bit equality: OpenBLAS may split a GEMM differently across its
        // threads when several tasks call it at once, which changes summation order in the last bits.
        // Interference (a shared tape, a leaked no-gradient scope) would change the traces at O(1).
        for i in 0..<3 {
            #expect(results[i].count == expected[i].count, "task \(i) ran \(results[i].count) rounds")
            let worst = zip(results[i], expected[i]).map { abs($0 - $1) / abs($1) }.max() ?? .infinity
            #expect(worst <= 1e-12, "task \(i) diverged from its serial run by \(worst)")
        }
        #expect(results[3] == [0])
        #expect(isRecordingGradients)
    }
}

/// `pow` for the test without importing Foundation.
func Foundation_pow(_ x: Double, _ n: Int) -> Double {
    var r = 1.0
    for _ in 0..<n { r *= x }
    return r
}
