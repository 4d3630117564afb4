import Foundation
import Linalg
import Market
import Testing
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)
@testable import Portfolio

/// Simple daily returns of the embedded 20-stock S&P 500 dataset (`sp500-stocks`), loaded once.
let sp500Returns: Result<ReturnObservations, Error> = Result {
    try ReturnObservations(simpleReturnsOf: Dataset.sp500Stocks.load())
}

/// Sample mean and sample covariance of `sp500Returns`, annualized by 252.
func sp500Inputs() throws -> OptimizationInputs {
    let returns = try sp500Returns.get()
    let mu = try ExpectedReturnsEstimator().fit(returns)
    let sigma = try CovarianceEstimator().fit(returns)
    return try OptimizationInputs(expectedReturns: mu, covariance: sigma)
}

/// The largest `|a − e| / max(1, |e|)`; records an issue when the lengths differ.
func worstScaledError(_ actual: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) -> Double {
    guard actual.count == expected.count else {
        Issue.record("length \(actual.count), expected \(expected.count)", sourceLocation: sourceLocation)
        return .infinity
    }
    var worst = 0.0
    for (a, e) in zip(actual, expected) {
        let error = abs(a - e) / max(1, abs(e))
        worst = error.isNaN ? .infinity : max(worst, error)
    }
    return worst
}

/// `worstScaledError` on matrices compared entry by entry.
func worstScaledError(_ actual: Matrix, _ expected: [[Double]], sourceLocation: SourceLocation = #_sourceLocation) -> Double {
    guard actual.rows == expected.count else {
        Issue.record("rows \(actual.rows), expected \(expected.count)", sourceLocation: sourceLocation)
        return .infinity
    }
    return worstScaledError(actual.elements, expected.flatMap { $0 }, sourceLocation: sourceLocation)
}

/// The largest relative error `|a − e| / |e|` over entries of `expected` (for small-magnitude matrices).
func worstRelativeError(_ actual: [Double], _ expected: [Double]) -> Double {
    let scale = expected.reduce(0) { max($0, abs($1)) }
    return zip(actual, expected).reduce(0) { max($0, abs($1.0 - $1.1) / scale) }
}
