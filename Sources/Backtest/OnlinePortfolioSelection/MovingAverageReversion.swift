import Foundation

/// How OLMAR and RMR predict the next relatives before a full window has been observed.
public enum OLPSWarmUp: String, Sendable, Hashable, CaseIterable, Codable {
    /// The last observed relative `x_t` (OLPS toolbox, Li & Hoi 2012).
    case lastRelative = "last-relative"
    /// The product of all observed relatives, i.e. the price relative to the start
    /// (universal-portfolios, which feeds normalized prices to its warm-up rule).
    case priceSinceStart = "price-since-start"
}

/// The OLMAR/RMR portfolio step: `b = Π_Δ(b_t + λ(x̃ − x̄ 1))` with
/// `λ = max(0, (ε − b_t · x̃) / ‖x̃ − x̄ 1‖²)` (0 when `x̃` is constant), the closest portfolio to
/// `b_t` whose predicted growth `b · x̃` reaches `ε` (Li & Hoi 2012, Eq. 5 and Algorithm 2).
@inlinable
func reversionUpdate(previous b: UnsafeBufferPointer<Double>, prediction: UnsafeBufferPointer<Double>, epsilon: Double,
                     into weights: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>) {
    let m = weights.count
    var mean = 0.0
    for i in 0..<m { mean += prediction[i] }
    mean /= Double(m)
    var spread = 0.0
    for i in 0..<m { spread += (prediction[i] - mean) * (prediction[i] - mean) }
    let lambda = spread != 0 ? max(0, (epsilon - dot(b, prediction)) / spread) : 0
    for i in 0..<m { weights[i] = b[i] + lambda * (prediction[i] - mean) }
    projectOntoSimplex(weights, scratch: scratch)
}

/// On-line moving average reversion (OLMAR; Li & Hoi 2012, "On-line portfolio selection with
/// moving average reversion", ICML; extended in Li, Hoi, Sahoo & Liu 2015, Artificial Intelligence 222).
///
/// OLMAR-1 predicts `x̃_{t+1} = (1/w) Σ_{i=0}^{w−1} p_{t−i} / p_t` (simple moving average of the
/// last `w` prices over the last price) once more than `w` relatives are known, and
/// ``OLPSWarmUp`` before; OLMAR-2 predicts `x̃_{t+1} = α + (1 − α) x̃_t / x_t` from `x̃_1 = 1`
/// (exponential moving average). Both then apply ``reversionUpdate``. Defaults `ε = 10`,
/// `w = 5`, `α = 0.5` (OLPS toolbox).
public struct MovingAverageReversion: OnlinePortfolioSelector, Sendable {
    /// The two predictors.
    public enum Variant: Int, Sendable, Hashable, CaseIterable, Codable {
        /// OLMAR-1: simple moving average over a window.
        case simple = 1
        /// OLMAR-2: exponential moving average.
        case exponential = 2
    }
    /// Reversion threshold `ε > 0`.
    public let epsilon: Double
    /// Window `w ≥ 2` (OLMAR-1).
    public let window: Int
    /// Decay `α ∈ [0, 1]` (OLMAR-2).
    public let alpha: Double
    /// The predictor.
    public let variant: Variant
    /// The warm-up rule (OLMAR-1).
    public let warmUp: OLPSWarmUp
    private var prediction: [Double] = [], scratch: [Double] = [], cumulative: [Double] = []

    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for `ε ≤ 0`,
    ///   `w < 2` or `α ∉ [0, 1]`.
    public init(epsilon: Double = 10, window: Int = 5, alpha: Double = 0.5, variant: Variant = .simple,
                warmUp: OLPSWarmUp = .lastRelative) throws {
        guard epsilon > 0, epsilon.isFinite else {
            throw OLPSError.invalidParameter(algorithm: "OLMAR", name: "epsilon", value: epsilon, requirement: "> 0")
        }
        guard window >= 2 else {
            throw OLPSError.invalidParameter(algorithm: "OLMAR", name: "window", value: Double(window), requirement: "≥ 2")
        }
        guard alpha >= 0, alpha <= 1 else {
            throw OLPSError.invalidParameter(algorithm: "OLMAR", name: "alpha", value: alpha, requirement: "in [0, 1]")
        }
        self.epsilon = epsilon
        self.window = window
        self.alpha = alpha
        self.variant = variant
        self.warmUp = warmUp
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String {
        variant == .simple ? "OLMAR-1(ε=\(epsilon), w=\(window))" : "OLMAR-2(ε=\(epsilon), α=\(alpha))"
    }

    public mutating func reset(assetCount: Int) throws {
        prediction = Array(repeating: 1, count: assetCount)
        cumulative = prediction
        scratch = Array(repeating: 0, count: assetCount)
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        guard step.period > 0 else { fillUniform(weights); return }
        let x = step.observed.last, m = weights.count, observed = step.observed.count
        for i in 0..<m { cumulative[i] *= x[i] }
        switch variant {
        case .simple:
            if observed < window + 1 {
                for i in 0..<m { prediction[i] = warmUp == .lastRelative ? x[i] : cumulative[i] }
            } else {
                for i in 0..<m {   // Σ_{k<w} p_{t−k}/p_t with p_{t−k}/p_t = 1/Π_{j<k} x_{t−j}
                    var sum = 0.0, ratio = 1.0
                    for k in 0..<window {
                        sum += ratio
                        ratio /= step.observed[observed - 1 - k, i]
                    }
                    prediction[i] = sum / Double(window)
                }
            }
        case .exponential:
            for i in 0..<m { prediction[i] = alpha + (1 - alpha) * prediction[i] / x[i] }
        }
        prediction.withUnsafeBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in
                reversionUpdate(previous: step.previous, prediction: p, epsilon: epsilon, into: weights, scratch: s)
            }
        }
    }
}

/// Robust median reversion (RMR; Huang, Zhou, Li, Hoi & Zhou 2013, "Robust median reversion
/// strategy for online portfolio selection", IJCAI; TKDE 28(9), 2016).
///
/// Like OLMAR-1 but the prediction is the L1 (spatial) median of the last `w` prices over the last
/// price, `x̃_{t+1} = L1med(p_{t−w+1}, …, p_t) / p_t` with `p` the product of the relatives since
/// the start, computed by Weiszfeld's iteration from the mean
/// until the relative change is at most `τ` (at most 200 iterations; an iterate on a data point
/// stops there). Defaults `ε = 5`, `w = 5`, `τ = 0.001` (Huang et al. 2013).
public struct RobustMedianReversion: OnlinePortfolioSelector, Sendable {
    /// Reversion threshold `ε > 0`.
    public let epsilon: Double
    /// Window `w ≥ 2`.
    public let window: Int
    /// Relative tolerance `τ > 0` of the L1-median iteration.
    public let tolerance: Double
    /// The warm-up rule before `w + 1` relatives are known.
    public let warmUp: OLPSWarmUp
    private var m = 0
    private var prices: [Double] = [], median: [Double] = [], next: [Double] = [], distances: [Double] = []
    private var prediction: [Double] = [], scratch: [Double] = [], cumulative: [Double] = []

    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for `ε ≤ 0`, `w < 2`, `τ ≤ 0`.
    public init(epsilon: Double = 5, window: Int = 5, tolerance: Double = 0.001, warmUp: OLPSWarmUp = .lastRelative) throws {
        guard epsilon > 0, epsilon.isFinite else {
            throw OLPSError.invalidParameter(algorithm: "RMR", name: "epsilon", value: epsilon, requirement: "> 0")
        }
        guard window >= 2 else {
            throw OLPSError.invalidParameter(algorithm: "RMR", name: "window", value: Double(window), requirement: "≥ 2")
        }
        guard tolerance > 0 else {
            throw OLPSError.invalidParameter(algorithm: "RMR", name: "tau", value: tolerance, requirement: "> 0")
        }
        self.epsilon = epsilon
        self.window = window
        self.tolerance = tolerance
        self.warmUp = warmUp
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { "RMR(ε=\(epsilon), w=\(window), τ=\(tolerance))" }

    public mutating func reset(assetCount: Int) throws {
        m = assetCount
        prices = Array(repeating: 0, count: window * m)
        median = Array(repeating: 0, count: m)
        next = median; prediction = median; scratch = median
        cumulative = Array(repeating: 1, count: m)
        distances = Array(repeating: 0, count: window)
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        guard step.period > 0 else { fillUniform(weights); return }
        let x = step.observed.last, observed = step.observed.count
        for i in 0..<m { cumulative[i] *= x[i] }
        if observed < window + 1 {
            for i in 0..<m { prediction[i] = warmUp == .lastRelative ? x[i] : cumulative[i] }
        } else {
            predictByMedian(step.observed)
        }
        prediction.withUnsafeBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in
                reversionUpdate(previous: step.previous, prediction: p, epsilon: epsilon, into: weights, scratch: s)
            }
        }
    }

    /// Fills `prediction` with the L1 median of the last `w` prices divided by the last price.
    ///
    /// The spatial median is not invariant to rescaling single assets, so it is taken on the prices
    /// themselves (products of the relatives since the start, as the toolbox does), not on prices
    /// relative to the last one.
    private mutating func predictByMedian(_ observed: ObservedRelatives) {
        let m = self.m, w = window, last = observed.count - 1
        // Row w−1 is p_t, row k is p_{t−(w−1−k)}.
        for i in 0..<m { prices[(w - 1) * m + i] = cumulative[i] }
        for k in stride(from: w - 2, through: 0, by: -1) {
            for i in 0..<m { prices[k * m + i] = prices[(k + 1) * m + i] / observed[last - (w - 2 - k), i] }
        }
        for i in 0..<m {
            var s = 0.0
            for k in 0..<w { s += prices[k * m + i] }
            median[i] = s / Double(w)
        }
        for _ in 0..<200 {
            var inverseSum = 0.0
            var onDataPoint = false
            for k in 0..<w {
                var d = 0.0
                for i in 0..<m { d += (prices[k * m + i] - median[i]) * (prices[k * m + i] - median[i]) }
                d = d.squareRoot()
                if d == 0 { onDataPoint = true; break }
                distances[k] = d
                inverseSum += 1 / d
            }
            if onDataPoint { break }
            var change = 0.0, size = 0.0
            for i in 0..<m {
                var s = 0.0
                for k in 0..<w { s += prices[k * m + i] / distances[k] }
                next[i] = s / inverseSum
                change += (next[i] - median[i]) * (next[i] - median[i])
                size += median[i] * median[i]
            }
            for i in 0..<m { median[i] = next[i] }
            if change.squareRoot() / size.squareRoot() <= tolerance { break }
        }
        for i in 0..<m { prediction[i] = median[i] / cumulative[i] }
    }
}
