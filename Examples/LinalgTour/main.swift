// A tour of Linalg on an embedded panel: daily prices of 20 S&P 500 stocks, 2021–2022.
//
// It turns prices into returns, then shows the covariance and correlation, a principal
// component analysis (symmetric eigendecomposition), the global minimum-variance
// portfolio (Cholesky solve), the condition number, and the repair of a broken
// correlation matrix (Higham's nearest correlation matrix).
import Foundation
import Linalg

/// Reads the embedded wide CSV (a Date column, then one column per ticker).
func loadPrices() throws -> (tickers: [String], prices: Matrix) {
    guard let url = Bundle.module.url(forResource: "sp500-prices-2021-2022", withExtension: "csv",
                                      subdirectory: "Resources") else {
        throw LinalgError.invalidArgument(operation: "LinalgTour", message: "embedded price file is missing")
    }
    let lines = try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline)
    guard let header = lines.first else {
        throw LinalgError.invalidArgument(operation: "LinalgTour", message: "embedded price file is empty")
    }
    let tickers = header.split(separator: ",").dropFirst().map(String.init)
    var rows: [[Double]] = []
    for (offset, line) in lines.dropFirst().enumerated() {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).dropFirst()
        let values = fields.compactMap { Double($0) }
        guard values.count == tickers.count else {
            throw LinalgError.invalidArgument(operation: "LinalgTour",
                                              message: "line \(offset + 2): expected \(tickers.count) prices")
        }
        rows.append(values)
    }
    return (tickers, try Matrix(rows))
}

/// Simple daily returns `p[t] / p[t-1] - 1`.
func simpleReturns(_ prices: Matrix) -> Matrix {
    Matrix(rows: prices.rows - 1, columns: prices.columns) { t, j in prices[t + 1, j] / prices[t, j] - 1 }
}

func percent(_ value: Double) -> String { String(format: "%6.2f%%", 100 * value) }

do {
    let (tickers, prices) = try loadPrices()
    let returns = simpleReturns(prices)
    print("Linalg tour: \(returns.rows) daily returns of \(tickers.count) stocks (2021–2022)\n")

    let covariance = try returns.covariance()
    let volatility = try returns.columnStandardDeviations().map { $0 * 252.0.squareRoot() }
    print("Annualized volatility")
    for (ticker, sigma) in zip(tickers, volatility) { print("  \(ticker.padding(toLength: 5, withPad: " ", startingAt: 0)) \(percent(sigma))") }

    // Principal components: the largest eigenvalues of the correlation matrix.
    let correlation = try returns.correlation()
    let pca = try SymmetricEigendecomposition(correlation)
    let total = pca.eigenvalues.reduce(0, +)
    let leading = pca.eigenvalues.reversed().prefix(3).map { $0 / total }
    print("\nVariance explained by the first three principal components: " + leading.map(percent).joined(separator: ", "))

    // Global minimum-variance portfolio: w ∝ Σ⁻¹·1, solved through the Cholesky factor.
    let cholesky = try Cholesky(covariance)
    let raw = try cholesky.solve([Double](repeating: 1, count: tickers.count))
    let weights = raw.map { $0 / raw.reduce(0, +) }
    let portfolioVariance = try BLAS.dot(weights, covariance * weights)
    print("\nGlobal minimum-variance portfolio (shorting allowed), annualized volatility \(percent((252 * portfolioVariance).squareRoot()))")
    for (ticker, weight) in zip(tickers, weights).sorted(by: { abs($0.1) > abs($1.1) }).prefix(5) {
        print("  \(ticker.padding(toLength: 5, withPad: " ", startingAt: 0)) \(percent(weight))")
    }
    print("Condition number of the covariance matrix: \(String(format: "%.3g", try covariance.conditionNumber()))")

    // A stressed correlation matrix (one pair forced to 0.99) is no longer PSD; repair it.
    var stressed = correlation
    stressed[0, 1] = 0.99; stressed[1, 0] = 0.99
    stressed[0, 2] = -0.9; stressed[2, 0] = -0.9
    let smallest = try stressed.symmetricEigenvalues().first ?? 0
    let repaired = try stressed.nearestCorrelation()
    let repairedSmallest = try repaired.matrix.symmetricEigenvalues().first ?? 0
    print("\nStressed correlation: smallest eigenvalue \(String(format: "%.4f", smallest))")
    print("Nearest correlation matrix after \(repaired.iterations) sweeps: smallest eigenvalue "
          + "\(String(format: "%.2e", repairedSmallest)), Frobenius distance \(String(format: "%.4f", repaired.distance))")
} catch {
    FileHandle.standardError.write(Data("LinalgTour failed: \(error)\n".utf8))
    exit(1)
}
