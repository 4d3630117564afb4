import Foundation
import Testing
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)
@testable import Linalg

// Shared machinery for the fixture-driven tests: loading the JSON written by
// Scripts/fixtures/linalg.py and measuring how far a result is from its reference.

/// Whether ``expectWithin(_:_:_:sourceLocation:)`` prints the margins it checks.
private let reportErrors = ProcessInfo.processInfo.environment["LINALG_TESTS_REPORT_ERRORS"] != nil

/// Machine epsilon, the unit every tolerance below is expressed in.
let eps = Double.ulpOfOne

/// A fixture float that may be non-finite: JSON has no infinity, so the script writes
/// `"inf"`, `"-inf"` or `"nan"` as strings.
struct FixtureDouble: Decodable, Sendable {
    let value: Double

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        let text = try container.decode(String.self)
        switch text {
        case "inf": value = .infinity
        case "-inf": value = -.infinity
        case "nan": value = .nan
        default: throw FixtureError(description: "fixture number \"\(text)\" is neither a JSON number nor inf/-inf/nan")
        }
    }
}

/// A matrix from the fixture's list of rows.
func fixtureMatrix(_ rows: [[Double]]) throws -> Matrix { try Matrix(rows) }

/// A column vector (`n × 1`) from a plain list.
func columnMatrix(_ values: [Double]) throws -> Matrix {
    try Matrix(rows: values.count, columns: 1, elements: values)
}

// MARK: - Error measures

/// `max|actual − expected| / max|expected|`: the normwise relative error in the max norm.
/// Falls back to the absolute error when `expected` is zero. Infinite on a shape mismatch.
func relativeError(_ actual: Matrix, _ expected: Matrix) -> Double {
    guard actual.shape == expected.shape else { return .infinity }
    return relativeError(actual.elements, expected.elements)
}

/// The same measure for vectors; infinite when the lengths differ.
func relativeError(_ actual: [Double], _ expected: [Double]) -> Double {
    guard actual.count == expected.count else { return .infinity }
    var largestDifference = 0.0, scale = 0.0
    for (a, e) in zip(actual, expected) {
        // A NaN in `actual` counts as infinitely wrong rather than silently passing.
        let difference = Swift.abs(a - e)
        largestDifference = difference.isNaN ? .infinity : Swift.max(largestDifference, difference)
        scale = Swift.max(scale, Swift.abs(e))
    }
    return scale == 0 ? largestDifference : largestDifference / scale
}

/// `|actual − expected| / |expected|`, or the absolute error when `expected` is zero.
func relativeError(_ actual: Double, _ expected: Double) -> Double {
    let difference = Swift.abs(actual - expected)
    if difference.isNaN { return .infinity }
    return expected == 0 ? difference : difference / Swift.abs(expected)
}

/// The infinity norm (largest absolute row sum).
func infinityNorm(_ a: Matrix) -> Double {
    (0..<a.rows).map { a.row($0).reduce(0) { $0 + Swift.abs($1) } }.max() ?? 0
}

/// The Rigal–Gaches normwise backward error `‖A·X − B‖∞ / (‖A‖∞·‖X‖∞ + ‖B‖∞)` of a solution:
/// the smallest relative perturbation of `A` and `B` for which `X` is exact. A backward-stable
/// solver keeps it at a small multiple of `n·ε` whatever the conditioning.
func backwardError(_ a: Matrix, _ x: Matrix, _ b: Matrix) -> Double {
    let residual = a * x - b
    return infinityNorm(residual) / (infinityNorm(a) * infinityNorm(x) + infinityNorm(b))
}

/// `‖QᵀQ − I‖_max`: how far the columns of `q` are from orthonormal.
func orthonormalityDefect(_ q: Matrix) -> Double {
    (q.transposed() * q - Matrix.identity(q.columns)).maxAbs
}

/// Flips the sign of each of the first `count` columns of `actual` so that it points the same
/// way as the matching column of `reference` (singular and eigen-vectors are defined up to sign).
/// Returns the aligned matrix and the signs applied.
func aligningColumnSigns(of actual: Matrix, to reference: Matrix, count: Int) -> (Matrix, [Double]) {
    var aligned = actual
    var signs = [Double](repeating: 1, count: count)
    for j in 0..<count {
        let dot = zip(actual.column(j), reference.column(j)).reduce(0) { $0 + $1.0 * $1.1 }
        if dot < 0 {
            signs[j] = -1
            for i in 0..<actual.rows { aligned[i, j] = -aligned[i, j] }
        }
    }
    return (aligned, signs)
}

/// Records an issue unless `error <= tolerance`, printing both so a failure shows the margin.
/// Set `LINALG_TESTS_REPORT_ERRORS=1` to print every measured error next to its tolerance.
func expectWithin(_ error: Double, _ tolerance: Double, _ what: @autoclosure () -> String,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    if reportErrors {
        print("error \(error) / tolerance \(tolerance) (\(String(format: "%.1e", error / tolerance))): \(what()) at \(sourceLocation.fileName):\(sourceLocation.line)")
    }
    #expect(error <= tolerance, "\(what()): error \(error) exceeds tolerance \(tolerance)", sourceLocation: sourceLocation)
}

// MARK: - The reader itself

private struct RoundTripFixture: Decodable {
    let values: [Double]
    let bits: [String]
}

@Suite("Fixture reader")
struct FixtureReaderTests {
    @Test("JSON floats written with Python's repr parse back to the identical bits")
    func floatsRoundTripExactly() throws {
        // Tolerance: none. Every comparison against NumPy assumes the reference values arrive unaltered.
        let fixture = try fixtures.load("round_trip", as: RoundTripFixture.self)
        #expect(fixture.values.count == fixture.bits.count && !fixture.values.isEmpty)
        for (value, bits) in zip(fixture.values, fixture.bits) {
            #expect(String(value.bitPattern, radix: 16).leftPadded(to: 16) == bits, "\(value)")
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
