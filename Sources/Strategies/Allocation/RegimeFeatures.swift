import Foundation
import Linalg
import Market
import Regimes

/// Causal market-state features for the allocation layer: row `t` uses prices and indicators dated
/// on or before row `t` only, so a matrix computed from data up to `t` never changes when later data
/// change.
///
/// Columns (``names``), on a monthly calendar:
/// - `market 1m`, `market 3m`, `market 12m`: S&P 500 log returns over 1, 3 and 12 periods;
/// - `realized vol 1m`, `realized vol 3m`: annualized realized volatility of daily returns over the
///   last period and the root mean square of the last three;
/// - `vol premium`: VIX/100 minus the realized volatility where VIX exists, 0 elsewhere (no level
///   break where the series starts);
/// - `credit spread`, `credit spread 3m change`: BAA − AAA in percent and its three-period change;
/// - `rate 3m change`: the three-period change of the AAA yield;
/// - `short rate`: the one-month rate, annualized;
/// - `breadth 3m`: the fraction of available universe assets whose last three periods' return is positive.
///
/// The universe has no volume series at monthly frequency, so no volume feature is built.
public struct RegimeFeatureBuilder: Sendable, Hashable {
    /// Feature names, in column order.
    public static let names = ["market 1m", "market 3m", "market 12m", "realized vol 1m", "realized vol 3m",
                               "vol premium", "credit spread", "credit spread 3m change", "rate 3m change",
                               "short rate", "breadth 3m"]
    /// Periods per year of the calendar (12 for monthly).
    public var periodsPerYear: Double

    /// A builder for a calendar with `periodsPerYear` periods a year.
    public init(periodsPerYear: Double = 12) {
        self.periodsPerYear = periodsPerYear
    }

    /// The first row with every feature defined: 12 periods of history.
    public var firstCompleteRow: Int { 12 }

    /// Features of rows `0..<closes.rows`, `NaN` before ``firstCompleteRow`` or where an input is missing.
    ///
    /// - Parameters:
    ///   - closes: universe closes, `bars × assets`, `NaN` where an asset has no price.
    ///   - indicators: ``MarketIndicators/values`` on the same rows (at least as many).
    public func features(closes: Matrix, indicators: Matrix) -> Matrix {
        let bars = closes.rows
        var result = Matrix(rows: bars, columns: Self.names.count, repeating: .nan)
        let sp = 0, rv = 1, vix = 2, aaa = 3, baa = 4, rf = 5
        func logReturn(_ t: Int, _ lag: Int) -> Double {
            t >= lag ? Foundation.log(indicators[t, sp] / indicators[t - lag, sp]) : .nan
        }
        for t in 0..<bars where t >= firstCompleteRow {
            result[t, 0] = logReturn(t, 1)
            result[t, 1] = logReturn(t, 3)
            result[t, 2] = logReturn(t, 12)
            result[t, 3] = indicators[t, rv]
            result[t, 4] = ((0..<3).map { indicators[t - $0, rv] * indicators[t - $0, rv] }.reduce(0, +) / 3).squareRoot()
            result[t, 5] = indicators[t, vix].isFinite ? indicators[t, vix] / 100 - indicators[t, rv] : 0
            result[t, 6] = indicators[t, baa] - indicators[t, aaa]
            result[t, 7] = result[t, 6] - (indicators[t - 3, baa] - indicators[t - 3, aaa])
            result[t, 8] = indicators[t, aaa] - indicators[t - 3, aaa]
            result[t, 9] = indicators[t, rf] * periodsPerYear / 100
            var positive = 0, counted = 0
            for a in 0..<closes.columns where closes[t, a].isFinite && closes[t - 3, a].isFinite {
                counted += 1
                if closes[t, a] > closes[t - 3, a] { positive += 1 }
            }
            result[t, 10] = counted > 0 ? Double(positive) / Double(counted) : .nan
        }
        return result
    }
}

/// The model behind the regime probabilities.
public enum RegimeModelKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A Gaussian hidden Markov model (Baum–Welch); probabilities are forward-filtered.
    case hmm
    /// A Gaussian mixture; probabilities are the responsibilities of each row on its own.
    case gmm
}

/// Regime probabilities refitted walk-forward and read only as *filtered* probabilities: the
/// probability of each state at `t` given the observations up to `t`, never the smoothed posterior
/// that would use later rows.
///
/// The observations are the market's one-period log return and the log of its realized volatility,
/// standardized with the fitting sample's mean and deviation. States are ordered by their mean log
/// volatility, so with three states they read calm, normal and stressed.
public struct RegimeDetector: Sendable {
    /// HMM or GMM.
    public let kind: RegimeModelKind
    /// Number of states (2…6).
    public let states: Int
    /// EM restarts per fit.
    public let restarts: Int
    private var hmm: GaussianHMM?
    private var mixture: GaussianMixture?
    private var center: [Double] = []
    private var scale: [Double] = []

    /// A detector, not yet fitted.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for `states` outside
    ///   2…6 or `restarts < 1`.
    public init(kind: RegimeModelKind = .hmm, states: Int = 3, restarts: Int = 3) throws {
        try require((2...6).contains(states), "RegimeDetector", "states", "\(states) must be in 2…6")
        try require(restarts >= 1, "RegimeDetector", "restarts", "\(restarts) must be at least 1")
        self.kind = kind
        self.states = states
        self.restarts = restarts
    }

    /// Names of the states in order: calm/normal/stressed for three, calm/stressed for two.
    public var stateNames: [String] {
        switch states {
        case 2: return ["calm", "stressed"]
        case 3: return ["calm", "normal", "stressed"]
        default: return (0..<states).map { "state \($0 + 1) (by volatility)" }
        }
    }

    /// Whether ``fit(features:rows:seed:)`` has run.
    public var isFitted: Bool { hmm != nil || mixture != nil }

    /// The detector's observations from ``RegimeFeatureBuilder`` features: market 1m and log realized vol 1m.
    static func observations(_ features: Matrix, rows: Range<Int>) -> Matrix {
        Matrix(rows: rows.count, columns: 2) { r, c in
            c == 0 ? features[rows.lowerBound + r, 0] : Foundation.log(Swift.max(features[rows.lowerBound + r, 3], 1e-4))
        }
    }

    /// Fits the model on `rows` of `features` (``RegimeFeatureBuilder`` columns).
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for fewer than `10·states` rows or
    ///   a missing value, and the fitting errors of Regimes.
    public mutating func fit(features: Matrix, rows: Range<Int>, seed: UInt64) throws {
        guard rows.count >= 10 * states else {
            throw StrategiesError.invalidData(component: "RegimeDetector",
                                              message: "\(rows.count) rows to fit \(states) states; at least \(10 * states) are needed")
        }
        let data = Self.observations(features, rows: rows)
        guard data.elements.allSatisfy(\.isFinite) else {
            throw StrategiesError.invalidData(component: "RegimeDetector", message: "a regime observation is missing in rows \(rows)")
        }
        center = (0..<2).map { c in data.column(c).reduce(0, +) / Double(data.rows) }
        scale = (0..<2).map { c in
            let column = data.column(c), mean = center[c]
            return Swift.max((column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(data.rows - 1)).squareRoot(), 1e-12)
        }
        let standardized = standardize(data)
        switch kind {
        case .hmm:
            hmm = try BaumWelch(states: states, restarts: restarts, covariancePrior: 1e-3,
                                ordering: .byMean(feature: 1)).fit(standardized, seed: seed).model
        case .gmm:
            mixture = try GaussianMixtureEstimator(components: states, regularization: 1e-3, restarts: restarts,
                                                   ordering: .byMean(feature: 1)).fit(standardized, seed: seed).model
        }
    }

    private func standardize(_ data: Matrix) -> Matrix {
        Matrix(rows: data.rows, columns: 2) { r, c in (data[r, c] - center[c]) / scale[c] }
    }

    /// Filtered probabilities of `rows`, `rows.count × states`: the HMM's forward filter run from
    /// `rows.lowerBound`, or the mixture's responsibilities.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` before a fit, and
    ///   ``StrategiesError/invalidData(component:message:)`` for a missing observation.
    public func filteredProbabilities(features: Matrix, rows: Range<Int>) throws -> Matrix {
        let data = Self.observations(features, rows: rows)
        guard data.elements.allSatisfy(\.isFinite) else {
            throw StrategiesError.invalidData(component: "RegimeDetector", message: "a regime observation is missing in rows \(rows)")
        }
        if let hmm { return try hmm.filteredProbabilities(standardize(data)) }
        if let mixture { return try mixture.responsibilities(standardize(data)) }
        throw StrategiesError.invalidArgument(component: "RegimeDetector", parameter: "fit", message: "is needed before probabilities")
    }
}
