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
/// `λ = max(0, (ε − b_t · x̃) / ‖x̃ − x̄ 1‖²)` (0 when `x̃` is constant up to rounding,
/// ``isRoundingNoise(spread:mean:count:)``), the closest portfolio to
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
    let lambda = isRoundingNoise(spread: spread, mean: mean, count: m) ? 0 : max(0, (epsilon - dot(b, prediction)) / spread)
    for i in 0..<m { weights[i] = b[i] + lambda * (prediction[i] - mean) }
    projectOntoSimplex(weights, scratch: scratch)
}

/// On-line moving average reversion (OLMAR; Li & Hoi 2012, "On-line portfolio selection with
/// moving average reversion", ICML; extended in Li, Hoi, Sahoo & Liu 2015, Artificial Intelligence 222).
///
/// OLMAR-1 predicts `x̃_{t+1} = (1/w) Σ_{i=0}^{w−1} p_{t−i} / p_t` (simple moving average of the
/// last `w` prices over the last price) once more than `w` relatives are known, and
/// ``OLPSWarmUp`` before; OLMAR-2 predicts `x̃_{t+1} = α + (1 − α) x̃_t / x_t` from `x̃_1 = 1`
/// (exponential moving average). Both then apply ``reversionUpdate``. Under
/// ``OLPSConvention/toolbox`` OLMAR-1 keeps the uniform portfolio for periods 0 and 1 and updates
/// from period 2 on (`olmar1_run.m` calls its kernel from day `t ≥ 3`); under
/// ``OLPSConvention/paper`` it updates from period 1 (Li & Hoi 2012, universal-portfolios).
/// OLMAR-2 updates from period 1 under both. Defaults `ε = 10`, `w = 5`, `α = 0.5` (OLPS toolbox).
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
    /// When OLMAR-1 starts updating (``OLPSConvention``).
    public let convention: OLPSConvention
    private var prediction: [Double] = [], scratch: [Double] = [], cumulative: [Double] = []

    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for `ε ≤ 0`,
    ///   `w < 2` or `α ∉ [0, 1]`.
    public init(epsilon: Double = 10, window: Int = 5, alpha: Double = 0.5, variant: Variant = .simple,
                warmUp: OLPSWarmUp = .lastRelative, convention: OLPSConvention = .toolbox) throws {
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
        self.convention = convention
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
            if convention == .toolbox && observed < 2 { copyWeights(step.previous, into: weights); return }
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
/// price, `x̃_{t+1} = L1med(p_{t−w+1}, …, p_t) / p_t`, once `w + 1` relatives are known.
///
/// - ``OLPSConvention/toolbox`` (`rmr_run.m`, `l1median_VaZh_z.m`): the prices are the products of
///   the relatives *after the first* (the toolbox's first price row is 1 and its second is `x₂`);
///   the median is Vardi & Zhang's (2000, PNAS 97(4)) modified Weiszfeld iteration started at the
///   column-wise median, stopped when `‖y_{k+1} − y_k‖₁ ≤ τ ‖y_k‖₁` (default `τ = 1e-9`) or after
///   200 iterations, points nearer than 1e-15 counted as coincident.
/// - ``OLPSConvention/paper`` (Huang et al. 2013; universal-portfolios): the prices are products of
///   all relatives since the start; plain Weiszfeld from the mean until the relative change
///   `‖y_{k+1} − y_k‖₂ / ‖y_k‖₂ ≤ τ` (default `τ = 0.001`, at most 200 iterations; an iterate on a
///   data point stops there).
///
/// Defaults `ε = 5`, `w = 5` (OLPS toolbox configuration).
public struct RobustMedianReversion: OnlinePortfolioSelector, Sendable {
    /// Reversion threshold `ε > 0`.
    public let epsilon: Double
    /// Window `w ≥ 2`.
    public let window: Int
    /// Relative tolerance `τ > 0` of the L1-median iteration.
    public let tolerance: Double
    /// The warm-up rule before `w + 1` relatives are known.
    public let warmUp: OLPSWarmUp
    /// The toolbox's or the paper's prices and L1 median.
    public let convention: OLPSConvention
    private var m = 0
    private var prices: [Double] = [], median: [Double] = [], next: [Double] = [], distances: [Double] = []
    private var pull: [Double] = [], column: [Double] = []
    private var prediction: [Double] = [], scratch: [Double] = [], cumulative: [Double] = []

    /// RMR with reversion threshold `ε`, window `w` and L1-median tolerance `τ` under `convention`.
    ///
    /// - Parameter tolerance: `τ`; `nil` takes the convention's default (1e-9 toolbox, 0.001 paper).
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for `ε ≤ 0`, `w < 2`, `τ ≤ 0`.
    public init(epsilon: Double = 5, window: Int = 5, tolerance: Double? = nil, warmUp: OLPSWarmUp = .lastRelative,
                convention: OLPSConvention = .toolbox) throws {
        let tolerance = tolerance ?? (convention == .toolbox ? 1e-9 : 0.001)
        guard epsilon > 0, epsilon.isFinite else {
            throw OLPSError.invalidParameter(algorithm: "RMR", name: "epsilon", value: epsilon, requirement: "> 0")
        }
        guard window >= 2 else {
            throw OLPSError.invalidParameter(algorithm: "RMR", name: "window", value: Double(window), requirement: "≥ 2")
        }
        guard tolerance > 0, tolerance.isFinite else {
            throw OLPSError.invalidParameter(algorithm: "RMR", name: "tau", value: tolerance, requirement: "> 0")
        }
        self.epsilon = epsilon
        self.window = window
        self.tolerance = tolerance
        self.warmUp = warmUp
        self.convention = convention
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
        column = distances
        pull = median
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        guard step.period > 0 else { fillUniform(weights); return }
        let x = step.observed.last, observed = step.observed.count
        // The toolbox's prices start at 1 on the first day, so they omit the first relative.
        if convention == .paper || observed >= 2 { for i in 0..<m { cumulative[i] *= x[i] } }
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
        if convention == .toolbox {
            vardiZhangMedian()
        } else {
            weiszfeldMedian()
        }
        for i in 0..<m { prediction[i] = median[i] / cumulative[i] }
    }

    /// Plain Weiszfeld iteration from the mean of the `w` price rows (the paper convention).
    private mutating func weiszfeldMedian() {
        let m = self.m, w = window
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
    }

    /// Vardi & Zhang's modified Weiszfeld iteration from the column-wise median, with the OLPS
    /// toolbox's stopping rule (`l1median_VaZh_z.m` defaults: 200 iterations, zero distance 1e-15).
    private mutating func vardiZhangMedian() {
        let m = self.m, w = window
        for i in 0..<m {   // column median (the mean of the two middle values for even w)
            for k in 0..<w { column[k] = prices[k * m + i] }
            column.sort()
            median[i] = w % 2 == 1 ? column[w / 2] : 0.5 * (column[w / 2 - 1] + column[w / 2])
        }
        for _ in 0..<200 {
            var inverseSum = 0.0
            var coincident = false
            for i in 0..<m { next[i] = 0; pull[i] = 0 }
            for k in 0..<w {
                var d = 0.0
                for i in 0..<m { d += (prices[k * m + i] - median[i]) * (prices[k * m + i] - median[i]) }
                d = d.squareRoot()
                guard d >= 1e-15 else { coincident = true; continue }
                inverseSum += 1 / d
                for i in 0..<m {
                    next[i] += prices[k * m + i] / d
                    pull[i] += (prices[k * m + i] - median[i]) / d
                }
            }
            var pullNorm = 0.0
            for i in 0..<m { pullNorm += pull[i] * pull[i] }
            pullNorm = pullNorm.squareRoot()
            let r = pullNorm == 0 ? 0 : min(1, (coincident ? 1 : 0) / pullNorm)
            var step = 0.0, size = 0.0
            for i in 0..<m {
                let centre = inverseSum == 0 ? 0 : next[i] / inverseSum
                let y = (1 - r) * centre + r * median[i]
                step += abs(y - median[i])
                size += abs(median[i])
                median[i] = y
            }
            if step - tolerance * size <= 0 { break }
        }
    }
}
