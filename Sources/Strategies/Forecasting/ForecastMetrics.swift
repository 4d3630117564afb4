import Foundation
import Linalg
import Signals

/// The Diebold–Mariano test of equal predictive accuracy (Diebold & Mariano 1995) with squared-error loss.
public enum DieboldMariano {
    /// The statistic and its two-sided p-value.
    public struct Result: Sendable, Hashable, Codable {
        /// `d̄ / √(V̂/n)`; negative when the first forecast has the smaller squared errors.
        public let statistic: Double
        /// `2(1 − Φ(|statistic|))`.
        public let pValue: Double
    }

    /// Compares errors `first` and `second` (realized minus forecast) of `h`-step forecasts: the loss
    /// differential `dₜ = first²ₜ − second²ₜ`, its long-run variance by Newey–West with `h − 1` lags and
    /// Bartlett weights `1 − k/h` (overlapping `h`-step errors are MA(h−1) under the null), and the
    /// normal approximation. A zero variance gives statistic 0 and p-value 1 when `d̄ = 0`.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for `h < 1`, and
    ///   ``StrategiesError/invalidData(component:message:)`` for fewer than 2 errors, unequal lengths or
    ///   non-finite values.
    public static func test(_ first: [Double], _ second: [Double], horizon h: Int) throws -> Result {
        let component = "DieboldMariano"
        try require(h >= 1, component, "horizon", "must be ≥ 1, not \(h)")
        guard first.count == second.count, first.count >= 2 else {
            throw StrategiesError.invalidData(component: component, message: "need two equal series of ≥ 2 errors, got \(first.count) and \(second.count)")
        }
        guard first.allSatisfy(\.isFinite), second.allSatisfy(\.isFinite) else {
            throw StrategiesError.invalidData(component: component, message: "errors must be finite")
        }
        let d = zip(first, second).map { $0 * $0 - $1 * $1 }
        let n = Double(d.count), mean = d.reduce(0, +) / n
        func autocovariance(_ k: Int) -> Double {
            var sum = 0.0
            for t in k..<d.count { sum += (d[t] - mean) * (d[t - k] - mean) }
            return sum / n
        }
        var variance = autocovariance(0)
        if h > 1 { for k in 1..<Swift.min(h, d.count) { variance += 2 * (1 - Double(k) / Double(h)) * autocovariance(k) } }
        guard variance > 0 else {
            return mean == 0 ? Result(statistic: 0, pValue: 1) : Result(statistic: mean > 0 ? .infinity : -.infinity, pValue: 0)
        }
        let statistic = mean / (variance / n).squareRoot()
        return Result(statistic: statistic, pValue: 2 * (1 - NormalDistribution.cumulative(Swift.abs(statistic))))
    }
}

/// Point-forecast and classification scores.
public enum ForecastScoring {
    /// Mean squared error.
    static func mse(_ forecast: [Double], _ realized: [Double]) -> Double {
        zip(forecast, realized).reduce(0) { $0 + ($1.1 - $1.0) * ($1.1 - $1.0) } / Double(realized.count)
    }

    /// Share of `realized` inside the central `level` Gaussian interval `forecast ± z·√variance`
    /// (`z = Φ⁻¹((1 + level)/2)`): about `level` for a calibrated predictive variance, less when the
    /// variance is too small. A zero variance covers only an exact hit.
    static func intervalCoverage(_ forecast: [Double], variance: [Double], _ realized: [Double], level: Double = 0.9) throws -> Double {
        let z = try NormalDistribution.quantile((1 + level) / 2)
        var inside = 0
        for i in realized.indices where Swift.abs(realized[i] - forecast[i]) <= z * variance[i].squareRoot() { inside += 1 }
        return Double(inside) / Double(realized.count)
    }

    /// Mean absolute error.
    static func mae(_ forecast: [Double], _ realized: [Double]) -> Double {
        zip(forecast, realized).reduce(0) { $0 + Swift.abs($1.1 - $1.0) } / Double(realized.count)
    }

    /// Share of forecasts whose sign (≥ 0 counts as up) matches the realized return's.
    static func directionAccuracy(_ forecast: [Double], _ realized: [Double]) -> Double {
        Double(zip(forecast, realized).filter { ($0 >= 0) == ($1 >= 0) }.count) / Double(realized.count)
    }

    /// The slope class of an `h`-period log-return forecast, with the thresholds of `Labels.slope`
    /// (the per-period simple return `(eᶠ − 1)/h` against `±strong`).
    public static func slopeClass(logReturn f: Double, horizon h: Int, strong: Double) -> SlopeLabel {
        let s = (Foundation.exp(f) - 1) / Double(h)
        if s >= strong { return .upStrong }
        if s >= 0 { return .up }
        if s > -strong { return .down }
        return .downStrong
    }

    /// Accuracy and macro-F1 of `predicted` against `actual`; the F1 is averaged over the classes that
    /// occur in either (scikit-learn's `f1_score(average="macro")`, 0 for a class with no true positive).
    public static func classification(_ predicted: [SlopeLabel], _ actual: [SlopeLabel]) -> (accuracy: Double, macroF1: Double) {
        guard !actual.isEmpty else { return (.nan, .nan) }
        let accuracy = Double(zip(predicted, actual).filter { $0 == $1 }.count) / Double(actual.count)
        let present = Set(predicted).union(actual).sorted()
        let f1 = present.map { c -> Double in
            let tp = Double(zip(predicted, actual).filter { $0 == c && $1 == c }.count)
            let fp = Double(zip(predicted, actual).filter { $0 == c && $1 != c }.count)
            let fn = Double(zip(predicted, actual).filter { $0 != c && $1 == c }.count)
            return tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn)
        }
        return (accuracy, f1.reduce(0, +) / Double(f1.count))
    }
}

/// Naive forecasts of the forward `h`-period log return, fitted on a training window.
public enum NaiveBaseline: String, Sendable, Hashable, CaseIterable, Codable {
    /// Always 0 (a random walk without drift).
    case zero
    /// The mean forward return of the training window.
    case historicalMean = "historical-mean"
    /// The trailing `h`-period return at the origin (momentum persistence).
    case lastValue = "last-value"
    /// OLS of the forward on the trailing `h`-period return, fitted on the training window.
    case ar1 = "ar1"

    /// Forecasts at `origins` of `logPrices`, fitted on the training `trainingOrigins` (whose targets
    /// `ln Pₜ₊ₕ − ln Pₜ` must all be known).
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for an origin before `h` or a
    ///   training target past the end.
    public func forecasts(logPrices: [Double], horizon h: Int, trainingOrigins: [Int], origins: [Int]) throws -> [Double] {
        guard let first = (trainingOrigins + origins).min(), first >= h,
              let last = trainingOrigins.max(), last + h < logPrices.count, let lastOrigin = origins.max(), lastOrigin < logPrices.count else {
            throw StrategiesError.invalidData(component: "NaiveBaseline", message: "origins need \(h) periods of history and known training targets")
        }
        func trailing(_ t: Int) -> Double { logPrices[t] - logPrices[t - h] }
        func forward(_ t: Int) -> Double { logPrices[t + h] - logPrices[t] }
        switch self {
        case .zero:
            return origins.map { _ in 0 }
        case .historicalMean:
            let mean = trainingOrigins.reduce(0) { $0 + forward($1) } / Double(trainingOrigins.count)
            return origins.map { _ in mean }
        case .lastValue:
            return origins.map(trailing)
        case .ar1:
            let xs = trainingOrigins.map(trailing), ys = trainingOrigins.map(forward)
            let n = Double(xs.count), mx = xs.reduce(0, +) / n, my = ys.reduce(0, +) / n
            let sxx = xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
            let sxy = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
            let slope = sxx > 0 ? sxy / sxx : 0
            return origins.map { my + slope * (trailing($0) - mx) }
        }
    }
}
