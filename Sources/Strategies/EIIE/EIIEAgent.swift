import Autodiff
import Backtest
import Foundation
import Linalg
import Market
import NN

/// The deep reinforcement-learning portfolio manager of Jiang, Xu & Liang (2017) as a backtest
/// strategy: an ``EIIENetwork`` policy with a portfolio-vector memory, pre-trained on the history
/// before its first decision and trained online during the backtest.
///
/// - **First decision** (bar `T`): the agent reads bars `0…T` from the context, pre-trains
///   ``EIIETrainingConfiguration/pretrainingSteps`` OSBL steps on decision bars up to `T − 1`
///   (those whose next period is known), then decides `w_T = π(X_T, w_{T−1})`.
/// - **Later decisions**: the bars revealed since the last one are appended (the memory grows by
///   one uniform row each), and the agent decides from its memory's previous row.
/// - **`observe(_:)`**, after every period: ``EIIETrainingConfiguration/rollingSteps`` OSBL steps on
///   every bar whose next period is known by then.
///
/// The agent sees prices only through ``DecisionContext``, so no decision can depend on a later
/// bar. The backtest must hold a cash asset (the policy's asset 0); the network's cash-first output
/// becomes the engine's cash-last weights through ``CashPosition``.
public struct EIIEAgent<Scalar: TensorScalar>: BacktestStrategy, Sendable {
    /// The name in results and errors.
    public let name: String
    /// The policy network's hyper-parameters.
    public let networkConfiguration: EIIEConfiguration
    /// The training hyper-parameters.
    public let trainingConfiguration: EIIETrainingConfiguration
    /// The price fields fed to the network, in order (close first by convention).
    public let features: [PriceField]
    /// The trainer, once the first decision has built it.
    public private(set) var trainer: EIIETrainer<Scalar>?

    private var generator: Xoshiro256StarStar
    private var restored: (network: EIIENetwork<Scalar>, memory: PortfolioVectorMemory)?

    /// An untrained agent. Its network is initialized and its batches drawn from a generator seeded
    /// by one draw of `generator`.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` when the
    ///   configurations are invalid or disagree (the network's feature count must equal
    ///   `features.count`); the network configuration's `NNError`.
    public init(name: String? = nil, network: EIIEConfiguration = EIIEConfiguration(),
                training: EIIETrainingConfiguration = EIIETrainingConfiguration(),
                features: [PriceField] = [.close, .high, .low], using generator: inout Xoshiro256StarStar) throws {
        try network.validate()
        try training.validate()
        try require(network.featureCount == features.count, "EIIEAgent", "features",
                    "\(features.map(\.rawValue)) do not match the network's feature count \(network.featureCount)")
        self.name = name ?? "EIIE (\(network.topology.rawValue.uppercased()))"
        networkConfiguration = network
        trainingConfiguration = training
        self.features = features
        self.generator = Xoshiro256StarStar(seed: generator.next())
    }

    /// Bars needed before the first decision: one window, and with pre-training one batch of
    /// trainable decisions after it.
    public var requiredHistory: Int {
        let first = Swift.max(networkConfiguration.window - 1, 1)
        return trainingConfiguration.pretrainingSteps > 0 && restored == nil
            ? first + trainingConfiguration.batchSize + 1 : first + 1
    }

    /// The policy's asset weights for the decision bar; the engine holds the rest in cash.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` when the backtest
    ///   has no cash asset; the market's data errors (a missing or non-positive price in the history);
    ///   the trainer's errors.
    public mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
        try require(context.cashAsset != nil, "EIIEAgent", "backtest",
                    "has no cash asset; the policy holds cash as its asset 0 (set BacktestConfiguration.cash)")
        if context.isInitial || trainer == nil {
            try start(context)
        } else if let known = trainer?.market.barCount, known <= context.bar {
            try trainer!.append(context.history(bars: known..<(context.bar + 1)))
        }
        return CashPosition.engineTarget(fromCashFirst: try trainer!.decide(at: context.bar))
    }

    /// Runs the rolling OSBL steps on every bar whose next period is known.
    ///
    /// - Throws: the trainer's errors.
    public mutating func observe(_ outcome: PeriodOutcome) throws {
        guard trainer != nil, trainingConfiguration.rollingSteps > 0 else { return }
        try trainer!.train(steps: trainingConfiguration.rollingSteps)
    }

    /// Builds the market from the visible history and pre-trains (or restores a checkpoint).
    private mutating func start(_ context: DecisionContext) throws {
        let market = try EIIEMarket(panel: context.history(), features: features)
        var networkGenerator = Xoshiro256StarStar(seed: generator.next())
        let network = try EIIENetwork<Scalar>(configuration: networkConfiguration, using: &networkGenerator)
        var trainer = try EIIETrainer(network: network, market: market, configuration: trainingConfiguration, using: &generator)
        if let restored {
            var memory = restored.memory
            guard memory.periodCount <= market.barCount else {
                throw StrategiesError.invalidCheckpoint(
                    path: "(restored)", message: "its memory holds \(memory.periodCount) periods, more than the \(market.barCount) bars seen at the first decision")
            }
            memory.grow(by: market.barCount - memory.periodCount)
            try trainer.restore(network: restored.network, memory: memory, path: "(restored)")
        } else {
            try trainer.train(steps: trainingConfiguration.pretrainingSteps, through: context.bar - 1)
        }
        self.trainer = trainer
    }

    // MARK: Checkpoints

    /// Writes the trained network and the memory to the directory `url`, replacing it as a whole:
    /// both files are written to a temporary sibling first, so a failure leaves any previous
    /// checkpoint untouched.
    ///
    /// - Throws: ``StrategiesError/invalidCheckpoint(path:message:)`` before the first decision (nothing
    ///   trained yet) or when the directory cannot be written.
    public func saveCheckpoint(to url: URL) throws {
        guard let trainer else {
            throw StrategiesError.invalidCheckpoint(path: url.path, message: "the agent has not decided yet; there is nothing to save")
        }
        let fileManager = FileManager.default
        let staging = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
            let metadata = ["eiie_network": try Self.json(networkConfiguration), "eiie_training": try Self.json(trainingConfiguration),
                            "features": features.map(\.rawValue).joined(separator: ",")]
            try trainer.network.saveSafetensors(to: staging.appendingPathComponent(EIIECheckpointFile.network), metadata: metadata)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(trainer.memory).write(to: staging.appendingPathComponent(EIIECheckpointFile.memory))
            // Swap directories by two renames: the old checkpoint stays whole until the new one is.
            if fileManager.fileExists(atPath: url.path) {
                let retired = staging.appendingPathExtension("old")
                try fileManager.moveItem(at: url, to: retired)
                try fileManager.moveItem(at: staging, to: url)
                try? fileManager.removeItem(at: retired)
            } else {
                try fileManager.moveItem(at: staging, to: url)
            }
        } catch {
            try? fileManager.removeItem(at: staging)
            throw StrategiesError.invalidCheckpoint(path: url.path, message: "cannot be written (\(error))")
        }
    }

    /// An agent that starts from the checkpoint in `url` instead of pre-training: its network and
    /// configurations come from `policy.safetensors`, its memory's rows from `memory.json` (grown
    /// uniformly to the bars seen at the first decision). `training` replaces the saved training
    /// configuration, for example with no rolling steps to deploy a frozen policy.
    ///
    /// - Throws: ``StrategiesError/invalidCheckpoint(path:message:)`` for a missing or damaged file, or
    ///   configurations that cannot be read; nothing is half-loaded.
    public init(restoringFrom url: URL, name: String? = nil, training override: EIIETrainingConfiguration? = nil,
                using generator: inout Xoshiro256StarStar) throws {
        let networkURL = url.appendingPathComponent(EIIECheckpointFile.network)
        let memoryURL = url.appendingPathComponent(EIIECheckpointFile.memory)
        do {
            let file = try SafeTensorsFile(contentsOf: networkURL)
            let decoder = JSONDecoder()
            guard let networkJSON = file.metadata["eiie_network"], let trainingJSON = file.metadata["eiie_training"],
                  let featureList = file.metadata["features"] else {
                throw StrategiesError.invalidCheckpoint(path: networkURL.path, message: "has no EIIE configuration in its metadata")
            }
            let network = try decoder.decode(EIIEConfiguration.self, from: Data(networkJSON.utf8))
            let training = try decoder.decode(EIIETrainingConfiguration.self, from: Data(trainingJSON.utf8))
            let features = try featureList.split(separator: ",").map { name -> PriceField in
                guard let field = PriceField(rawValue: String(name)) else {
                    throw StrategiesError.invalidCheckpoint(path: networkURL.path, message: "unknown feature \(name)")
                }
                return field
            }
            try self.init(name: name, network: network, training: override ?? training, features: features, using: &generator)
            var model = try EIIENetwork<Scalar>(configuration: network, using: &generator)
            try model.load(file)
            let memory = try decoder.decode(PortfolioVectorMemory.self, from: Data(contentsOf: memoryURL))
            restored = (model, memory)
        } catch let error as StrategiesError {
            throw error
        } catch {
            throw StrategiesError.invalidCheckpoint(path: url.path, message: "\(error)")
        }
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// The file names inside an ``EIIEAgent`` checkpoint directory.
public enum EIIECheckpointFile {
    /// The network's state dict (safetensors, PyTorch keys; the configurations in its metadata).
    public static let network = "policy.safetensors"
    /// The portfolio-vector memory (JSON).
    public static let memory = "memory.json"
}
