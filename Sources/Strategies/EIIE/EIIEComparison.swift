import Backtest
import Foundation
import Linalg
import Market
import NN

/// The experiment of Jiang, Xu & Liang (2017, §6, Table 3): EIIE agents trained online, backtested
/// next to Best Stock, UCRP, UBAH and the online portfolio selection algorithms at the same
/// commission, scored by the final accumulated portfolio value (fAPV), the Sharpe ratio per period
/// and the maximum drawdown.
///
/// Every line runs in the same ``BacktestEngine`` over the test bars: decisions every period from
/// ``Configuration/testStart``, a cash asset (the agents' asset 0), the exact transaction remainder
/// factor with one commission rate for purchases and sales, starting from all cash. The agents
/// pre-train on the bars before the test; the online algorithms read the same history before
/// their first decision (``OLPSStrategy``), so both kinds start informed. UCRP rebalances to equal
/// weights every period; UBAH buys equal weights at the test's start and holds; Best Stock, the
/// paper's hindsight benchmark, holds the asset with the largest price ratio over the test.
public enum EIIEComparison {
    /// What to run.
    public struct Configuration: Sendable, Hashable {
        /// The first decision bar (0-based position in the panel); earlier bars are training history.
        public var testStart: Int
        /// The agents' topologies (one line per topology and seed); empty for the baselines alone.
        public var topologies: [EIIETopology]
        /// One agent per seed and topology; the table reports each and their mean and spread.
        public var seeds: [UInt64]
        /// The network hyper-parameters (the topology is set per line).
        public var network: EIIEConfiguration
        /// The training hyper-parameters (the commission is also the backtest's).
        public var training: EIIETrainingConfiguration
        /// The price fields fed to the networks.
        public var features: [PriceField]
        /// Run the agents in `Float` (the paper's and PyTorch's default) rather than `Double`.
        public var singlePrecision: Bool
        /// Include the online portfolio selection algorithms.
        public var includeOnlineAlgorithms: Bool

        /// A configuration with the paper's defaults for the networks and training.
        public init(testStart: Int, topologies: [EIIETopology] = EIIETopology.allCases, seeds: [UInt64] = [1],
                    network: EIIEConfiguration = EIIEConfiguration(), training: EIIETrainingConfiguration = EIIETrainingConfiguration(),
                    features: [PriceField] = [.close, .high, .low], singlePrecision: Bool = true,
                    includeOnlineAlgorithms: Bool = true) {
            self.testStart = testStart
            self.topologies = topologies
            self.seeds = seeds
            self.network = network
            self.training = training
            self.features = features
            self.singlePrecision = singlePrecision
            self.includeOnlineAlgorithms = includeOnlineAlgorithms
        }
    }

    /// What kind of line a row is.
    public enum LineKind: String, Sendable, Hashable, Codable {
        /// An EIIE agent (one seed).
        case agent
        /// A benchmark: Best Stock, UCRP, UBAH.
        case benchmark
        /// An online portfolio selection algorithm.
        case onlineAlgorithm
    }

    /// One backtested line.
    public struct Line: Sendable {
        /// The line's name (with its seed for an agent).
        public let name: String
        /// Its kind.
        public let kind: LineKind
        /// The agent's topology, `nil` otherwise.
        public let topology: EIIETopology?
        /// The agent's seed, `nil` otherwise.
        public let seed: UInt64?
        /// The engine's result over the test bars.
        public let result: BacktestResult
        /// The final accumulated portfolio value: the wealth at the end of the test per unit held
        /// before the first trade (the first trade's cost included).
        public let finalValue: Double
        /// Mean over standard deviation of the per-period net returns (no annualization, no
        /// risk-free rate), as the paper reports it.
        public let sharpePerPeriod: Double?
        /// The largest peak-to-trough loss of the wealth path, as a positive fraction.
        public let maximumDrawdown: Double
        /// The cash weight held over the test, averaged over its periods (0 for lines that never hold cash).
        public let meanCashWeight: Double
        /// Wall time of the line's backtest (training included), in seconds.
        public let seconds: Double
    }

    /// Mean and sample standard deviation of an agent's scores over seeds.
    public struct Spread: Sendable {
        /// The topology.
        public let topology: EIIETopology
        /// The seeds summarized.
        public let count: Int
        /// Mean and standard deviation of the fAPV.
        public let finalValue: (mean: Double, standardDeviation: Double)
        /// Mean and standard deviation of the Sharpe ratio per period.
        public let sharpePerPeriod: (mean: Double, standardDeviation: Double)
        /// Mean and standard deviation of the maximum drawdown.
        public let maximumDrawdown: (mean: Double, standardDeviation: Double)
    }

    /// Every line, agents first (by topology, then seed), then the benchmarks and the online algorithms.
    public struct Outcome: Sendable {
        /// The lines.
        public let lines: [Line]
        /// One summary per topology over its seeds.
        public let spreads: [Spread]
        /// The engine configuration every line ran with.
        public let backtest: BacktestConfiguration
    }

    /// Checks the configuration against the panel before anything runs.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` when the test does
    ///   not start inside the panel, leaves no period to hold, or starts before the agents' required
    ///   history; topologies without a seed; ``StrategiesError/invalidData(component:message:)`` for a
    ///   panel the agents cannot use (fewer than two assets, a missing or non-positive price).
    public static func validate(_ configuration: Configuration, panel: PricePanel) throws {
        let component = "EIIEComparison"
        _ = try EIIEMarket(panel: panel, features: configuration.features)
        try require(configuration.topologies.isEmpty || !configuration.seeds.isEmpty, component, "seeds", "is empty")
        try configuration.network.validate()
        try configuration.training.validate()
        try require(configuration.network.featureCount == configuration.features.count, component, "features",
                    "\(configuration.features.map(\.rawValue)) do not match the network's feature count \(configuration.network.featureCount)")
        let window = configuration.network.window, batch = configuration.training.batchSize
        let required = Swift.max(window - 1, 1) + (configuration.training.pretrainingSteps > 0 ? batch + 1 : 1)
        try require(configuration.testStart + 1 < panel.timeCount, component, "testStart",
                    "\(configuration.testStart) leaves no period to hold in \(panel.timeCount) bars")
        try require(configuration.testStart + 1 >= required, component, "testStart",
                    "\(configuration.testStart) leaves \(configuration.testStart + 1) bars of history; a window of \(window) and a batch of \(batch) need \(required)")
    }

    /// Runs every line, the agents concurrently (each on its own generator, so the outcome does not
    /// depend on the scheduling), and reports each finished line to `progress`.
    ///
    /// - Throws: the errors of ``validate(_:panel:)``; the engine's and the agents' errors, naming
    ///   the line (the first failing agent's, in line order).
    public static func run(panel: PricePanel, configuration: Configuration,
                           progress: (@Sendable (String) -> Void)? = nil) throws -> Outcome {
        try validate(configuration, panel: panel)
        let backtest = BacktestConfiguration(costs: try TransactionCostModel(rate: configuration.training.commission),
                                             cash: CashAsset(), firstDecisionBar: configuration.testStart)
        let engine = try BacktestEngine(panel: panel, configuration: backtest)
        let jobs = configuration.topologies.flatMap { topology in configuration.seeds.map { (topology, $0) } }
        var lines = try runInParallel(jobs.count) { index in
            let line = try runAgent(topology: jobs[index].0, seed: jobs[index].1, engine: engine, configuration: configuration)
            progress?("\(line.name): fAPV \(line.finalValue) in \(Int(line.seconds.rounded())) s")
            return line
        }
        var holdOnly = backtest
        holdOnly.schedule = .everyNPeriods(Int.max / 2)
        let holding = try BacktestEngine(panel: panel, configuration: holdOnly)
        for (name, kind, strategy, rebalances) in try baselines(panel: panel, configuration: configuration) {
            let clock = ContinuousClock.now
            let result = try (rebalances ? engine : holding).run(strategy)
            lines.append(try line(name: name, kind: kind, topology: nil, seed: nil, result: result, since: clock))
        }
        progress?("baselines done")
        let spreads = configuration.topologies.map { topology in
            let own = lines.filter { $0.topology == topology }
            return Spread(topology: topology, count: own.count, finalValue: meanAndSpread(own.map(\.finalValue)),
                          sharpePerPeriod: meanAndSpread(own.compactMap(\.sharpePerPeriod)),
                          maximumDrawdown: meanAndSpread(own.map(\.maximumDrawdown)))
        }
        return Outcome(lines: lines, spreads: spreads, backtest: backtest)
    }

    private static func runAgent(topology: EIIETopology, seed: UInt64, engine: BacktestEngine,
                                 configuration: Configuration) throws -> Line {
        var network = configuration.network
        network.topology = topology
        var generator = Xoshiro256StarStar(seed: seed)
        let name = "EIIE \(topology.rawValue.uppercased()) (seed \(seed))"
        let clock = ContinuousClock.now
        let result: BacktestResult
        if configuration.singlePrecision {
            result = try engine.run(EIIEAgent<Float>(name: name, network: network, training: configuration.training,
                                                     features: configuration.features, using: &generator))
        } else {
            result = try engine.run(EIIEAgent<Double>(name: name, network: network, training: configuration.training,
                                                      features: configuration.features, using: &generator))
        }
        return try line(name: name, kind: .agent, topology: topology, seed: seed, result: result, since: clock)
    }

    /// Best Stock (hindsight over the test), UCRP, UBAH, then every online algorithm with the OLPS
    /// toolbox's defaults (hindsight ones excluded); `rebalances` is false for the lines that buy at
    /// the test's start and hold.
    static func baselines(panel: PricePanel, configuration: Configuration) throws
        -> [(name: String, kind: LineKind, strategy: any BacktestStrategy, rebalances: Bool)] {
        let m = panel.assetCount, close = panel.close, start = configuration.testStart, end = panel.timeCount - 1
        let growth = (0..<m).map { close[end, $0] / close[start, $0] }
        let best = growth.indices.max { growth[$0] < growth[$1] }!
        var oneHot = [Double](repeating: 0, count: m)
        oneHot[best] = 1
        let uniform = [Double](repeating: 1 / Double(m), count: m)
        var lines: [(name: String, kind: LineKind, strategy: any BacktestStrategy, rebalances: Bool)] = [
            ("Best Stock (\(panel.assets[best]), hindsight)", .benchmark, FixedWeightsStrategy(weights: oneHot, name: "Best Stock"), false),
            ("UCRP", .benchmark, FixedWeightsStrategy(weights: uniform, name: "UCRP"), true),
            ("UBAH", .benchmark, FixedWeightsStrategy(weights: uniform, name: "UBAH"), false),
        ]
        guard configuration.includeOnlineAlgorithms else { return lines }
        for algorithm in OLPSAlgorithm.allCases where ![.ubah, .ucrp, .bcrp, .best].contains(algorithm) {
            for variant in algorithm.variants.isEmpty ? [nil] : algorithm.variants.map(Optional.some) {
                let strategy = try OLPSStrategy(algorithm: algorithm, variant: variant)
                lines.append((strategy.name, .onlineAlgorithm, strategy, true))
            }
        }
        return lines
    }

    private static func line(name: String, kind: LineKind, topology: EIIETopology?, seed: UInt64?, result: BacktestResult,
                             since start: ContinuousClock.Instant) throws -> Line {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let returns = result.netReturns
        let cash = result.cashAsset == nil || result.weights.isEmpty ? 0
            : result.weights.reduce(0) { $0 + ($1.last ?? 0) } / Double(result.weights.count)
        return Line(name: name, kind: kind, topology: topology, seed: seed, result: result,
                    finalValue: result.wealth.last!,
                    sharpePerPeriod: try ReturnMetrics.perPeriodSharpeRatio(returns),
                    maximumDrawdown: -(try ReturnMetrics.maxDrawdown(returns)), meanCashWeight: cash, seconds: seconds)
    }
}
