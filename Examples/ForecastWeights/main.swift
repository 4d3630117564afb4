// Forecasts to weights, out of sample with costs: the forecast strategy with a small network ensemble
// over several seeds, the same strategy with naive forecasters (the controls), equal weight, minimum
// variance and mean-variance on historical means, all over the same decisions, monthly, 10 bp costs.
// Prints Sharpe, annual return, volatility, max drawdown and one-way turnover, mean ± sd over seeds.
//
//     swift run -c release ForecastWeights [--dataset factor-etfs] [--model tcn] [--seeds 1,2,3,4,5]
import ArgumentParser
import Foundation
import MetaFolio

extension ForecastModel: ExpressibleByArgument {}
extension ForecastAllocation: ExpressibleByArgument {}

@main
struct ForecastWeights: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the forecast-driven strategy with naive-forecast controls and classical allocations.")

    @Option(help: "Embedded daily dataset.")
    var dataset = "factor-etfs"
    @Option(help: "Network: \(ForecastModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ForecastModel = .tcn
    @Option(help: "Allocation: mean-variance or black-litterman.")
    var allocation: ForecastAllocation = .meanVariance
    @Option(help: "Seeds of the network runs, comma-separated.")
    var seeds = "1,2,3,4,5"
    @Option(help: "Proportional cost rate.")
    var fee = 0.001

    func validate() throws {
        guard Dataset(rawValue: dataset) != nil else { throw ValidationError("unknown --dataset \(dataset)") }
        guard !seedList.isEmpty else { throw ValidationError("--seeds must list unsigned integers, e.g. 1,2,3") }
        guard fee >= 0 && fee < 1 else { throw ValidationError("--fee must be in [0, 1)") }
    }

    var seedList: [UInt64] { seeds.split(separator: ",").compactMap { UInt64($0) } }

    func run() throws {
        let panel = try Dataset(rawValue: dataset)!.load()
        var settings = ForecastStrategyConfiguration(annualizationFactor: periodsPerYear(panel.index.frequency))
        settings.allocation = allocation
        // Every strategy starts at the forecast strategy's first possible decision, so all cover the same test period.
        let probe = try ForecastStrategy(source: .baseline(.zero), configuration: settings)
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(
            schedule: .calendar(.monthly), costs: try TransactionCostModel(rate: fee, method: .exact),
            firstDecisionBar: probe.requiredHistory - 1))
        let lookback = settings.covarianceLookback, cap = settings.maximumWeight
        var rows: [(String, [PerformanceMetrics], Double)] = [], period = ""
        func measure(_ name: String, _ runs: () throws -> [BacktestResult]) throws {
            let start = Date()
            let results = try runs()
            period = "\(results[0].dates.first ?? "") … \(results[0].dates.last ?? "")"
            rows.append((name, try results.map { try PerformanceMetrics(result: $0) }, Date().timeIntervalSince(start)))
            standardError("\(name): \(String(format: "%.1f", Date().timeIntervalSince(start))) s\n")
        }
        try measure("forecast \(model.rawValue)") {
            try seedList.map { try engine.run(ForecastStrategy(source: .smallNetwork(model, seed: $0), configuration: settings)) }
        }
        for baseline in [NaiveBaseline.ar1, .historicalMean] {
            try measure("forecast \(baseline.rawValue)") { [try engine.run(ForecastStrategy(source: .baseline(baseline), configuration: settings))] }
        }
        try measure("equal weight") {
            [try engine.run(FixedWeightsStrategy(weights: [Double](repeating: 1 / Double(panel.assetCount), count: panel.assetCount)))]
        }
        try measure("minimum variance") {
            [try engine.run(OptimizerStrategy(optimizer: MeanVarianceOptimizer(constraints: .boxed(0, cap)), lookback: lookback))]
        }
        try measure("mean-variance, historical means") {
            [try engine.run(OptimizerStrategy(optimizer: MeanVarianceOptimizer(objective: .maximumUtility(riskAversion: settings.riskAversion),
                                                                               constraints: .boxed(0, cap)),
                                              lookback: lookback, expectedReturnsEstimator: ExpectedReturnsEstimator()))]
        }
        print("\(dataset), \(period), monthly, fee \(fee), allocation \(allocation.rawValue), "
              + "seeds \(seeds)")
        print("| strategy | runs | Sharpe | annual return % | volatility % | max drawdown % | one-way turnover %/yr | seconds |")
        print("|---|---|---|---|---|---|---|---|")
        for (name, metrics, seconds) in rows {
            func cell(_ values: [Double], scale: Double = 100, digits: Int = 2) -> String {
                let v = values.map { $0 * scale }, mean = v.reduce(0, +) / Double(v.count)
                guard v.count > 1 else { return String(format: "%.\(digits)f", mean) }
                let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot()
                return String(format: "%.\(digits)f ± %.\(digits)f", mean, sd)
            }
            print("| \(name) | \(metrics.count) | \(cell(metrics.map { $0.sharpeRatio ?? .nan }, scale: 1, digits: 3)) | "
                  + "\(cell(metrics.map(\.annualReturn))) | \(cell(metrics.map(\.annualVolatility))) | \(cell(metrics.map(\.maxDrawdown))) | "
                  + "\(cell(metrics.map(\.annualOneWayTurnover), digits: 0)) | \(String(format: "%.0f", seconds)) |")
        }
    }

    func standardError(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
