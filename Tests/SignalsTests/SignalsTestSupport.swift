import Foundation
import Testing
@testable import Signals

/// Records an issue unless NaN/nil positions match and every other value is within
/// `tolerance · max(1, |expected|)`; returns the largest scaled error seen.
@discardableResult
func expectSeries(_ actual: [Double], _ expected: [Double?], tolerance: Double, _ what: String,
                  sourceLocation: SourceLocation = #_sourceLocation) -> Double {
    guard actual.count == expected.count else {
        Issue.record("\(what): length \(actual.count) vs \(expected.count)", sourceLocation: sourceLocation)
        return .infinity
    }
    var worst = 0.0
    for (t, (a, e)) in zip(actual, expected).enumerated() {
        guard let e else {
            if !a.isNaN { Issue.record("\(what)[\(t)]: expected warm-up NaN, got \(a)", sourceLocation: sourceLocation) }
            continue
        }
        let error = Swift.abs(a - e) / Swift.max(1, Swift.abs(e))
        worst = Swift.max(worst, error.isNaN ? .infinity : error)
        if !(error <= tolerance) {
            Issue.record("\(what)[\(t)]: \(a) vs \(e)", sourceLocation: sourceLocation)
            return worst
        }
    }
    return worst
}

import Linalg
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)

/// A 1×1 matrix.
func Linalg_matrix(_ value: Double) -> Matrix { Matrix(rows: 1, columns: 1, repeating: value) }

/// A square matrix from rows; traps on ragged test data.
func Linalg_square(_ rows: [[Double]]) -> Matrix { try! Matrix(rows) }
