// The meta-learned multi-asset allocator on the embedded universe (29 stocks, factor ETFs, bond
// indices and option overlays, monthly 1990–2018): meta-train the mixture-of-candidates policy over
// period tasks, backtest it walk-forward from 1999-12-31 with costs next to the equal mixture of its
// candidates, and print the metrics and the last entries of its decision log.
//
//     swift run -c release MetaAllocation [--training maml] [--profile moderate] [--seed 1]
import ArgumentParser
import Foundation
import MetaFolio

extension AllocatorTraining: ExpressibleByArgument {}

@main
struct MetaAllocation: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Meta-train the multi-asset allocator and backtest it against the equal mixture of its candidates.")

    @Option(help: "Training: \(AllocatorTraining.allCases.map(\.rawValue).joined(separator: ", ")).")
    var training: AllocatorTraining = .maml
    @Option(help: "Investor profile: conservative, moderate or aggressive.")
    var profile = "moderate"
    @Option(help: "Seed of the network, the meta-batches and the regime model's EM restarts.")
    var seed: UInt64 = 1
    @Option(help: "Decision-log entries to print.")
    var last = 6

    func validate() throws {
        guard InvestorProfile.presets.contains(where: { $0.name == profile }) else {
            throw ValidationError("--profile must be conservative, moderate or aggressive, not \(profile)")
        }
        guard last >= 0 else { throw ValidationError("--last must be ≥ 0") }
    }

    func run() throws {
        let universe = try MultiAssetUniverse.extended()
        let indicators = try MarketIndicators.embedded(alignedTo: universe.index)
        let investor = InvestorProfile.presets.first { $0.name == profile }!
        var settings = MetaAllocatorConfiguration()
        settings.seed = seed
        let first = universe.index.dates!.firstIndex { $0 >= (try! MarketDate(year: 1999, month: 12, day: 31)) }!
        var backtest = BacktestConfiguration(schedule: .calendar(.monthly), costs: try TransactionCostModel(rate: 0.001, method: .exact),
                                             cash: CashAsset(), unavailableAssets: .redistribute, firstDecisionBar: first)
        if investor.maximumGrossLeverage > 1 { backtest.maximumGrossLeverage = investor.maximumGrossLeverage }
        let engine = try BacktestEngine(panel: universe.panel, configuration: backtest)

        var results: [(String, BacktestResult)] = []
        var log: [AllocationDecision] = []
        for mode in [training, .equalMixture] {
            var allocator = try MetaAllocator(assets: universe.assets, assetClasses: universe.assetClasses, indicators: indicators,
                                              profile: investor, training: mode, configuration: settings)
            results.append((allocator.name, try engine.run(&allocator)))
            if mode == training { log = allocator.decisions }
        }
        print("strategy                                         annual return  Sharpe  max drawdown  one-way turnover")
        for (name, result) in results {
            let m = try PerformanceMetrics(result: result)
            print(name.padding(toLength: 48, withPad: " ", startingAt: 0),
                  String(format: "%13.2f%%  %6.3f  %11.1f%%  %15.0f%%", 100 * m.annualReturn, m.sharpeRatio ?? .nan,
                         100 * m.maxDrawdown, 100 * m.annualOneWayTurnover))
        }
        print("\nLast decisions (regime, mixture weights over \(settings.candidates.map(\.rawValue).joined(separator: ", "))):")
        for decision in log.suffix(last) {
            let mixture = decision.mixtureWeights.map { String(format: "%.2f", $0) }.joined(separator: " ")
            let adaptation = decision.lossBeforeAdaptation.map { before in
                String(format: "support loss %.5f → %.5f", before, decision.lossAfterAdaptation ?? before)
            } ?? ""
            print("  \(decision.label)  \(decision.regime.padding(toLength: 8, withPad: " ", startingAt: 0))  [\(mixture)]  "
                  + "\(adaptation)  \(decision.constraints.summary)")
        }
    }
}
