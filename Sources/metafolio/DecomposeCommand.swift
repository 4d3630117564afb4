import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio decompose`: the MODWT multiresolution analysis of one series.
struct DecomposeCommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompose",
        abstract: "MODWT multiresolution analysis of one series: details D1…DJ and smooth SJ, which sum to the series."
    )

    @Option(name: .long, help: "Wavelet: haar, db2…db10, sym2…sym10 (la8…la20), coif1…coif5.")
    var wavelet: String = "la8"

    @Option(name: .long, help: "Number of levels J (the series needs at least 2^J values).")
    var levels: Int = 4

    @Option(name: .long, help: "Boundary rule: periodic or reflection.")
    var boundary: String = "reflection"

    @Option(name: .long, help: "Embedded dataset (see `metafolio datasets`), or multi-asset for the monthly multi-asset universe.")
    var dataset: String?

    @Option(name: .long, help: "Wide CSV file (date column first).")
    var series: String?

    @Option(name: .long, help: "Column to use (default: the first).")
    var column: String?

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Report: Encodable {
        let wavelet: String, boundary: String, column: String, source: String
        let levels: Int, length: Int, droppedMissing: Int
        let labels: [String]
        let series: [Double]
        let details: [[Double]]
        let smooth: [Double]
        let maxReconstructionError: Double
    }

    func validate() throws {
        guard (1...30).contains(levels) else { throw ValidationError("--levels must be in 1…30, got \(levels)") }
        guard WaveletBoundary(rawValue: boundary) != nil else { throw ValidationError("--boundary must be periodic or reflection, got \(boundary)") }
    }

    func execute() throws {
        // Any real series decomposes (returns are negative at times): only prices must be positive.
        let input = try loadSeries(dataset: dataset, file: series, column: column, optionName: "--series", kind: .series)
        let filter = try WaveletFilter(wavelet)
        let rule = WaveletBoundary(rawValue: boundary)!
        let mra = try MultiresolutionAnalysis(input.values, filter: filter, levels: levels, boundary: rule)
        let error = zip(mra.reconstruction, input.values).map { Swift.abs($0 - $1) }.max() ?? 0
        let report = Report(wavelet: filter.name, boundary: boundary, column: input.column, source: input.source, levels: levels,
                            length: input.values.count, droppedMissing: input.dropped, labels: input.labels, series: input.values,
                            details: mra.details, smooth: mra.smooth, maxReconstructionError: error)
        if json { try printJSON(report); return }
        print("MODWT MRA of \(input.column) from \(input.source): \(filter.name), \(levels) levels, \(boundary) boundary, \(input.values.count) values"
              + (input.dropped > 0 ? " (\(input.dropped) missing dropped)" : ""))
        print("max |ΣD + S − X| = \(formatted(error, 3))")
        let header = ["time", "series"] + (1...levels).map { "D\($0)" } + ["S\(levels)"]
        print(header.joined(separator: "\t"))
        for t in input.values.indices {
            let cells = [input.labels[t], formatted(input.values[t], 8)] + mra.details.map { formatted($0[t], 6) } + [formatted(mra.smooth[t], 8)]
            print(cells.joined(separator: "\t"))
        }
    }
}
