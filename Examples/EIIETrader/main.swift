// The EIIE agent of Jiang, Xu & Liang (2017) on the embedded daily crypto set (BTC, ETH, LTC):
// pre-train a CNN policy on the history before the test, backtest it with online learning next to
// UCRP, UBAH and OLMAR at the paper's 0.25 % commission, and save the trained policy as a
// checkpoint (a safetensors file with PyTorch's keys, and the portfolio-vector memory as JSON).
//
//     swift run -c release EIIETrader [--steps 2000] [--seed 1] [--checkpoint DIR]
import ArgumentParser
import Foundation
import MetaFolio

@main
struct EIIETrader: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the EIIE CNN on daily crypto prices and backtest it with online learning.")

    @Option(help: "Pre-training steps (mini-batches of 50 periods).")
    var steps = 2000
    @Option(help: "Seed of the network's initialization and of the batch sampler.")
    var seed: UInt64 = 1
    @Option(help: "Directory for the trained policy and its memory.")
    var checkpoint = ".build/eiie-checkpoint"

    func validate() throws {
        guard steps >= 0 else { throw ValidationError("--steps must be ≥ 0, got \(steps)") }
    }

    func run() throws {
        // From the first day with all three coins; the last quarter is the test.
        let full = try Dataset.cryptoDaily.load()
        let first = (0..<full.timeCount).first { t in (0..<full.assetCount).allSatisfy { full.mask[t, $0] } }!
        let panel = full.slicing(first..<full.timeCount)
        let testStart = panel.timeCount - panel.timeCount / 4
        let costs = try TransactionCostModel(rate: 0.0025)
        let backtest = BacktestConfiguration(costs: costs, cash: CashAsset(), firstDecisionBar: testStart)
        let engine = try BacktestEngine(panel: panel, configuration: backtest)

        // The paper's CNN and training defaults, with a learning rate of 1e-3 for a short run.
        var generator = Xoshiro256StarStar(seed: seed)
        var agent = try EIIEAgent<Float>(training: EIIETrainingConfiguration(learningRate: 1e-3, pretrainingSteps: steps),
                                         using: &generator)
        let clock = ContinuousClock.now
        let agentResult = try engine.run(&agent)
        print("EIIE CNN trained and backtested in \(ContinuousClock.now - clock)")

        let equal = [Double](repeating: 1.0 / 3, count: 3)
        var hold = backtest
        hold.schedule = .everyNPeriods(Int.max / 2)
        let lines: [(String, BacktestResult)] = [
            ("EIIE CNN", agentResult),
            ("UCRP", try engine.run(FixedWeightsStrategy(weights: equal, name: "UCRP"))),
            ("UBAH", try BacktestEngine(panel: panel, configuration: hold).run(FixedWeightsStrategy(weights: equal, name: "UBAH"))),
            ("OLMAR-1", try engine.run(OLPSStrategy(algorithm: .olmar, variant: "1"))),
        ]
        print("test \(panel.index.label(at: testStart)) … \(panel.index.label(at: panel.timeCount - 1)), commission 0.25 %")
        for (name, result) in lines {
            let sharpe = try ReturnMetrics.perPeriodSharpeRatio(result.netReturns) ?? .nan
            let drawdown = -(try ReturnMetrics.maxDrawdown(result.netReturns))
            print(name.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(format: " fAPV %.4f   Sharpe/period %+.4f   max drawdown %.1f%%", result.wealth.last!, sharpe, 100 * drawdown))
        }
        let directory = URL(fileURLWithPath: checkpoint)
        try agent.saveCheckpoint(to: directory)
        print("Checkpoint: \(directory.path)/\(EIIECheckpointFile.network), \(EIIECheckpointFile.memory)")
    }
}
