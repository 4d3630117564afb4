import RealModule

/// The four slope-detection classes.
public enum SlopeLabel: Int, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Strong fall: slope ≤ −strong threshold.
    case downStrong = 0
    /// Fall: −strong < slope < 0.
    case down = 1
    /// Rise: 0 ≤ slope < strong.
    case up = 2
    /// Strong rise: slope ≥ strong threshold.
    case upStrong = 3

    /// Orders by class value (down++ < down < up < up++).
    public static func < (lhs: SlopeLabel, rhs: SlopeLabel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Supervised targets. These **look ahead by design** (they are what a model learns to predict):
/// the value at `t` uses data up to `t + horizon`, and the last `horizon` values are `nil`/NaN.
public enum Labels {
    /// Forward return `Xₜ₊ₕ/Xₜ − 1` (or `ln(Xₜ₊ₕ/Xₜ)` when `logarithmic`); last `h` values NaN. O(N).
    ///
    /// - Throws: ``SignalsError`` for an empty, non-finite or non-positive series or `horizon < 1`.
    public static func forwardReturns(_ prices: [Double], horizon h: Int = 1, logarithmic: Bool = false) throws -> [Double] {
        let operation = "Labels.forwardReturns"
        try validateSeries(prices, operation)
        try validateWindow(h, operation, name: "horizon")
        if let bad = prices.firstIndex(where: { $0 <= 0 }) { throw SignalsError.nonPositive(operation: operation, position: bad, value: prices[bad]) }
        return prices.indices.map { t in
            guard t + h < prices.count else { return .nan }
            return logarithmic ? Double.log(prices[t + h] / prices[t]) : prices[t + h] / prices[t] - 1
        }
    }

    /// Four-class slope labels of `series` (typically a price or its MRA smooth): the slope is the forward
    /// relative change per period `sₜ = (Xₜ₊ₕ/Xₜ − 1)/h`, classified as up++ when `s ≥ strong`, up when
    /// `0 ≤ s < strong`, down when `−strong < s < 0`, down++ when `s ≤ −strong`. Last `h` labels `nil`. O(N).
    ///
    /// - Throws: as ``forwardReturns(_:horizon:logarithmic:)``; `strong` must be finite and > 0.
    public static func slope(_ series: [Double], horizon h: Int = 1, strong: Double) throws -> [SlopeLabel?] {
        try slope(series, horizon: h, strongUp: strong, strongDown: strong)
    }

    /// Four-class slope labels with asymmetric thresholds: up++ when `s ≥ strongUp`, up when `0 ≤ s < strongUp`,
    /// down when `−strongDown < s < 0`, down++ when `s ≤ −strongDown` (slope `s` as in ``slope(_:horizon:strong:)``).
    ///
    /// - Throws: as ``forwardReturns(_:horizon:logarithmic:)``; both thresholds must be finite and > 0.
    public static func slope(_ series: [Double], horizon h: Int = 1, strongUp: Double, strongDown: Double) throws -> [SlopeLabel?] {
        for (name, value) in [("strongUp", strongUp), ("strongDown", strongDown)] where !(value.isFinite && value > 0) {
            throw SignalsError.invalidParameter(operation: "Labels.slope", parameter: name, value: "\(value)", reason: "must be finite and > 0")
        }
        let r = try forwardReturns(series, horizon: h)
        return r.map { v in
            guard !v.isNaN else { return nil }
            let s = v / Double(h)
            if s >= strongUp { return .upStrong }
            if s >= 0 { return .up }
            if s > -strongDown { return .down }
            return .downStrong
        }
    }

    /// The outcome of one triple-barrier event.
    public struct BarrierEvent: Sendable, Hashable {
        /// +1 upper (profit-taking) barrier first, −1 lower (stop-loss) first, 0 vertical barrier.
        public let label: Int
        /// Index at which the first barrier was touched (the vertical barrier's index for label 0).
        public let exitIndex: Int
        /// Return `X_exit/Xₜ − 1`.
        public let realizedReturn: Double
    }

    /// Triple-barrier labels (López de Prado 2018, §3.4): from each `t`, the first of `Xₜ(1 + upper)`
    /// (label +1), `Xₜ(1 − lower)` (label −1) touched within `horizon` periods, else the vertical barrier
    /// at `t + horizon` (label 0). Events whose vertical barrier lies past the end are `nil`. O(N·horizon).
    ///
    /// - Throws: as ``forwardReturns(_:horizon:logarithmic:)``; `upper` and `lower` must be finite and > 0.
    public static func tripleBarrier(_ prices: [Double], upper: Double, lower: Double, horizon h: Int) throws -> [BarrierEvent?] {
        let operation = "Labels.tripleBarrier"
        try validateSeries(prices, operation)
        try validateWindow(h, operation, name: "horizon")
        if let bad = prices.firstIndex(where: { $0 <= 0 }) { throw SignalsError.nonPositive(operation: operation, position: bad, value: prices[bad]) }
        guard upper.isFinite, upper > 0, lower.isFinite, lower > 0, lower < 1 else {
            throw SignalsError.invalidParameter(operation: operation, parameter: "upper/lower", value: "\(upper)/\(lower)",
                                                reason: "must be finite, > 0 (lower < 1)")
        }
        return prices.indices.map { t -> BarrierEvent? in
            guard t + h < prices.count else { return nil }
            for s in (t + 1)...(t + h) {
                let r = prices[s] / prices[t] - 1
                if r >= upper { return BarrierEvent(label: 1, exitIndex: s, realizedReturn: r) }
                if r <= -lower { return BarrierEvent(label: -1, exitIndex: s, realizedReturn: r) }
            }
            return BarrierEvent(label: 0, exitIndex: t + h, realizedReturn: prices[t + h] / prices[t] - 1)
        }
    }
}
