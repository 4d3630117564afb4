import Foundation
import Linalg
import Testing
@testable import Regimes

/// Errors of the test helpers themselves.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// Decodes `Fixtures/<name>.json` from the test bundle.
func loadFixture<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
    guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
        throw FixtureError(description: "fixture \(name).json not found in the test bundle")
    }
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// `|a − e| ≤ tolerance · max(|e|, floor)`: relative, with a floor so values near zero are compared absolutely.
func close(_ a: Double, _ e: Double, _ tolerance: Double, floor: Double = 1e-2) -> Bool {
    Swift.abs(a - e) <= tolerance * Swift.max(Swift.abs(e), floor)
}

/// Largest `|a − e| / max(|e|, floor)` over two equally long arrays (∞ when the lengths differ).
func maxRelativeError(_ a: [Double], _ e: [Double], floor: Double = 1e-2) -> Double {
    guard a.count == e.count else { return .infinity }
    return zip(a, e).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1) / Swift.max(Swift.abs($1.1), floor)) }
}

/// A matrix from JSON rows; traps on ragged fixture data (a broken fixture, not a library error).
func matrix(_ rows: [[Double]]) -> Matrix { try! Matrix(rows) }

/// Fraction of equal entries.
func agreement(_ a: [Int], _ b: [Int]) -> Double {
    Double(zip(a, b).filter { $0 == $1 }.count) / Double(Swift.max(a.count, 1))
}
