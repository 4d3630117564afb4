import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio olps`: final wealth of an online portfolio selection algorithm on an OLPS dataset
/// or a price file.
struct OLPSCommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "olps",
        abstract: "Run an online portfolio selection algorithm (OLPS toolbox conventions by default) and report its cumulative wealth."
    )

    @Option(name: .long, help: "Algorithm: \(OLPSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")).")
    var algorithm: String

    @Option(name: .long, help: "Variant: anticor bah|single, pamr 0|1|2, cwmr stdev|var, olmar 1|2 (default: the first).")
    var variant: String?

    @OptionGroup var input: PriceSource

    @Option(name: .long, help: "Proportional fee in [0, 1): toolbox convention, its rate tc, wealth × (1 − tc/2·Σ|b_t − b̂_{t−1}|); paper convention, wealth × (1 − fee·Σ|b_t − b̂_{t−1}|).")
    var fee: Double = 0

    @Option(name: .long, help: "toolbox (the OLPS toolbox's run loops and defaults) or paper (the published algorithms; universal-portfolios where it agrees).")
    var convention: String = OLPSConvention.toolbox.rawValue

    @Option(name: .customLong("day-zero"), help: "OLPS datasets: full-history (survey) or first-day-dropped (universal-portfolios).")
    var dayZero: String = OLPSDayZero.fullHistory.rawValue

    @Flag(name: .long, help: "No progress line on standard error (it shows only on a terminal).")
    var quiet = false

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Report: Encodable {
        let algorithm: String
        let selector: String
        let dataset: String
        let periods: Int
        let assets: Int
        let fee: Double
        let convention: String
        let dayZero: String?
        let finalWealth: Double
        let averageTurnover: Double
    }

    func validate() throws {
        guard fee >= 0, fee < 1 else { throw ValidationError("--fee must be in [0, 1), got \(fee)") }
        guard OLPSConvention(rawValue: convention) != nil else {
            throw ValidationError("--convention must be toolbox or paper, got \(convention)")
        }
        guard OLPSDayZero(rawValue: dayZero) != nil else {
            throw ValidationError("--day-zero must be full-history or first-day-dropped, got \(dayZero)")
        }
    }

    func execute() throws {
        let chosen = try OLPSAlgorithm(named: algorithm)
        let rules = OLPSConvention(rawValue: convention)!
        let relatives: PriceRelatives
        let source: String
        var dayZeroUsed: String?
        if let name = input.dataset, name.hasPrefix("olps-") {
            // The OLPS sets carry the survey's day-zero convention.
            relatives = try PriceRelatives(dataset: Dataset(named: name), dayZero: OLPSDayZero(rawValue: dayZero)!)
            dayZeroUsed = dayZero
            source = name
        } else {
            let loaded = try input.load()
            relatives = try PriceRelatives(prices: loaded.panel)
            source = input.dataset ?? loaded.source
        }
        let selector = try chosen.makeSelector(variant: variant, relatives: relatives, convention: rules)
        var bar = ProgressBar(total: relatives.periodCount, enabled: !quiet)
        let result = try OLPSRunner.run(selector, on: relatives, fee: fee, convention: rules) { done, total in
            bar.update(completed: done, "period \(done) of \(total)")
        }
        let turnover = result.turnover.reduce(0, +) / Double(max(result.periodCount, 1))
        let report = Report(algorithm: chosen.rawValue, selector: result.algorithm, dataset: source, periods: result.periodCount,
                            assets: result.assetCount, fee: fee, convention: rules.rawValue, dayZero: dayZeroUsed, finalWealth: result.finalWealth,
                            averageTurnover: turnover)
        if json { try printJSON(report); return }
        print("\(result.algorithm) on \(source): \(result.periodCount) periods, \(result.assetCount) assets, fee \(fee), "
              + "\(rules.rawValue) convention" + (dayZeroUsed.map { ", day 0: \($0)" } ?? ""))
        print("final wealth \(formatted(result.finalWealth, 6)), average turnover \(formatted(turnover, 4))")
    }
}
