import Autodiff
import Foundation
import Testing

/// Errors of the test helpers themselves.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// The URL of `Fixtures/<name>.<ext>` in the test bundle.
func fixtureURL(_ name: String, withExtension ext: String = "json") throws -> URL {
    guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") else {
        throw FixtureError(description: "fixture \(name).\(ext) not found in the test bundle")
    }
    return url
}

/// Decodes `Fixtures/<name>.json` from the test bundle.
func loadFixture<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(contentsOf: fixtureURL(name)))
}

/// The largest absolute elementwise difference of two tensors of the same shape (in Double).
func maxDifference<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>) -> Double {
    zip(x.scalars, y.scalars).reduce(0) { Swift.max($0, Swift.abs(Double($1.0) - Double($1.1))) }
}
