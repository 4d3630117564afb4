import Autodiff
import Foundation
import Testing
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)

/// The largest absolute elementwise difference of two tensors of the same shape (in Double).
func maxDifference<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>) -> Double {
    zip(x.scalars, y.scalars).reduce(0) { Swift.max($0, Swift.abs(Double($1.0) - Double($1.1))) }
}
