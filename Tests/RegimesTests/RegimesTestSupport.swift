import Foundation
import Linalg
import Testing
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)
@testable import Regimes

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
