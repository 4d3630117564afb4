import ArgumentParser
import Foundation
import MetaFolio

/// A command-line failure with a message for the user (printed as `Error: …`, exit status 1).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// Loads one series (a close column) from an embedded dataset or a wide CSV file: prices (checked
/// positive) or, with `kind` `.series`, any finite values (returns, spreads, yields).
///
/// Missing values are dropped (their count is returned) so the analysis sees a contiguous series.
func loadSeries(dataset: String?, file: String?, column: String?, optionName: String, kind: PricePanel.Kind = .prices) throws
    -> (values: [Double], labels: [String], column: String, source: String, dropped: Int) {
    let panel: PricePanel
    let source: String
    switch (dataset, file) {
    case (PriceSource.multiAsset?, nil):
        panel = try MultiAssetUniverse.standard().panel
        source = "the multi-asset universe"
    case let (name?, nil):
        panel = try Dataset(named: name).load()
        source = "dataset \(name)"
    case let (nil, path?):
        panel = try PanelCSVReader(kind: kind).read(path: path)
        source = path
    case (nil, nil):
        throw ValidationError("give either --dataset NAME or \(optionName) FILE.csv")
    default:
        throw ValidationError("give only one of --dataset and \(optionName)")
    }
    let name = column ?? panel.assets[0]
    guard panel.assets.contains(name) else {
        throw CommandFailure(description: "column \(MarketError.excerpt(name)) is not in \(source); available: \(listed(panel.assets))")
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

/// At most `limit` names, then how many more: a 10 000-column file must not flood the message.
func listed(_ names: [String], limit: Int = 20) -> String {
    let shown = names.prefix(limit).map { MarketError.excerpt($0) }.joined(separator: ", ")
    return names.count > limit ? shown + " and \(names.count - limit) more" : shown
}

/// Throws a usage error unless every given value of `option` is a finite number (argument-parser
/// reads `nan` and `inf` as numbers).
func requireFinite(_ values: Double?..., option: String) throws {
    for case let value? in values where !value.isFinite {
        throw ValidationError("\(option) must be a finite number, not \(value)")
    }
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
