import Linalg
import RealModule

/// A Markov regime-switching Gaussian market with known parameters (Hamilton 1989).
///
/// Regime `sₜ ∈ {0…K−1}` follows a Markov chain with transition matrix `P`
/// (`P[i, j] = Pr(sₜ = j | sₜ₋₁ = i)`) from the initial distribution `π`. Given the
/// regime, the log returns of the `n` assets are `rₜ ~ N(μ_{sₜ}, Σ_{sₜ})`, drawn as
/// `μ + L z` with `L` the Cholesky factor and `z` standard normals, and prices follow
/// `pₜ = pₜ₋₁ · exp(rₜ)`. Everything random comes from one seeded ``Xoshiro256StarStar``
/// in a fixed order (regime draw, then `n` normals, per step), so a seed fixes every bit.
public struct RegimeSwitchingMarket: Sendable {
    /// One regime's return distribution.
    public struct Regime: Sendable, Hashable {
        /// Mean log return per period, one per asset.
        public let mean: [Double]
        /// Covariance of log returns per period, `n × n`, symmetric positive definite.
        public let covariance: Matrix

        /// A regime.
        public init(mean: [Double], covariance: Matrix) {
            self.mean = mean
            self.covariance = covariance
        }
    }

    /// The regimes.
    public let regimes: [Regime]
    /// `K × K` row-stochastic transition matrix.
    public let transition: Matrix
    /// Initial regime probabilities, length `K`.
    public let initial: [Double]
    /// Number of assets.
    public var assetCount: Int { regimes[0].mean.count }
    let factors: [Matrix]

    /// A validated market.
    ///
    /// - Throws: ``MarketError/shapeMismatch(what:expected:found:)`` for inconsistent sizes;
    ///   ``MarketError/invalidArgument(operation:message:)`` for no regimes, a transition row or initial
    ///   distribution that is negative or does not sum to 1 (within 1e−12), non-finite means, or a
    ///   covariance that is not symmetric positive definite (naming the regime).
    public init(regimes: [Regime], transition: Matrix, initial: [Double]? = nil) throws {
        let operation = "RegimeSwitchingMarket"
        guard let first = regimes.first, !first.mean.isEmpty else {
            throw MarketError.invalidArgument(operation: operation, message: "needs at least one regime and one asset")
        }
        let k = regimes.count, n = first.mean.count
        guard transition.rows == k, transition.columns == k else {
            throw MarketError.shapeMismatch(what: "\(operation) transition", expected: "\(k)×\(k)",
                                            found: "\(transition.rows)×\(transition.columns)")
        }
        func checkDistribution(_ p: [Double], _ what: String) throws {
            guard p.allSatisfy({ $0.isFinite && $0 >= 0 }), Swift.abs(p.reduce(0, +) - 1) <= 1e-12 else {
                throw MarketError.invalidArgument(operation: operation, message: "\(what) must be non-negative and sum to 1, got \(p)")
            }
        }
        for i in 0..<k { try checkDistribution(transition.row(i), "transition row \(i)") }
        let start = initial ?? Array(repeating: 1 / Double(k), count: k)
        guard start.count == k else {
            throw MarketError.shapeMismatch(what: "\(operation) initial", expected: "\(k)", found: "\(start.count)")
        }
        try checkDistribution(start, "initial distribution")
        var factors: [Matrix] = []
        for (r, regime) in regimes.enumerated() {
            guard regime.mean.count == n, regime.covariance.rows == n, regime.covariance.columns == n else {
                throw MarketError.shapeMismatch(what: "\(operation) regime \(r)", expected: "mean \(n), covariance \(n)×\(n)",
                                                found: "mean \(regime.mean.count), covariance \(regime.covariance.rows)×\(regime.covariance.columns)")
            }
            guard regime.mean.allSatisfy(\.isFinite) else {
                throw MarketError.invalidArgument(operation: operation, message: "regime \(r) mean is not finite")
            }
            guard regime.covariance.isSymmetric(tolerance: 1e-12), let cholesky = try? Cholesky(regime.covariance) else {
                throw MarketError.invalidArgument(operation: operation, message: "regime \(r) covariance is not symmetric positive definite")
            }
            factors.append(Matrix(rows: n, columns: n) { i, j in j <= i ? cholesky.lower[i, j] : 0 })
        }
        self.regimes = regimes
        self.transition = transition
        self.initial = start
        self.factors = factors
    }

    /// A sample path.
    public struct Path: Sendable {
        /// Regime of each step, length `steps`.
        public let regimes: [Int]
        /// Log returns, `steps × n`.
        public let logReturns: Matrix
        /// Prices, `(steps + 1) × n` on periods `0…steps`, starting at the given prices; assets `A01…`,
        /// class ``AssetClass/equity``.
        public let prices: PricePanel
        /// The seed that produced the path.
        public let seed: UInt64
    }

    /// Draws `steps` periods with the generator seeded by `seed`.
    ///
    /// - Throws: ``MarketError/invalidArgument(operation:message:)`` for `steps < 1`;
    ///   ``MarketError/shapeMismatch(what:expected:found:)`` or
    ///   ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for bad start prices.
    ///   Complexity: O(steps · n²).
    public func simulate(steps: Int, seed: UInt64, startPrices: [Double]? = nil) throws -> Path {
        let operation = "RegimeSwitchingMarket.simulate"
        guard steps >= 1 else { throw MarketError.invalidArgument(operation: operation, message: "steps \(steps) must be ≥ 1") }
        let n = assetCount, k = regimes.count
        let start = startPrices ?? Array(repeating: 100, count: n)
        guard start.count == n else { throw MarketError.shapeMismatch(what: "\(operation) startPrices", expected: "\(n)", found: "\(start.count)") }
        for (a, p) in start.enumerated() { try requirePositive(p, "startPrices[\(a)]", operation) }
        var rng = Xoshiro256StarStar(seed: seed)
        func draw(_ probabilities: [Double]) -> Int {
            let u = rng.nextUniform()
            var cumulative = 0.0
            for (j, p) in probabilities.enumerated() {
                cumulative += p
                if u < cumulative { return j }
            }
            return probabilities.lastIndex { $0 > 0 } ?? k - 1
        }
        var path = [Int](repeating: 0, count: steps)
        var returns = Matrix(rows: steps, columns: n)
        var prices = Matrix(rows: steps + 1, columns: n)
        for a in 0..<n { prices[0, a] = start[a] }
        var z = [Double](repeating: 0, count: n)
        var state = draw(initial)
        for t in 0..<steps {
            if t > 0 { state = draw(transition.row(state)) }
            path[t] = state
            for a in 0..<n { z[a] = rng.nextNormal() }
            let factor = factors[state], mean = regimes[state].mean
            for i in 0..<n {
                var value = mean[i]
                for j in 0...i { value += factor[i, j] * z[j] }
                returns[t, i] = value
                prices[t + 1, i] = prices[t, i] * Double.exp(value)
            }
        }
        let names = (1...n).map { $0 < 10 ? "A0\($0)" : "A\($0)" }
        let panel = try PricePanel(index: TimeIndex(periodCount: steps + 1), assets: names, close: prices,
                                   assetClasses: Array(repeating: .equity, count: n))
        return Path(regimes: path, logReturns: returns, prices: panel, seed: seed)
    }
}
