import Foundation

/// Anticor (Borodin, El-Yaniv & Gogan 2004, "Can we learn to beat the best stock", JAIR 21).
///
/// With window `w`, once `t ≥ 2w` relatives are known it compares the log relatives of the two
/// most recent windows, `LX₁ = log x_{t−2w+1..t−w}` and `LX₂ = log x_{t−w+1..t}`: column means
/// `μ₁, μ₂`, sample standard deviations `σ₁, σ₂`, and the cross-correlation
/// `M(i,j) = cov(LX₁ᵢ, LX₂ⱼ)/(σ₁ᵢ σ₂ⱼ)` (0 when a deviation is 0). When `μ₂ᵢ > μ₂ⱼ` and
/// `M(i,j) > 0`, asset `i` claims `M(i,j) + max(0, −M(i,i)) + max(0, −M(j,j))` from asset `j`;
/// each asset's drifted weight `b̂_{t,i}` moves to the others in proportion to its claims.
/// Before `2w` relatives it holds (no trading). This is ``OLPSConvention/paper``.
///
/// Under ``OLPSConvention/toolbox`` (`anticor_expert.m`) the expert starts each update from its own
/// last portfolio `b_{t−1}` rather than the drifted one, the claim condition is `μ₂ᵢ ≥ μ₂ⱼ`, and the
/// diagonal claim `M(i,i)` (when positive) is counted in asset `i`'s claim total, so it keeps
/// that share. Default `w = 30` (OLPS toolbox).
public struct Anticor: OnlinePortfolioSelector, Sendable {
    /// Window `w ≥ 2`.
    public let window: Int
    /// The toolbox's or the published update.
    public let convention: OLPSConvention
    private var m = 0
    private var mean1: [Double] = [], mean2: [Double] = [], deviation1: [Double] = [], deviation2: [Double] = []
    private var correlation: [Double] = [], claims: [Double] = [], logs: [Double] = []

    /// Anticor with window `w` under `convention` (the toolbox's expert restart and claims, or the paper's).
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` unless `w ≥ 2`.
    public init(window: Int = 30, convention: OLPSConvention = .toolbox) throws {
        guard window >= 2 else {
            throw OLPSError.invalidParameter(algorithm: "Anticor", name: "window", value: Double(window), requirement: "≥ 2")
        }
        self.window = window
        self.convention = convention
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { "Anticor(w=\(window))" }

    public mutating func reset(assetCount: Int) throws {
        m = assetCount
        mean1 = Array(repeating: 0, count: m)
        mean2 = mean1; deviation1 = mean1; deviation2 = mean1
        correlation = Array(repeating: 0, count: m * m)
        claims = correlation
        logs = Array(repeating: 0, count: 2 * window * m)
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        guard step.period > 0 else { fillUniform(weights); return }
        let toolbox = convention == .toolbox
        let start = toolbox ? step.previous : step.drifted
        copyWeights(start, into: weights)
        let w = window, m = self.m, t = step.observed.count
        guard t >= 2 * w else { return }
        // logs rows 0..<w: LX₁, rows w..<2w: LX₂.
        let first = t - 2 * w
        for k in 0..<(2 * w) { for i in 0..<m { logs[k * m + i] = log(step.observed[first + k, i]) } }
        for i in 0..<m {
            var s1 = 0.0, s2 = 0.0
            for k in 0..<w { s1 += logs[k * m + i]; s2 += logs[(w + k) * m + i] }
            mean1[i] = s1 / Double(w)
            mean2[i] = s2 / Double(w)
        }
        for k in 0..<w {
            for i in 0..<m {
                logs[k * m + i] -= mean1[i]
                logs[(w + k) * m + i] -= mean2[i]
            }
        }
        let denominator = Double(w - 1)
        for i in 0..<m {
            var v1 = 0.0, v2 = 0.0
            for k in 0..<w { v1 += logs[k * m + i] * logs[k * m + i]; v2 += logs[(w + k) * m + i] * logs[(w + k) * m + i] }
            deviation1[i] = (v1 / denominator).squareRoot()
            deviation2[i] = (v2 / denominator).squareRoot()
        }
        for i in 0..<m {
            for j in 0..<m {
                guard deviation1[i] > 0, deviation2[j] > 0 else { correlation[i * m + j] = 0; continue }
                var c = 0.0
                for k in 0..<w { c += logs[k * m + i] * logs[(w + k) * m + j] }
                correlation[i * m + j] = c / denominator / (deviation1[i] * deviation2[j])
            }
        }
        for i in 0..<m {
            var total = 0.0
            for j in 0..<m {
                var claim = 0.0
                let c = correlation[i * m + j]
                let gains = toolbox ? mean2[i] >= mean2[j] : (i != j && mean2[i] > mean2[j])
                if gains && c > 0 {
                    claim = c + max(0, -correlation[i * m + i]) + max(0, -correlation[j * m + j])
                }
                claims[i * m + j] = claim
                total += claim
            }
            guard total > 0 else { continue }
            for j in 0..<m where j != i && claims[i * m + j] > 0 {
                let transfer = start[i] * claims[i * m + j] / total
                weights[i] -= transfer
                weights[j] += transfer
            }
        }
        normalizeClamped(weights)
    }
}

/// Buy-and-hold over experts (Borodin et al. 2004, §3: `BAH_W(Anticor)` combines Anticor with
/// windows `2…W`): the initial wealth is split equally among the experts and never rebalanced,
/// so `b_t = Σ_k S_{k,t−1} b_{k,t} / Σ_k S_{k,t−1}` with `S_k` each expert's wealth, and the final
/// wealth is the mean of the experts' final wealths (without costs).
public struct BuyAndHoldCombination<Expert: OnlinePortfolioSelector>: OnlinePortfolioSelector {
    /// The experts.
    public private(set) var experts: [Expert]
    private let label: String
    private var m = 0
    private var wealth: [Double] = [], expertWeights: [Double] = [], expertPrevious: [Double] = [], expertDrifted: [Double] = []

    /// Combines `experts` (at least one) under `name`.
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for no experts.
    public init(experts: [Expert], name: String) throws {
        guard !experts.isEmpty else {
            throw OLPSError.invalidParameter(algorithm: name, name: "experts", value: 0, requirement: "at least one")
        }
        self.experts = experts
        self.label = name
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { label }

    public mutating func reset(assetCount: Int) throws {
        m = assetCount
        for k in experts.indices { try experts[k].reset(assetCount: m) }
        wealth = Array(repeating: 1, count: experts.count)
        expertWeights = Array(repeating: 1 / Double(m), count: experts.count * m)
        expertPrevious = expertWeights
        expertDrifted = expertWeights
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        let m = self.m
        for i in 0..<m { weights[i] = 0 }
        var total = 0.0
        let x: UnsafeBufferPointer<Double>? = step.period > 0 ? step.observed.last : nil
        for k in experts.indices {
            let range = (k * m)..<((k + 1) * m)
            if let x {   // the expert's last portfolio earns x, and drifts
                var growth = 0.0
                for i in 0..<m { growth += expertWeights[k * m + i] * x[i] }
                wealth[k] *= growth
                for i in 0..<m {
                    expertPrevious[k * m + i] = expertWeights[k * m + i]
                    expertDrifted[k * m + i] = expertWeights[k * m + i] * x[i] / growth
                }
            }
            expertPrevious.withUnsafeBufferPointer { prev in
                expertDrifted.withUnsafeBufferPointer { drift in
                    expertWeights.withUnsafeMutableBufferPointer { all in
                        let expertStep = OLPSStep(period: step.period, observed: step.observed,
                                                  previous: UnsafeBufferPointer(rebasing: prev[range]),
                                                  drifted: UnsafeBufferPointer(rebasing: drift[range]))
                        experts[k].nextPortfolio(expertStep, into: UnsafeMutableBufferPointer(rebasing: all[range]))
                    }
                }
            }
            for i in 0..<m { weights[i] += wealth[k] * expertWeights[k * m + i] }
            total += wealth[k]
        }
        for i in 0..<m { weights[i] /= total }
        for k in wealth.indices { wealth[k] /= total }   // keep the scale bounded
    }
}

extension BuyAndHoldCombination where Expert == Anticor {
    /// `BAH_W(Anticor)`: Anticor with windows `2…maxWindow` held in equal initial shares
    /// (Borodin et al. 2004; the toolbox's `anticor_run.m` under ``OLPSConvention/toolbox``, whose
    /// experts' wealths are gross of fees). Default `W = 30` (OLPS toolbox).
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` unless `W ≥ 2`.
    public static func anticor(maxWindow: Int = 30, convention: OLPSConvention = .toolbox) throws -> BuyAndHoldCombination<Anticor> {
        guard maxWindow >= 2 else {
            throw OLPSError.invalidParameter(algorithm: "BAH(Anticor)", name: "window", value: Double(maxWindow), requirement: "≥ 2")
        }
        return try BuyAndHoldCombination(experts: (2...maxWindow).map { try Anticor(window: $0, convention: convention) },
                                         name: "BAH(Anticor, W=\(maxWindow))")
    }
}
