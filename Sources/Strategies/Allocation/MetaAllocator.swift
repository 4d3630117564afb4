import Autodiff
import Backtest
import Foundation
import Linalg
import Market
import MetaLearn
import NN
import Portfolio

/// How the allocator's policy is trained and used: the meta-learners and the ablations that test
/// whether meta-learning helps.
public enum AllocatorTraining: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Second-order MAML (Finn, Abbeel & Levine 2017) over period tasks; adapts on the latest
    /// support window before each decision.
    case maml
    /// First-order MAML: the same loop with the inner gradients held constant.
    case firstOrderMAML = "first-order MAML"
    /// Reptile (Nichol, Achiam & Schulman 2018) over the same tasks; adapts the same way.
    case reptile
    /// The same policy trained conventionally on all past tasks' rows pooled, never adapted.
    case conventional
    /// The conventional policy fine-tuned on the latest support window before each decision.
    case fineTuned = "fine-tuned"
    /// The equal mixture of the candidates with the base class budgets: no learning at all.
    case equalMixture = "equal mixture"
    /// A rule: in the currently most likely regime, the candidate with the best mean log return in
    /// the past periods of that regime.
    case regimeSwitch = "regime switch"

    /// The label used in reports.
    public var description: String { rawValue }

    /// Whether the policy network is trained.
    public var trainsPolicy: Bool { [.maml, .firstOrderMAML, .reptile, .conventional, .fineTuned].contains(self) }
    /// Whether the policy adapts on the latest support window at each decision.
    public var adapts: Bool { [.maml, .firstOrderMAML, .reptile, .fineTuned].contains(self) }
}

/// The allocator's settings: candidates, task windows, network, meta-training and regime model.
/// Periods are bars of the backtest's calendar (months for the embedded universe).
public struct MetaAllocatorConfiguration: Sendable, Hashable, Codable {
    /// The candidate allocations mixed by the policy.
    public var candidates: [AllocationCandidate] = AllocationCandidate.allCases
    /// Returns in each candidate's estimation window.
    public var candidateLookback = 36
    /// Rows per support window (the note's 60 trading days ≈ 3 months; 12 months here, monthly data).
    public var supportPeriods = 12
    /// Rows per query window.
    public var queryPeriods = 3
    /// Rows skipped between a task's support and its query.
    public var embargoPeriods = 1
    /// Rows between consecutive tasks' starts.
    public var taskStride = 3
    /// Fewest tasks before the first decision.
    public var minimumTasks = 4
    /// Hidden units of the policy's perceptron.
    public var hiddenUnits = 16
    /// Tasks per meta-batch.
    public var metaBatchSize = 8
    /// Meta-iterations before the first decision.
    public var initialIterations = 150
    /// Meta-iterations at each later refit (warm-started).
    public var refitIterations = 40
    /// Decisions between refits of the regime model and the policy.
    public var refitEvery = 12
    /// The inner (adaptation) step size.
    public var innerLearningRate = 0.1
    /// Inner steps per task in meta-training.
    public var innerSteps = 1
    /// Adaptation steps at each decision (`k`).
    public var adaptationSteps = 1
    /// Adam's step size for the meta-parameters (and for conventional training).
    public var outerLearningRate = 0.003
    /// The regime model.
    public var regimeModel: RegimeModelKind = .hmm
    /// Regime states.
    public var regimeStates = 3
    /// Commission per unit traded in the objective (set it to the backtest's).
    public var commission = 0.001
    /// First-order or exact `μ` in the objective.
    public var transactionRemainder: EIIETransactionRemainder = .firstOrder
    /// The objective's risk measure.
    public var risk: AllocationObjective.Risk = .variance
    /// The largest log tilt of a class budget.
    public var maximumClassTilt = 0.5
    /// The seed of every random draw (network initialization, meta-batches, EM restarts).
    public var seed: UInt64 = 1

    /// The defaults.
    public init() {}

    /// The first row with a full policy input: the candidates' window plus twelve periods of their returns.
    var firstPolicyRow: Int { Swift.max(candidateLookback + 12, RegimeFeatureBuilder().firstCompleteRow) }

    /// Bars of history the allocator needs before its first decision: enough rows for ``minimumTasks`` tasks.
    public var requiredHistory: Int {
        firstPolicyRow + supportPeriods + embargoPeriods + queryPeriods + (minimumTasks - 1) * taskStride + 1
    }

    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming the field at fault.
    public func validate() throws {
        let c = "MetaAllocatorConfiguration"
        try require(!candidates.isEmpty && Set(candidates).count == candidates.count, c, "candidates", "must be distinct and non-empty")
        try require(candidateLookback >= 12 && candidateLookback <= 1000, c, "candidateLookback", "\(candidateLookback) must be in 12…1000")
        for (name, value) in [("supportPeriods", supportPeriods), ("queryPeriods", queryPeriods), ("taskStride", taskStride),
                              ("minimumTasks", minimumTasks), ("hiddenUnits", hiddenUnits), ("metaBatchSize", metaBatchSize),
                              ("refitEvery", refitEvery), ("innerSteps", innerSteps)] {
            try require(value >= 1 && value <= 10_000, c, name, "\(value) must be in 1…10000")
        }
        for (name, value) in [("embargoPeriods", embargoPeriods), ("initialIterations", initialIterations),
                              ("refitIterations", refitIterations), ("adaptationSteps", adaptationSteps)] {
            try require(value >= 0 && value <= 100_000, c, name, "\(value) must be in 0…100000")
        }
        try require(innerLearningRate > 0 && innerLearningRate.isFinite, c, "innerLearningRate", "\(innerLearningRate) must be > 0")
        try require(outerLearningRate > 0 && outerLearningRate.isFinite, c, "outerLearningRate", "\(outerLearningRate) must be > 0")
        try require(commission >= 0 && commission < 1, c, "commission", "\(commission) must be in [0, 1)")
        try require(maximumClassTilt >= 0 && maximumClassTilt <= 5, c, "maximumClassTilt", "\(maximumClassTilt) must be in [0, 5]")
        try require((2...6).contains(regimeStates), c, "regimeStates", "\(regimeStates) must be in 2…6")
    }
}

/// One decision of the allocator, as logged.
public struct AllocationDecision: Sendable, Hashable, Codable {
    /// The decision bar's label.
    public let label: String
    /// The decision bar.
    public let bar: Int
    /// Filtered regime probabilities at the decision, in state order.
    public let regimeProbabilities: [Double]
    /// The most likely regime's name.
    public let regime: String
    /// The mixture weights over the candidates.
    public let mixtureWeights: [Double]
    /// The class shares of the book before caps and leverage, in the profile's class order.
    public let classBudgets: [Double]
    /// The objective's loss on the support window before adaptation (`nil` without a trained policy).
    public let lossBeforeAdaptation: Double?
    /// The same after the adaptation steps (`nil` when the policy does not adapt).
    public let lossAfterAdaptation: Double?
    /// What the caps and the volatility target did.
    public let constraints: ConstraintActivity
    /// The final risky weights, in panel order; cash holds `1 − Σ`.
    public let weights: [Double]
    /// Whether the regime model and the policy were refitted at this decision.
    public let refitted: Bool
}

/// The meta-learned multi-asset allocator: a small policy network reads regime features, filtered
/// regime probabilities and each candidate's trailing statistics, and outputs mixture weights over
/// classical candidate allocations (HRP, risk parity, minimum variance, maximum Sharpe, momentum,
/// class budgets, equal weight) plus tilts of the class budgets. It is meta-trained over period
/// tasks (support then query, chronological, with an embargo) with MAML, first-order MAML or
/// Reptile, adapts on the latest support window before each decision, and its book then passes the
/// investor profile's volatility target, leverage limit and per-asset caps. Every decision is
/// logged in ``decisions``.
///
/// Causality: the strategy reads prices only through the `DecisionContext` and the indicators only
/// up to the decision bar; everything fitted at a decision (regime model, feature scaling, tasks,
/// policy) uses rows up to that bar, so data after it cannot change the decision.
///
/// The backtest needs a cash asset (the book may hold cash or, with leverage, borrow it) and a
/// `maximumGrossLeverage` at least the profile's when it exceeds 1.
public struct MetaAllocator: BacktestStrategy, Sendable {
    /// Name for results.
    public let name: String
    /// The investor profile.
    public let profile: InvestorProfile
    /// The training mode.
    public let training: AllocatorTraining
    /// The settings.
    public let configuration: MetaAllocatorConfiguration
    /// The log, one entry per decision in order.
    public private(set) var decisions: [AllocationDecision] = []

    private let indicators: MarketIndicators
    private var book: CandidateBook
    private var detector: RegimeDetector
    private let objective: AllocationObjective
    private var generator: Xoshiro256StarStar
    private var maml: MAML<MLP<Double>>?
    private var reptile: Reptile<MLP<Double>>?
    private var joint: JointTraining<MLP<Double>>?
    private var adam: Adam<Double>
    private var featureCenter: [Double] = []
    private var featureScale: [Double] = []
    private var bestCandidateByRegime: [Int] = []
    private var lastRefit: Int?
    private var classes: [AssetClass] = []

    /// An allocator for the assets and classes of `universe`, reading `indicators` (on the same calendar).
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for an invalid
    ///   configuration or indicators on another calendar.
    public init(assets: [String], assetClasses: [AssetClass], indicators: MarketIndicators,
                profile: InvestorProfile = .moderate, training: AllocatorTraining = .maml,
                configuration: MetaAllocatorConfiguration = MetaAllocatorConfiguration(), name: String? = nil) throws {
        try configuration.validate()
        try require(assets.count == assetClasses.count && !assets.isEmpty, "MetaAllocator", "assetClasses",
                    "has \(assetClasses.count) entries for \(assets.count) assets")
        self.profile = profile
        self.training = training
        self.configuration = configuration
        self.indicators = indicators
        self.name = name ?? "meta-allocator (\(training), \(profile.name))"
        self.book = CandidateBook(candidates: configuration.candidates, lookback: configuration.candidateLookback,
                                  classBudgets: profile.classBudgets)
        self.detector = try RegimeDetector(kind: configuration.regimeModel, states: configuration.regimeStates)
        let budgeted = profile.classBudgets.classes
        classes = budgeted
        let positions = assetClasses.map { budgeted.firstIndex(of: $0) }
        self.objective = try AllocationObjective(
            candidateCount: configuration.candidates.count, assetCount: assets.count, assetClassPositions: positions,
            classCount: classes.count, commission: configuration.commission, transactionRemainder: configuration.transactionRemainder,
            riskPenalty: profile.riskPenalty, risk: configuration.risk, turnoverPenalty: profile.turnoverPenalty,
            maximumClassTilt: configuration.maximumClassTilt)
        self.generator = Xoshiro256StarStar(seed: configuration.seed)
        self.adam = try Adam<Double>(learningRate: configuration.outerLearningRate)
        let inputs = RegimeFeatureBuilder.names.count + configuration.regimeStates + 2 * configuration.candidates.count
        if training.trainsPolicy {
            let network = try MLP<Double>(sizes: [inputs, configuration.hiddenUnits, objective.outputCount],
                                          activation: .tanh, using: &generator)
            switch training {
            case .maml, .firstOrderMAML:
                maml = try MAML(network, innerLearningRate: configuration.innerLearningRate, innerSteps: configuration.innerSteps,
                                firstOrder: training == .firstOrderMAML)
            case .reptile:
                reptile = try Reptile(network, innerSteps: configuration.innerSteps, outerStepSize: 1)
            default:
                joint = JointTraining(network)
            }
        }
    }

    /// Bars of history before the first decision (``MetaAllocatorConfiguration/requiredHistory``).
    public var requiredHistory: Int { configuration.requiredHistory }

    /// The candidates that failed at some bar and what replaced them.
    public var candidateFallbacks: [String] {
        book.fallbacks.map { "bar \($0.bar), \($0.candidate): \($0.reason)" }
    }

    /// Decides the book at `context.bar`; refits every ``MetaAllocatorConfiguration/refitEvery`` decisions.
    ///
    /// - Throws: ``StrategiesError`` for too little history, indicators that do not reach the bar,
    ///   or training that diverges; the errors of the candidates' optimizers.
    public mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
        let t = context.bar
        try require(t + 1 >= requiredHistory, name, "history", "\(t + 1) bars at \(context.label); \(requiredHistory) are needed")
        guard indicators.values.rows > t, context.assetCount == objective.assetCount else {
            throw StrategiesError.invalidData(component: name, message: "the indicators or assets do not cover bar \(t) (\(context.label))")
        }
        let history = try context.history()
        try book.fill(book.firstBar...t, context: context)
        let marketFeatures = RegimeFeatureBuilder().features(closes: history.close, indicators: indicators.values.rows(0..<(t + 1)))
        let regimeStart = RegimeFeatureBuilder().firstCompleteRow
        let refit = lastRefit.map { t - $0 >= configuration.refitEvery } ?? true
        if refit {
            try detector.fit(features: marketFeatures, rows: regimeStart..<(t + 1), seed: generator.next())
        }
        let probabilities = try detector.filteredProbabilities(features: marketFeatures, rows: regimeStart..<(t + 1))
        let inputs = policyInputs(history: history, marketFeatures: marketFeatures, probabilities: probabilities,
                                  regimeStart: regimeStart, through: t)
        if refit {
            try train(inputs: inputs, history: history, probabilities: probabilities, regimeStart: regimeStart, through: t)
            lastRefit = t
        }
        let currentProbabilities = (0..<detector.states).map { probabilities[t - regimeStart, $0] }
        let regime = currentProbabilities.indices.max { (currentProbabilities[$0], -$0) < (currentProbabilities[$1], -$1) }!
        var before: Double?, after: Double?
        let outputs: Tensor<Double>
        let decisionInput = try Tensor(shape: [1, inputs[t].count], scalars: standardized(inputs[t]))
        let support = try taskData(rows: (t - configuration.supportPeriods)..<t, inputs: inputs, history: history, name: "support")
        let loss: TaskLoss<MLP<Double>> = objective.taskLoss
        switch training {
        case .maml, .firstOrderMAML:
            let model = maml!.model
            before = try Double(loss(model, support).scalars[0])
            let adapted = try maml!.adapted(to: support, steps: configuration.adaptationSteps, loss: loss)
            after = try Double(loss(adapted, support).scalars[0])
            outputs = adapted(decisionInput)
        case .reptile:
            let model = reptile!.model
            before = try Double(loss(model, support).scalars[0])
            let adapted = try reptile!.adapted(to: support, innerOptimizer: SGD<Double>(learningRate: configuration.innerLearningRate),
                                               steps: configuration.adaptationSteps, loss: loss)
            after = try Double(loss(adapted, support).scalars[0])
            outputs = adapted(decisionInput)
        case .conventional, .fineTuned:
            var model = joint!.model
            before = try Double(loss(model, support).scalars[0])
            if training == .fineTuned {
                model = try MAML(model, innerLearningRate: configuration.innerLearningRate)
                    .adapted(to: support, steps: configuration.adaptationSteps, loss: loss)
                after = try Double(loss(model, support).scalars[0])
            }
            outputs = model(decisionInput)
        case .equalMixture:
            outputs = Tensor.zeros([1, objective.outputCount])
        case .regimeSwitch:
            var logits = [Double](repeating: -50, count: objective.outputCount)
            for c in objective.candidateCount..<objective.outputCount { logits[c] = 0 }
            logits[bestCandidateByRegime.isEmpty ? 0 : bestCandidateByRegime[regime]] = 0
            outputs = try Tensor(shape: [1, objective.outputCount], scalars: logits)
        }
        try require(outputs.scalars.allSatisfy(\.isFinite), name, "policy", "produced a non-finite output at \(context.label)")
        let row = try packedRow(t, history: history, relativesKnown: false)
        let targets = try Tensor(shape: [1, objective.candidateCount + 2, objective.assetCount + 1], scalars: row)
        let book = Array(objective.portfolios(outputs: outputs, targets: targets).scalars.dropFirst())
        let mixture = outputs.sliced(alongAxis: 1, from: 0, to: objective.candidateCount).softmax(alongAxis: 1).scalars
        let classShares = classes.map { c in zip(book, history.assetClasses).filter { $0.1 == c }.reduce(0) { $0 + $1.0 } }
        let covariance = try windowCovariance(history: history, through: t)
        let (weights, activity) = profile.constrain(book, assets: context.assets, assetClasses: history.assetClasses,
                                                    covariance: covariance)
        decisions.append(AllocationDecision(
            label: context.label.description, bar: t, regimeProbabilities: currentProbabilities,
            regime: detector.stateNames[regime], mixtureWeights: mixture, classBudgets: classShares,
            lossBeforeAdaptation: before, lossAfterAdaptation: after, constraints: activity, weights: weights, refitted: refit))
        return weights
    }

    // MARK: - Inputs and targets

    /// Policy inputs of rows `0...t` (empty before ``MetaAllocatorConfiguration/firstPolicyRow``):
    /// market features, filtered regime probabilities and each candidate's trailing mean and
    /// deviation of log returns over twelve periods.
    private func policyInputs(history: PricePanel, marketFeatures: Matrix, probabilities: Matrix,
                              regimeStart: Int, through t: Int) -> [[Double]] {
        let first = configuration.firstPolicyRow, k = objective.candidateCount
        var candidateReturns = [[Double]](repeating: [], count: t + 1)
        for s in (book.firstBar + 1)...t {
            let relatives = (0..<history.assetCount).map { a in
                let ratio = history.close[s, a] / history.close[s - 1, a]
                return ratio.isFinite && ratio > 0 ? ratio : 1
            }
            candidateReturns[s] = (0..<k).map { c in
                Foundation.log(zip(book.weights[s - 1]![c], relatives).reduce(0) { $0 + $1.0 * $1.1 })
            }
        }
        var rows = [[Double]](repeating: [], count: t + 1)
        for tau in first...t {
            var row = (0..<marketFeatures.columns).map { marketFeatures[tau, $0] }
            row += (0..<probabilities.columns).map { probabilities[tau - regimeStart, $0] }
            for c in 0..<k {
                let window = ((tau - 11)...tau).map { candidateReturns[$0][c] }
                let mean = window.reduce(0, +) / 12
                let deviation = (window.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 11).squareRoot()
                row += [mean * 12, deviation * 12.squareRoot()]
            }
            rows[tau] = row
        }
        return rows
    }

    private func standardized(_ row: [Double]) -> [Double] {
        zip(row, zip(featureCenter, featureScale)).map { value, stats in
            Swift.min(Swift.max((value.isFinite ? value - stats.0 : 0) / stats.1, -5), 5)
        }
    }

    /// The packed target row of bar `t`: candidates, the next period's relatives (ones when not yet
    /// known), and the base class budgets over the classes with an available asset.
    private func packedRow(_ t: Int, history: PricePanel, relativesKnown: Bool) throws -> [Double] {
        let relatives = (0..<history.assetCount).map { a -> Double in
            guard relativesKnown else { return 1 }
            let ratio = history.close[t + 1, a] / history.close[t, a]
            return ratio.isFinite && ratio > 0 ? ratio : 1
        }
        let present = Set((0..<history.assetCount).filter { history.mask[t, $0] }.map { history.assetClasses[$0] })
        return try objective.packRow(candidates: book.weights[t]!, priceRelatives: relatives, cashRelative: 1,
                                     baseBudgets: profile.classBudgets.renormalized(present: present.contains))
    }

    private func taskData(rows: Range<Int>, inputs: [[Double]], history: PricePanel, name: String) throws -> TaskData<Double> {
        try objective.taskData(features: rows.map { standardized(inputs[$0]) },
                               packedRows: rows.map { try packedRow($0, history: history, relativesKnown: true) }, name: name)
    }

    // MARK: - Training

    private mutating func train(inputs: [[Double]], history: PricePanel, probabilities: Matrix, regimeStart: Int,
                                through t: Int) throws {
        let first = configuration.firstPolicyRow
        let trainingRows = first..<t
        let width = inputs[first].count
        featureCenter = (0..<width).map { c in trainingRows.reduce(0) { $0 + inputs[$1][c] } / Double(trainingRows.count) }
        featureScale = (0..<width).map { c in
            let mean = featureCenter[c]
            let variance = trainingRows.reduce(0) { $0 + (inputs[$1][c] - mean) * (inputs[$1][c] - mean) } / Double(Swift.max(trainingRows.count - 1, 1))
            return Swift.max(variance.squareRoot(), 1e-8)
        }
        if training == .regimeSwitch {
            bestCandidateByRegime = bestCandidates(history: history, probabilities: probabilities, regimeStart: regimeStart,
                                                   rows: trainingRows)
            return
        }
        guard training.trainsPolicy else { return }
        var tasks: [MetaTask<Double>] = []
        let s = configuration.supportPeriods, e = configuration.embargoPeriods, q = configuration.queryPeriods
        var start = first
        while start + s + e + q <= t {
            let support = try taskData(rows: start..<(start + s), inputs: inputs, history: history, name: "support \(start)")
            let query = try taskData(rows: (start + s + e)..<(start + s + e + q), inputs: inputs, history: history, name: "query \(start)")
            tasks.append(MetaTask(support: support, query: query, name: history.index.label(at: start).description))
            start += configuration.taskStride
        }
        try require(tasks.count >= configuration.minimumTasks, name, "history",
                    "gives \(tasks.count) tasks at bar \(t); \(configuration.minimumTasks) are needed")
        let pool = try TaskPool(tasks)
        let iterations = lastRefit == nil ? configuration.initialIterations : configuration.refitIterations
        let loss: TaskLoss<MLP<Double>> = objective.taskLoss
        for iteration in 0..<iterations {
            let batch = try pool.metaBatch(size: Swift.min(configuration.metaBatchSize, tasks.count), using: &generator)
            let value: Double
            switch training {
            case .maml, .firstOrderMAML: value = try maml!.metaStep(on: batch, optimizer: &adam, loss: loss).queryLossAfterAdaptation
            case .reptile:
                value = try reptile!.metaStep(on: batch, innerOptimizer: SGD<Double>(learningRate: configuration.innerLearningRate),
                                              metaOptimizer: &adam, loss: loss)
            default: value = try joint!.step(on: batch, optimizer: &adam, loss: loss)
            }
            guard value.isFinite else {
                throw StrategiesError.trainingDiverged(component: name, step: iteration, message: "loss \(value) at bar \(t)")
            }
        }
    }

    /// For each regime, the candidate with the best mean log return over the rows whose most likely
    /// filtered regime it was (the first candidate for a regime never seen).
    private func bestCandidates(history: PricePanel, probabilities: Matrix, regimeStart: Int, rows: Range<Int>) -> [Int] {
        let k = objective.candidateCount, states = detector.states
        var sums = [[Double]](repeating: [Double](repeating: 0, count: k), count: states)
        var counts = [Int](repeating: 0, count: states)
        for tau in rows {
            let p = (0..<states).map { probabilities[tau - regimeStart, $0] }
            let state = p.indices.max { (p[$0], -$0) < (p[$1], -$1) }!
            counts[state] += 1
            for c in 0..<k {
                let growth = (0..<history.assetCount).reduce(0.0) { sum, a in
                    let ratio = history.close[tau + 1, a] / history.close[tau, a]
                    return sum + book.weights[tau]![c][a] * (ratio.isFinite && ratio > 0 ? ratio : 1)
                }
                sums[state][c] += Foundation.log(growth)
            }
        }
        return (0..<states).map { s in
            counts[s] == 0 ? 0 : (0..<k).max { (sums[s][$0], -$0) < (sums[s][$1], -$1) }!
        }
    }

    /// The annualized Ledoit–Wolf covariance of the candidates' window ending at `t`, zero for assets
    /// not available throughout it.
    private func windowCovariance(history: PricePanel, through t: Int) throws -> Matrix {
        let lookback = configuration.candidateLookback, n = history.assetCount
        let members = (0..<n).filter { a in ((t - lookback)...t).allSatisfy { history.mask[$0, a] } }
        var result = Matrix(rows: n, columns: n)
        guard members.count >= 1 else { return result }
        let returns = Matrix(rows: lookback, columns: members.count) { r, c in
            history.close[t - lookback + 1 + r, members[c]] / history.close[t - lookback + r, members[c]] - 1
        }
        let observations = try ReturnObservations(assets: members.map { history.assets[$0] }, values: returns)
        let estimate = try CovarianceEstimator(method: .ledoitWolf(.constantCorrelation), annualizationFactor: 12).fit(observations)
        for (i, a) in members.enumerated() {
            for (j, b) in members.enumerated() { result[a, b] = estimate.matrix[i, j] }
        }
        return result
    }
}
