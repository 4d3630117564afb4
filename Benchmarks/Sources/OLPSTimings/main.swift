// The Swift side of compare/olps.py, and the generator of the wealth table in Docs/OLPS.md.
//
// Usage:
//   OLPSTimings [reps]    times OLMAR-1, RMR, PAMR and EG on NYSE (O) with universal-portfolios'
//                         parameters and day-0 convention; prints one JSON object
//                         {name: {"median_s": …, "wealth": …}}.
//   OLPSTimings --table [toolbox|paper] [fee]
//                         prints the Markdown table of final wealth (full history) of every
//                         algorithm on the six datasets under a convention (default toolbox: the
//                         OLPS toolbox's run loops and defaults) and fee (default 0; the toolbox's
//                         tc under the toolbox convention).
//   OLPSTimings --engine [reps]
//                         times OLMAR-1 (ε = 10, w = 5, paper convention, whose fee rule is the
//                         engine's simple cost model) on NYSE (O), full history, through OLPSRunner
//                         and through OLPSStrategy in BacktestEngine, without and with a 0.1% simple
//                         fee; prints the medians and the wealth difference as JSON.
import Backtest
import BenchmarkSupport
import Foundation
import Market

let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
    printError(message)
    exit(2)
}

func scientific(_ value: Double) -> String {
    value >= 1000 ? String(format: "%.2E", value) : String(format: "%.2f", value)
}

if arguments.first == "--table" {
    let datasets: [Dataset] = [.olpsNYSEO, .olpsNYSEN, .olpsTSE, .olpsSP500, .olpsMSCI, .olpsDJIA]
    let rows: [(String, OLPSAlgorithm, String?)] = [
        ("Market (UBAH)", .ubah, nil), ("Best Stock", .best, nil), ("UCRP", .ucrp, nil), ("BCRP", .bcrp, nil),
        ("UP", .up, nil), ("EG", .eg, nil), ("ONS", .ons, nil),
        ("Anticor (w=30)", .anticor, "single"), ("BAH(Anticor) (W=30)", .anticor, "bah"),
        ("PAMR", .pamr, "0"), ("PAMR-1", .pamr, "1"), ("PAMR-2", .pamr, "2"),
        ("CWMR-Var", .cwmr, "var"), ("CWMR-Stdev", .cwmr, "stdev"),
        ("OLMAR-1", .olmar, "1"), ("OLMAR-2", .olmar, "2"), ("RMR", .rmr, nil), ("CORN", .corn, nil),
    ]
    guard let convention = OLPSConvention(rawValue: arguments.count > 1 ? arguments[1] : "toolbox") else {
        fail("usage: OLPSTimings --table [toolbox|paper] [fee]")
    }
    guard let fee = Double(arguments.count > 2 ? arguments[2] : "0") else { fail("the fee must be a number") }
    do {
        let data = try datasets.map { try PriceRelatives(dataset: $0, dayZero: .fullHistory) }
        print("| algorithm | " + datasets.map(\.rawValue).joined(separator: " | ") + " |")
        print("|---|" + String(repeating: "---:|", count: datasets.count))
        for (label, algorithm, variant) in rows {
            var cells: [String] = []
            for relatives in data {
                let t0 = monotonicNanoseconds()
                let selector = try algorithm.makeSelector(variant: variant, relatives: relatives, convention: convention)
                let result = try OLPSRunner.run(selector, on: relatives, fee: fee, convention: convention)
                printError("\(label) on \(relatives.periodCount)×\(relatives.assetCount): \(result.finalWealth) in "
                           + String(format: "%.2f s", Double(monotonicNanoseconds() - t0) * 1e-9))
                cells.append(scientific(result.finalWealth))
            }
            print("| \(label) | " + cells.joined(separator: " | ") + " |")
        }
    } catch {
        fail("\(error)")
    }
    exit(0)
}

if arguments.first == "--engine" {
    let reps = arguments.dropFirst().first.flatMap(Int.init) ?? 5
    do {
        let panel = try Dataset.olpsNYSEO.load()
        let relatives = try PriceRelatives(prices: panel)
        var report: [String: [String: Double]] = [:]
        for fee in [0.0, 0.001] {
            let costs = fee == 0 ? TransactionCostModel.free : try TransactionCostModel(rate: fee, method: .simple)
            let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(costs: costs))
            var runnerTimes: [Double] = [], engineTimes: [Double] = []
            var runnerWealth = 0.0, engineWealth = 0.0
            for _ in 0..<(reps + 1) {   // the first run of each warms up and is discarded
                var t0 = monotonicNanoseconds()
                runnerWealth = try OLPSRunner.run(MovingAverageReversion(convention: .paper), on: relatives, fee: fee,
                                                  convention: .paper).finalWealth
                runnerTimes.append(Double(monotonicNanoseconds() - t0) * 1e-9)
                t0 = monotonicNanoseconds()
                engineWealth = try engine.run(OLPSStrategy(MovingAverageReversion(convention: .paper))).finalWealth
                engineTimes.append(Double(monotonicNanoseconds() - t0) * 1e-9)
            }
            report["olmar fee \(fee)"] = [
                "runner_median_s": median(Array(runnerTimes.dropFirst())),
                "engine_median_s": median(Array(engineTimes.dropFirst())),
                "wealth": engineWealth, "wealth_rel_diff": abs(engineWealth - runnerWealth) / runnerWealth,
            ]
        }
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: json, as: UTF8.self))
    } catch {
        fail("\(error)")
    }
    exit(0)
}

let reps = arguments.first.flatMap(Int.init) ?? 5
guard reps >= 1 else { fail("usage: OLPSTimings [reps] | --table | --engine [reps]") }
do {
    let relatives = try PriceRelatives(dataset: .olpsNYSEO, dayZero: .firstDayDropped)
    let workloads: [(String, () throws -> any OnlinePortfolioSelector)] = [
        ("olmar", { try MovingAverageReversion(epsilon: 10, window: 5, variant: .simple, warmUp: .priceSinceStart, convention: .paper) }),
        ("rmr", { try RobustMedianReversion(epsilon: 10, window: 5, tolerance: 0.001, warmUp: .priceSinceStart, convention: .paper) }),
        ("pamr", { try PassiveAggressiveMeanReversion(epsilon: 0.5, variant: .pamr) }),
        ("eg", { try ExponentiatedGradient(learningRate: 0.05) }),
    ]
    var report: [String: [String: Double]] = [:]
    for (name, make) in workloads {
        var times: [Double] = []
        var wealth = 0.0
        for _ in 0..<(reps + 1) {   // the first run warms up and is discarded
            let t0 = monotonicNanoseconds()
            wealth = try OLPSRunner.run(make(), on: relatives).finalWealth
            times.append(Double(monotonicNanoseconds() - t0) * 1e-9)
        }
        report[name] = ["median_s": median(Array(times.dropFirst())), "wealth": wealth]
    }
    let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
} catch {
    fail("\(error)")
}
