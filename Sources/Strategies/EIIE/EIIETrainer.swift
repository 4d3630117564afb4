import Autodiff
import Linalg
import Market
import NN

/// How the trainer's reward charges the transaction remainder factor `μₜ`.
public enum EIIETransactionRemainder: String, Sendable, Hashable, Codable, CaseIterable {
    /// `μ ≈ 1 − c·Σᵢ|w′ᵢ − wᵢ|` over the assets (the paper's eq. 16, and its reference code).
    case firstOrder = "first-order"
    /// The fixed point of Theorem 1 with purchase and sale rates `c` (what the backtest engine charges).
    case exact
}

/// The training hyper-parameters of an EIIE agent, with the values of Jiang, Xu & Liang (2017),
/// Table 2, as defaults: Adam at learning rate `3·10⁻⁵`, batches of 50 periods, an L2 penalty of
/// `10⁻⁸`, a commission of 0.25 %, a sample bias of `5·10⁻⁵` and 30 rolling steps per new period.
/// The number of pre-training steps is the caller's (the paper trains for far longer than a
/// laptop-sized run allows; 2000 is the default here).
public struct EIIETrainingConfiguration: Sendable, Hashable, Codable {
    /// Adam's learning rate.
    public var learningRate: Double
    /// Periods per mini-batch, `n_b`.
    public var batchSize: Int
    /// L2 penalty coefficient `λ`: Adam's (coupled) weight decay, the gradient of `(λ/2)·‖θ‖²`.
    public var l2Penalty: Double
    /// Commission rate `c` on purchases and sales.
    public var commission: Double
    /// OSBL sample bias `β` of eq. 26 (0 draws batches uniformly).
    public var sampleBias: Double
    /// Mini-batch updates after each new period during the backtest.
    public var rollingSteps: Int
    /// Mini-batch updates on the history before the first decision.
    public var pretrainingSteps: Int
    /// The transaction remainder factor inside the reward.
    public var transactionRemainder: EIIETransactionRemainder

    /// A configuration; every argument defaults to the paper's value (see the type's documentation).
    public init(learningRate: Double = 3e-5, batchSize: Int = 50, l2Penalty: Double = 1e-8, commission: Double = 0.0025,
                sampleBias: Double = 5e-5, rollingSteps: Int = 30, pretrainingSteps: Int = 2000,
                transactionRemainder: EIIETransactionRemainder = .exact) {
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.l2Penalty = l2Penalty
        self.commission = commission
        self.sampleBias = sampleBias
        self.rollingSteps = rollingSteps
        self.pretrainingSteps = pretrainingSteps
        self.transactionRemainder = transactionRemainder
    }

    /// Checks every field.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming the field:
    ///   a learning rate that is not finite and positive, a batch below 1, a negative or non-finite
    ///   penalty, a commission or bias outside `[0, 1)`, or negative step counts.
    public func validate() throws {
        let component = "EIIETrainingConfiguration"
        try require(learningRate.isFinite && learningRate > 0, component, "learningRate", "\(learningRate) must be finite and > 0")
        try require(batchSize >= 1, component, "batchSize", "\(batchSize) must be at least 1")
        try require(l2Penalty.isFinite && l2Penalty >= 0, component, "l2Penalty", "\(l2Penalty) must be finite and ≥ 0")
        try require(commission >= 0 && commission < 1, component, "commission", "\(commission) must be in [0, 1)")
        try require(sampleBias >= 0 && sampleBias < 1, component, "sampleBias", "\(sampleBias) must be in [0, 1)")
        try require(rollingSteps >= 0, component, "rollingSteps", "\(rollingSteps) must be ≥ 0")
        try require(pretrainingSteps >= 0, component, "pretrainingSteps", "\(pretrainingSteps) must be ≥ 0")
    }
}

/// Trains an ``EIIENetwork`` by online stochastic batch learning (Jiang, Xu & Liang 2017, §5.3–5.4)
/// on an ``EIIEMarket``, keeping the portfolio-vector memory.
///
/// Decision `t` sees the window of bars `t − W + 1 … t` and the memory's `wₜ₋₁`; its reward needs the
/// next period's relatives `yₜ₊₁`, so bar `t` is trainable once bar `t + 1` is known. One step:
/// 1. draw `n_b` consecutive decision bars from eq. 26 (``GeometricBatchSampler``);
/// 2. `wₜ = π(Xₜ, wₜ₋₁)` for each, with `wₜ₋₁` read from the memory (a constant of the step);
/// 3. the reward `R = (1/n_b)·Σ log(μₜ·yₜ₊₁·wₜ)` with `μₜ` between `w′ₜ = drift(wₜ₋₁, yₜ)` and `wₜ`
///    (NN's `portfolioLogReturnReward`);
/// 4. one Adam step on `−R` (with the L2 penalty as weight decay), then `wₜ` written to the memory.
///
/// The trainer owns a generator seeded from the caller's, so the same seed gives the same batches,
/// the same updates and the same bits.
public struct EIIETrainer<Scalar: TensorScalar>: Sendable {
    /// The policy network (its current parameters).
    public private(set) var network: EIIENetwork<Scalar>
    /// The price history learned from.
    public private(set) var market: EIIEMarket
    /// One row per bar of ``market``, cash first.
    public private(set) var memory: PortfolioVectorMemory
    /// The hyper-parameters.
    public let configuration: EIIETrainingConfiguration
    /// The batch sampler of eq. 26.
    public let sampler: GeometricBatchSampler
    /// Updates done so far.
    public private(set) var stepCount = 0
    /// The reward of the latest update.
    public private(set) var lastReward: Double?

    private var parameters: [Tensor<Scalar>]
    private var optimizer: Adam<Scalar>
    private var generator: Xoshiro256StarStar
    private let remainder: any TransactionRemainderFactor

    /// A trainer for `network` on `market`, with a uniform memory over the market's bars.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` when the
    ///   configuration is invalid or the network's feature count differs from the market's;
    ///   ``StrategiesError/invalidData(component:message:)`` when the market has fewer bars than one
    ///   window plus one period.
    public init(network: EIIENetwork<Scalar>, market: EIIEMarket, configuration: EIIETrainingConfiguration = EIIETrainingConfiguration(),
                using generator: inout Xoshiro256StarStar) throws {
        try configuration.validate()
        let window = network.configuration.window
        try require(network.configuration.featureCount == market.features.count, "EIIETrainer", "network",
                    "expects \(network.configuration.featureCount) features; the market has \(market.features.count) (\(market.features.map(\.rawValue)))")
        guard market.barCount >= window + 1 else {
            throw StrategiesError.invalidData(component: "EIIETrainer",
                                              message: "\(market.barCount) bars do not hold one window of \(window) bars and the period after it")
        }
        self.network = network
        self.market = market
        self.configuration = configuration
        memory = try PortfolioVectorMemory(assetCount: market.assetCount, periods: market.barCount)
        sampler = try GeometricBatchSampler(batchSize: configuration.batchSize, bias: configuration.sampleBias)
        parameters = network.parameters(trainableOnly: true)
        optimizer = try Adam<Scalar>(learningRate: configuration.learningRate, weightDecay: configuration.l2Penalty)
        self.generator = Xoshiro256StarStar(seed: generator.next())
        switch configuration.transactionRemainder {
        case .firstOrder: remainder = try ProportionalCommission(rate: configuration.commission)
        case .exact: remainder = try IterativeCommission(purchaseRate: configuration.commission, saleRate: configuration.commission)
        }
    }

    /// The first decision bar with a full window and a previous period: `max(W − 1, 1)`.
    public var firstDecisionBar: Int { Swift.max(network.configuration.window - 1, 1) }

    /// The newest trainable decision bar, given bars up to `lastKnownBar`: `lastKnownBar − 1`.
    public func newestTrainableBar(lastKnownBar: Int) -> Int { lastKnownBar - 1 }

    /// Appends newly revealed bars to the market and uniform rows to the memory.
    ///
    /// - Throws: the errors of ``EIIEMarket/append(_:)``; nothing is appended then.
    public mutating func append(_ bars: PricePanel) throws {
        try market.append(bars)
        memory.grow(by: market.barCount - memory.periodCount)
    }

    /// Runs `steps` updates on batches whose decision bars lie in `firstDecisionBar…newest`, where
    /// `newest` is the newest bar whose next period is known and at most `through` when given.
    /// Does nothing when fewer than `n_b` bars are trainable.
    ///
    /// - Throws: ``StrategiesError/trainingDiverged(component:step:message:)`` when a reward or an
    ///   output is not finite; the reward's errors.
    public mutating func train(steps: Int, through last: Int? = nil) throws {
        let newest = Swift.min(newestTrainableBar(lastKnownBar: market.barCount - 1), last ?? Int.max)
        guard steps > 0, newest - firstDecisionBar + 1 >= configuration.batchSize else { return }
        for _ in 0..<steps {
            let start = try sampler.nextStart(first: firstDecisionBar, last: newest, using: &generator)
            try step(times: Array(start..<(start + configuration.batchSize)))
        }
    }

    /// One update on the decision bars `times` (consecutive in OSBL; any trainable bars work).
    ///
    /// - Throws: as ``train(steps:through:)``.
    // Specialized for the two tensor scalars: a caller in another module otherwise runs the whole
    // step (every tensor operation, the parameter lists, the memory rows) through generic witnesses.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(times: [Int]) throws {
        let (reward, weights) = try rewardAndWeights(times: times, parameters: parameters.map { $0.requiringGradient() }, training: true)
        stepCount += 1
        let value = Double(reward.value.scalar)
        guard value.isFinite else {
            throw StrategiesError.trainingDiverged(component: "EIIETrainer", step: stepCount, message: "the reward is \(value)")
        }
        try optimizer.update(&parameters, gradients: reward.gradients)
        network = try network.replacingParameters(parameters, trainableOnly: true)
        lastReward = value
        try write(weights, times: times)
    }

    /// The reward of the batch `times` under `parameters` and its gradients with respect to them
    /// (or none when `training` is false), with the network's outputs.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func rewardAndWeights(times: [Int], parameters variables: [Tensor<Scalar>], training: Bool)
        throws -> (reward: (value: Tensor<Scalar>, gradients: [Tensor<Scalar>]), weights: Tensor<Scalar>) {
        let m = market.assetCount, window = network.configuration.window
        var previousRows = [Scalar]()
        previousRows.reserveCapacity(times.count * (m + 1))
        for t in times {
            for weight in memory[t - 1] { previousRows.append(Scalar(weight)) }
        }
        let previousCashFirst = try Tensor<Scalar>(shape: [times.count, m + 1], scalars: previousRows)
        let previousAssets = previousCashFirst.sliced(alongAxis: 1, from: 1, to: m + 1)
        let held = try driftedWeights(previousCashFirst, priceRelatives: market.priceRelatives(times: times, as: Scalar.self))
        let model = try network.replacingParameters(variables, trainableOnly: true)
        let weights = model(market.priceTensor(times: times, window: window, as: Scalar.self), previousWeights: previousAssets)
        let reward = try portfolioLogReturnReward(weights: weights,
                                                  priceRelatives: market.priceRelatives(times: times.map { $0 + 1 }, as: Scalar.self),
                                                  previousWeights: held, transactionRemainder: remainder)
        let gradients = training ? gradient(of: -reward, wrt: variables) : []
        return ((reward, gradients), weights)
    }

    /// The portfolio `[cash, a₁ … aₘ]` for decision bar `t` from the memory's `wₜ₋₁`, written to the
    /// memory's row `t`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` when bar `t` has no full window
    ///   or is not held; ``StrategiesError/trainingDiverged(component:step:message:)`` for a
    ///   non-finite output.
    public mutating func decide(at t: Int) throws -> [Double] {
        guard t >= firstDecisionBar, t < market.barCount else {
            throw StrategiesError.invalidData(component: "EIIETrainer",
                                              message: "bar \(t) is outside the decidable bars \(firstDecisionBar)..<\(market.barCount)")
        }
        let m = market.assetCount
        let previous = try Tensor<Scalar>(shape: [1, m], scalars: memory.assetWeights(at: t - 1).map { Scalar($0) })
        let weights = network(market.priceTensor(times: [t], window: network.configuration.window, as: Scalar.self),
                              previousWeights: previous)
        try write(weights, times: [t])
        return Array(memory[t])
    }

    /// Writes each row of `weights` (`[times, 1 + m]`) to the memory, renormalized in Double.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private mutating func write(_ weights: Tensor<Scalar>, times: [Int]) throws {
        let width = market.assetCount + 1
        let scalars = weights.scalars
        var block = [Double](repeating: 0, count: scalars.count)
        for r in 0..<times.count {
            var sum = 0.0
            for i in 0..<width { block[r * width + i] = Double(scalars[r * width + i]); sum += block[r * width + i] }
            guard sum.isFinite, sum > 0 else {
                throw StrategiesError.trainingDiverged(component: "EIIETrainer", step: stepCount,
                                                       message: "the policy's output at bar \(times[r]) sums to \(sum)")
            }
            for i in 0..<width { block[r * width + i] /= sum }
        }
        // Consecutive bars (every OSBL batch) are written in one block; others row by row.
        if let first = times.first, times == Array(first..<(first + times.count)) {
            try memory.write(block: block, startingAt: first)
        } else {
            for (r, t) in times.enumerated() { try memory.write(block[(r * width)..<((r + 1) * width)], at: t) }
        }
    }

    /// Replaces the network's parameters and the memory (a checkpoint being restored).
    ///
    /// - Throws: ``StrategiesError/invalidCheckpoint(path:message:)`` when the memory's asset count
    ///   differs or it holds fewer rows than the market.
    mutating func restore(network restored: EIIENetwork<Scalar>, memory restoredMemory: PortfolioVectorMemory, path: String) throws {
        guard restoredMemory.assetCount == market.assetCount else {
            throw StrategiesError.invalidCheckpoint(path: path, message: "the memory holds \(restoredMemory.assetCount) assets, the market \(market.assetCount)")
        }
        guard restoredMemory.periodCount == market.barCount else {
            throw StrategiesError.invalidCheckpoint(path: path, message: "the memory holds \(restoredMemory.periodCount) periods, the market \(market.barCount) bars")
        }
        network = restored
        parameters = restored.parameters(trainableOnly: true)
        memory = restoredMemory
    }
}
