import ArgumentParser
import Foundation
import MetaFolio

/// A command-line failure with a message for the user (printed as `Error: …`, exit status 1).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// Loads one series (a close column) from an embedded dataset or a wide CSV file.
///
/// Missing values are dropped (their count is returned) so the analysis sees a contiguous series.
func loadSeries(dataset: String?, file: String?, column: String?, optionName: String) throws
    -> (values: [Double], labels: [String], column: String, source: String, dropped: Int) {
    let panel: PricePanel
    let source: String
    switch (dataset, file) {
    case let (name?, nil):
        panel = try Dataset(named: name).load()
        source = "dataset \(name)"
    case let (nil, path?):
        panel = try PanelCSVReader().read(path: path)
        source = path
    case (nil, nil):
        throw ValidationError("give either --dataset NAME or \(optionName) FILE.csv")
    default:
        throw ValidationError("give only one of --dataset and \(optionName)")
    }
    let name = column ?? panel.assets[0]
    guard panel.assets.contains(name) else {
        throw CommandFailure(description: "column \"\(name)\" is not in \(source); available: \(panel.assets.joined(separator: ", "))")
    }
    let raw = try panel.series(name)
    var values: [Double] = [], labels: [String] = []
    for (t, v) in raw.enumerated() where v.isFinite {
        values.append(v)
        labels.append(panel.index.label(at: t).description)
    }
    guard !values.isEmpty else { throw CommandFailure(description: "column \"\(name)\" of \(source) has no values") }
    return (values, labels, name, source, raw.count - values.count)
}

/// Encodes `value` as sorted-key JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// The `--json-weights` option of the report-writing commands: `full`, `none`, or the most weight
/// rows kept per series (a number ≥ 2, evenly spaced; see `ReportOptions.JSONWeights`).
func parseJSONWeights(_ text: String) throws -> ReportOptions.JSONWeights {
    switch text.lowercased() {
    case "full": return .full
    case "none": return .omitted
    default:
        guard let rows = Int(text), rows >= 2 else {
            throw ValidationError("--json-weights must be full, none or a number of rows ≥ 2, not \(text)")
        }
        return .thinned(maxRows: rows)
    }
}

/// `value` with `digits` significant digits.
func formatted(_ value: Double, _ digits: Int = 6) -> String { String(format: "%.\(digits)g", value) }

/// A subcommand whose `execute()` may throw any library error: `run()` turns errors other than
/// argument-parser's into a ``CommandFailure``, so the user sees the library's message and a
/// non-zero exit status instead of a raw error dump.
protocol FailureReportingCommand: ParsableCommand {
    /// The command's work.
    func execute() throws
}

extension FailureReportingCommand {
    /// Runs ``execute()`` and reports library errors as ``CommandFailure``.
    func run() throws {
        do {
            try execute()
        } catch let error as ValidationError {
            throw error
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure(description: "\(error)")
        }
    }
}
