import Foundation
import Testing
@testable import Linalg

/// One EWMA covariance reference from Fixtures/statistics.json (pandas, at the last date).
struct EWMACase: Decodable, Sendable, CustomTestStringConvertible {
    let decay: String
    let parameter: Double
    let centering: String
    let covariance: [[Double]]

    var testDescription: String { "\(centering), \(decay)(\(parameter))" }

    var swiftDecay: EWMADecay? {
        switch decay {
        case "span": return .span(parameter)
        case "halfLife": return .halfLife(parameter)
        case "alpha": return .alpha(parameter)
        case "lambda": return .lambda(parameter)
        default: return nil
        }
    }

    var swiftCentering: EWMACentering? {
        switch centering {
        case "sampleMean": return .sampleMean
        case "weightedMean": return .weightedMean
        case "zero": return .zero
        default: return nil
        }
    }
}

/// Fixtures/statistics.json: a seeded 250×6 returns-like matrix and its NumPy/pandas statistics.
private struct StatisticsFixture: Decodable {
    struct Rolling: Decodable {
        let window: Int
        let step: Int
        let starts: [Int]
        let covariances: [[[Double]]]
    }
    let returns: [[Double]]
    let means: [Double]
    let variancesDdof0: [Double]
    let variancesDdof1: [Double]
    let standardDeviationsDdof0: [Double]
    let standardDeviationsDdof1: [Double]
    let covarianceDdof1: [[Double]]
    let covarianceDdof0: [[Double]]
    let correlation: [[Double]]
    let ewma: [EWMACase]
    let rolling: Rolling
}

private func statisticsFixture() throws -> StatisticsFixture { try fixtures.load("statistics", as: StatisticsFixture.self) }

/// The largest entry-by-entry relative error (each entry against its own reference).
private func largestEntrywiseRelativeError(_ actual: [Double], _ expected: [Double]) -> Double {
    guard actual.count == expected.count else { return .infinity }
    return zip(actual, expected).map { relativeError($0, $1) }.max() ?? 0
}

@Suite("Statistics vs NumPy/pandas")
struct StatisticsTests {
    @Test("column means match numpy.mean within the summation error bound")
    func means() throws {
        let fixture = try statisticsFixture()
        let x = try fixtureMatrix(fixture.returns)
        let observations = Double(x.rows)
        // Any summation order has |error| ≤ (T − 1)·ε·Σ|xᵢ|; NumPy (pairwise) is inside the same
        // bound, so the two differ by at most 2·T·ε·mean|x|. Relative to mean|x|, not to the mean,
        // because a return mean is small against the returns themselves.
        let tolerance = 2 * observations * eps // relative to mean(|x|) of each column
        let means = try x.columnMeans()
        #expect(means.count == x.columns)
        for j in 0..<x.columns {
            let meanAbsolute = x.column(j).reduce(0) { $0 + abs($1) } / observations
            expectWithin(abs(means[j] - fixture.means[j]) / meanAbsolute, tolerance, "mean of column \(j)")
        }
    }

    @Test("variances and standard deviations (ddof 0 and 1) match NumPy")
    func variances() throws {
        let fixture = try statisticsFixture()
        let x = try fixtureMatrix(fixture.returns)
        // Two-pass variance of centred data is well conditioned: relative error ≲ (T + 3)·ε per
        // side (Chan, Golub & LeVeque 1983), so 4·T·ε covers both implementations.
        let tolerance = 4 * Double(x.rows) * eps // relative, entry by entry
        expectWithin(largestEntrywiseRelativeError(try x.columnVariances(ddof: 0), fixture.variancesDdof0), tolerance, "var ddof 0")
        expectWithin(largestEntrywiseRelativeError(try x.columnVariances(ddof: 1), fixture.variancesDdof1), tolerance, "var ddof 1")
        expectWithin(largestEntrywiseRelativeError(try x.columnVariances(), fixture.variancesDdof1), tolerance, "var default ddof")
        // √ halves the relative error and adds one rounding.
        expectWithin(largestEntrywiseRelativeError(try x.columnStandardDeviations(ddof: 0), fixture.standardDeviationsDdof0),
                     tolerance, "std ddof 0")
        expectWithin(largestEntrywiseRelativeError(try x.columnStandardDeviations(), fixture.standardDeviationsDdof1),
                     tolerance, "std ddof 1")
    }

    @Test("covariance matches np.cov(rowvar=False) for ddof 1 and 0; it is exactly symmetric")
    func covariance() throws {
        let fixture = try statisticsFixture()
        let x = try fixtureMatrix(fixture.returns)
        // Each entry is a T-term sum of centred products: error ≲ T·ε·√(cᵢᵢcⱼⱼ) ≤ T·ε·max cᵢᵢ per side.
        let tolerance = 4 * Double(x.rows) * eps // normwise relative (max norm)
        let sample = try x.covariance()
        expectWithin(relativeError(sample, try fixtureMatrix(fixture.covarianceDdof1)), tolerance, "cov ddof 1")
        expectWithin(relativeError(try x.covariance(ddof: 0), try fixtureMatrix(fixture.covarianceDdof0)), tolerance, "cov ddof 0")
        #expect(sample.isSymmetric(tolerance: 0))
        // The diagonal is the variance computed another way (syrk vs the two-pass loop).
        expectWithin(largestEntrywiseRelativeError(sample.diagonalElements, try x.columnVariances()), tolerance, "diag(cov) = var")
    }

    @Test("correlation matches np.corrcoef and has an exact unit diagonal")
    func correlation() throws {
        let fixture = try statisticsFixture()
        let x = try fixtureMatrix(fixture.returns)
        // Covariance error (above) divided by √(cᵢᵢcⱼⱼ), plus a few roundings.
        let tolerance = 4 * Double(x.rows) * eps // normwise relative (max norm, entries ≤ 1)
        let correlation = try x.correlation()
        expectWithin(relativeError(correlation, try fixtureMatrix(fixture.correlation)), tolerance, "corr")
        #expect(correlation.diagonalElements.allSatisfy { $0 == 1 })
        #expect(correlation.isSymmetric(tolerance: 0))
        let viaCovariance = try Matrix.correlation(fromCovariance: x.covariance(ddof: 0))
        expectWithin(relativeError(viaCovariance, correlation), 8 * eps, "corr is independent of ddof (a few roundings)")
    }

    @Test("perfectly collinear columns correlate to ±1 and never beyond (np.corrcoef clips to [−1, 1])")
    func collinearColumnsStayInRange() throws {
        // Hand derivation: y = s·x + 0.001 is an exact affine image of x up to one rounding per entry,
        // so ρ(x, y) = sign(s)·(1 − O(ε²)); the computed cᵢⱼ/√(cᵢᵢcⱼⱼ) is within a few ε of it.
        // Tolerance: 8ε below 1 in magnitude, and 0 above — a correlation beyond ±1 is invalid.
        let tolerance = 8 * eps // absolute on |ρ|, from below only
        let x = try fixtureMatrix(try statisticsFixture().returns)
        for j in 0..<x.columns {
            for scale in [3.0, -2.0, 0.1, 7.0, -0.3, 1.0 / 3] {
                let pair = try Matrix(columnArrays: [x.column(j), x.column(j).map { scale * $0 + 0.001 }])
                let rho = try pair.correlation()[0, 1]
                #expect(abs(rho) <= 1, "column \(j), scale \(scale): ρ = \(rho)")
                expectWithin(1 - abs(rho), tolerance, "1 − |ρ| for column \(j), scale \(scale)")
                #expect(rho.sign == scale.sign)
            }
        }
    }

    @Test("a zero-variance column makes correlation throw, naming the column")
    func zeroVarianceColumn() throws {
        // Tolerance: none — the refined mean of a constant column is exact, so its variance is exactly 0.
        var x = try fixtureMatrix(try statisticsFixture().returns)
        // A constant return (a cash-like asset); 0.0004 is not a power of two, so its mean is not
        // trivially exact in floating point.
        try x.setColumn(2, to: [Double](repeating: 0.0004, count: x.rows))
        #expect(throws: LinalgError.invalidArgument(operation: "correlation",
                                                    message: "column 2 has variance 0.0; correlation is undefined")) {
            try x.correlation()
        }
        #expect(try x.columnVariances()[2] == 0)
        #expect(try x.covariance()[2, 2] == 0)
    }

    @Test("a constant column has exactly zero EWMA variance when centred (as pandas ewm().cov gives)",
          arguments: [EWMACentering.sampleMean, .weightedMean])
    func ewmaConstantColumn(centering: EWMACentering) throws {
        // Tolerance: none — centring a constant column by its (refined) mean must leave exact zeros;
        // pandas' ewm().cov(bias=True) returns exactly 0 for a constant series too.
        var x = try fixtureMatrix(try statisticsFixture().returns)
        try x.setColumn(4, to: [Double](repeating: 0.0004, count: x.rows))
        let covariance = try x.ewmaCovariance(decay: .span(60), centering: centering)
        #expect(covariance.row(4).allSatisfy { $0 == 0 } && covariance.column(4).allSatisfy { $0 == 0 })
        #expect(throws: LinalgError.invalidArgument(operation: "correlation",
                                                    message: "column 4 has variance 0.0; correlation is undefined")) {
            try Matrix.correlation(fromCovariance: covariance)
        }
    }

    @Test("correlation(fromCovariance:) rejects bad covariance matrices")
    func correlationFromCovarianceErrors() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        #expect(throws: LinalgError.notSquare(operation: "correlation", shape: Shape(2, 3))) {
            try Matrix.correlation(fromCovariance: Matrix(rows: 2, columns: 3))
        }
        #expect(throws: LinalgError.invalidArgument(operation: "correlation",
                                                    message: "column 1 has variance -1.0; correlation is undefined")) {
            try Matrix.correlation(fromCovariance: Matrix.diagonal([1, -1]))
        }
        var covariance = Matrix.identity(3)
        covariance[2, 0] = .nan
        #expect(throws: LinalgError.nonFinite(operation: "correlation", row: 2, column: 0)) {
            try Matrix.correlation(fromCovariance: covariance)
        }
    }

    // MARK: EWMA

    @Test("fixture covers every decay with every centering")
    func ewmaCoverage() throws {
        // Tolerance: none — checks which cases the fixture holds; no numerics.
        let cases = try statisticsFixture().ewma
        #expect(Set(cases.map(\.decay)) == ["span", "halfLife", "alpha", "lambda"])
        #expect(Set(cases.map(\.centering)) == ["sampleMean", "weightedMean", "zero"])
        #expect(cases.count == 12 && cases.allSatisfy { $0.swiftDecay != nil && $0.swiftCentering != nil })
    }

    @Test("ewmaCovariance matches pandas for each centering and decay", arguments: try statisticsFixture().ewma)
    func ewmaMatchesPandas(_ fixture: EWMACase) throws {
        // pandas builds the weights by T recursive multiplications and accumulates T weighted terms
        // online; we normalise explicit weights and sum T terms. Each side is good to ≲ T·ε relative
        // to the largest entry, as for the plain covariance.
        let x = try fixtureMatrix(try statisticsFixture().returns)
        let tolerance = 4 * Double(x.rows) * eps // normwise relative (max norm)
        let decay = try #require(fixture.swiftDecay), centering = try #require(fixture.swiftCentering)
        let covariance = try x.ewmaCovariance(decay: decay, centering: centering)
        expectWithin(relativeError(covariance, try fixtureMatrix(fixture.covariance)), tolerance, "EWMA \(fixture.testDescription)")
        #expect(covariance.isSymmetric(tolerance: 0))
    }

    @Test("hand-derived: α = 1 keeps only the last observation")
    func ewmaAlphaOne() throws {
        // With α = 1 the weights are (0, …, 0, 1): the zero-centred covariance is xₜxₜᵀ of the last
        // row, and centring by the weighted mean (= the last row) leaves exactly 0.
        let x = try Matrix([[1, 2], [3, 4], [0.5, -2]])
        let last = try Matrix([[0.5, -2]])
        #expect(try x.ewmaCovariance(decay: .alpha(1), centering: .zero) == last.transposed() * last)
        #expect(try x.ewmaCovariance(decay: .lambda(0), centering: .weightedMean) == Matrix(rows: 2, columns: 2))
        // With .sampleMean the centre is the plain mean (1.5, 4/3): d = (−1, −10/3), dᵀd by hand.
        let tolerance = 4 * eps // relative; a handful of roundings in the mean and the product
        let expected = try Matrix([[1, 10.0 / 3], [10.0 / 3, 100.0 / 9]])
        expectWithin(relativeError(try x.ewmaCovariance(decay: .span(1), centering: .sampleMean), expected), tolerance, "sampleMean α = 1")
    }

    @Test("EWMADecay smoothing factors follow pandas' definitions; bad parameters throw")
    func smoothingFactors() throws {
        // Hand-derived: span 3 → 2/(3+1) = 0.5; half-life 1 → 1 − e^(−ln 2) = 0.5; λ 0.94 → 1 − 0.94.
        let tolerance = 2 * eps // relative: exp and log are faithfully rounded
        #expect(try EWMADecay.span(3).smoothingFactor() == 0.5)
        expectWithin(relativeError(try EWMADecay.halfLife(1).smoothingFactor(), 0.5), tolerance, "half-life 1")
        #expect(try EWMADecay.lambda(0.94).smoothingFactor() == 1 - 0.94)
        #expect(try EWMADecay.alpha(0.25).smoothingFactor() == 0.25)
        for bad in [EWMADecay.span(0.5), .halfLife(0), .lambda(1), .alpha(0), .alpha(1.5), .alpha(.nan)] {
            #expect(throws: LinalgError.invalidArgument(operation: "EWMADecay", message: "\(bad) gives no smoothing factor in (0, 1]")) {
                try bad.smoothingFactor()
            }
        }
        #expect(throws: LinalgError.invalidArgument(operation: "EWMADecay", message: "span(0.5) gives no smoothing factor in (0, 1]")) {
            try Matrix.identity(2).ewmaCovariance(decay: .span(0.5))
        }
    }

    // MARK: Rolling windows

    @Test("rolling covariances: window ranges and values match NumPy slices")
    func rollingCovariance() throws {
        let fixture = try statisticsFixture()
        let x = try fixtureMatrix(fixture.returns)
        let tolerance = 4 * Double(fixture.rolling.window) * eps // normwise relative, as for the full covariance
        let windows = try x.rollingWindows(window: fixture.rolling.window, step: fixture.rolling.step) { try $0.covariance() }
        #expect(windows.map(\.rows) == fixture.rolling.starts.map { $0..<($0 + fixture.rolling.window) })
        #expect(windows.last?.rows.upperBound == x.rows, "the fixture's last window ends exactly at the last row")
        for (window, expected) in zip(windows, fixture.rolling.covariances) {
            expectWithin(relativeError(window.value, try fixtureMatrix(expected)), tolerance, "cov of rows \(window.rows)")
        }
    }

    @Test("rollingWindows ranges by hand")
    func rollingRanges() throws {
        // Tolerance: none — ranges and copied entries, no arithmetic.
        let x = Matrix(rows: 10, columns: 1) { i, _ in Double(i) }
        // Starts 0, 3, 6 (6 + 4 = 10 fits; 9 + 4 does not).
        #expect(try x.rollingWindows(window: 4, step: 3) { $0.rows }.map(\.rows) == [0..<4, 3..<7, 6..<10])
        // Starts 0, 4; 8 + 4 > 10 is skipped.
        #expect(try x.rollingWindows(window: 4, step: 4) { _ in 0 }.map(\.rows) == [0..<4, 4..<8])
        // Each value sees exactly its rows: the window's first entry is its start.
        #expect(try x.rollingWindows(window: 3) { $0[0, 0] }.map(\.value) == (0...7).map(Double.init))
        #expect(try x.rollingWindows(window: 10, step: 7) { $0.rows }.map(\.value) == [10])
        for (window, step) in [(0, 1), (11, 1), (3, 0), (-1, 2)] {
            #expect(throws: LinalgError.invalidArgument(
                operation: "rollingWindows",
                message: "need 0 < window ≤ rows (10) and step > 0; got window \(window), step \(step)")) {
                try x.rollingWindows(window: window, step: step) { $0.rows }
            }
        }
        struct Stop: Error, Equatable {}
        #expect(throws: Stop()) { try x.rollingWindows(window: 2) { _ -> Int in throw Stop() } }
    }

    // MARK: Errors

    @Test("empty input, too few observations and non-finite data are rejected")
    func invalidInput() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        #expect(throws: LinalgError.empty(operation: "columnMeans")) { try Matrix(rows: 0, columns: 3).columnMeans() }
        #expect(throws: LinalgError.empty(operation: "columnVariances")) { try Matrix(rows: 0, columns: 3).columnVariances() }
        #expect(throws: LinalgError.empty(operation: "covariance")) { try Matrix(rows: 4, columns: 0).covariance() }
        #expect(throws: LinalgError.empty(operation: "ewmaCovariance")) { try Matrix(rows: 0, columns: 2).ewmaCovariance(decay: .span(10)) }
        let one = Matrix(rows: 1, columns: 3, repeating: 1)
        #expect(throws: LinalgError.invalidArgument(operation: "covariance",
                                                    message: "1 observations leave no degrees of freedom with ddof = 1")) {
            try one.covariance()
        }
        #expect(throws: LinalgError.invalidArgument(operation: "columnVariances",
                                                    message: "1 observations leave no degrees of freedom with ddof = -1")) {
            try one.columnVariances(ddof: -1)
        }
        #expect(try one.columnVariances(ddof: 0) == [0, 0, 0], "one observation has zero population variance")
        var x = Matrix(rows: 5, columns: 3, repeating: 1)
        x[4, 1] = .nan
        #expect(throws: LinalgError.nonFinite(operation: "covariance", row: 4, column: 1)) { try x.covariance() }
        #expect(throws: LinalgError.nonFinite(operation: "columnVariances", row: 4, column: 1)) { try x.columnStandardDeviations() }
        #expect(throws: LinalgError.nonFinite(operation: "ewmaCovariance", row: 4, column: 1)) {
            try x.ewmaCovariance(decay: .halfLife(2), centering: .zero)
        }
        #expect(throws: LinalgError.nonFinite(operation: "covariance", row: 4, column: 1)) { try x.correlation() }
    }
}
