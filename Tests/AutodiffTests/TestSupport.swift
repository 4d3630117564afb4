import Linalg
import Testing
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)
@testable import Autodiff

/// Deterministic random tensor for tests: standard normal, or `|z| + 0.5` when `positive`.
func randomTensor(_ shape: TensorShape, seed: UInt64, positive: Bool = false) -> Tensor<Double> {
    var generator = Xoshiro256StarStar(seed: seed)
    let t = Tensor<Double>.normal(shape, using: &generator)
    return positive ? t.abs() + 0.5 : t
}

/// `|a − b| ≤ atol + rtol·|b|` elementwise, with equal shapes.
func isClose(_ a: [Double], _ b: [Double], atol: Double, rtol: Double = 0) -> Bool {
    guard a.count == b.count else { return false }
    return zip(a, b).allSatisfy { x, y in Swift.abs(x - y) <= atol + rtol * Swift.abs(y) }
}

func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
}
