import Foundation
import Market

/// The JSON companion of an HTML report: the report data, the options it was rendered with
/// (defaults made concrete) and per-series figures derived from the paths.
///
/// Long weight histories are thinned by default (``ReportOptions/jsonWeights``): the series keep
/// every wealth and turnover value, and their weights when they have at most 600 rows.
/// Decoding validates the report again, so a document that decodes can be re-rendered:
/// `try document.report.renderHTML(options: …)` with the same options gives the same page
/// (without the weight charts of thinned series; use ``ReportOptions/JSONWeights/full`` to keep them).
public struct ReportDocument: Sendable, Hashable, Codable {
    /// Format identifier, always ``ReportDocument/formatName``.
    public let format: String
    /// Format version, ``ReportDocument/currentVersion``.
    public let version: Int
    /// The rendering options with every default resolved.
    public let options: ResolvedReportOptions
    /// The ids of the `<svg>` charts of the HTML page, in page order.
    public let charts: [String]
    /// The report data.
    public let report: BacktestReport
    /// Figures derived from each series' wealth path, in the order of ``BacktestReport/series``.
    public let summaries: [ReportSeriesSummary]
    /// Thinned weights of the series whose full weights were left out of ``report``
    /// (see ``ReportOptions/JSONWeights``); empty or absent otherwise.
    public let weightSamples: [ReportWeightSample]?

    /// `metafolio.backtest-report`.
    public static let formatName = "metafolio.backtest-report"
    /// 1.
    public static let currentVersion = 1
}

/// Figures of one wealth path that the report computes itself (see ``ReportAnalytics``).
public struct ReportSeriesSummary: Sendable, Hashable, Codable {
    /// The series name.
    public let name: String
    /// Final growth of one unit, `W_end / W_0`.
    public let growth: Double
    /// Calendar annualized return `(W_end / W_0)^(365.25 / days) − 1`, or `nil` when it
    /// overflows (a large gain over a few days).
    public let annualizedReturn: Double?
    /// Maximum drawdown (≤ 0).
    public let maximumDrawdown: Double
    /// Date of the peak before the deepest trough.
    public let drawdownPeak: MarketDate
    /// Date of the deepest trough.
    public let drawdownTrough: MarketDate
    /// First date back at the peak after the trough, or `nil` if never.
    public let drawdownRecovery: MarketDate?
    /// The last defined rolling Sharpe ratio, or `nil` when none is defined.
    public let lastRollingSharpe: Double?
}

/// Some rows of a series' weights, kept in the JSON companion instead of every row.
public struct ReportWeightSample: Sendable, Hashable, Codable {
    /// The series name.
    public let series: String
    /// Asset names, one per column.
    public let assets: [String]
    /// Positions of the kept rows in the series' dates, increasing (first and last included).
    public let indices: [Int]
    /// The dates of the kept rows.
    public let dates: [MarketDate]
    /// The kept rows, one per index.
    public let rows: [[Double]]
}

/// The two files written by ``BacktestReport/write(toDirectory:options:)``.
public struct ReportFiles: Sendable, Hashable {
    /// `<directory>/report.html`.
    public let html: URL
    /// `<directory>/report.json`.
    public let json: URL
}

extension BacktestReport {
    /// The self-contained HTML page of the report: inline CSS and SVG, no scripts and no
    /// network resources. The page is well-formed XML, charts use a `viewBox` so they
    /// follow the page width, and every user string is escaped.
    ///
    /// Charts (each an `<svg class="chart …">` with a stable id): `chart-equity-linear` and/or
    /// `chart-equity-log`, `chart-drawdown`, `chart-rolling-sharpe`, `chart-weights-<k>` and
    /// `chart-turnover-<k>` for the `k`-th series (1-based) with weights or turnover. The list
    /// is also in `<meta name="metafolio-charts">`. Lines hold at most
    /// ``ReportOptions/maxPointsPerSeries`` points (min–max decimation, see
    /// ``ReportAnalytics/downsampledIndices(_:maxPoints:)``), so 30 years of daily data for a
    /// handful of series stays around a megabyte.
    ///
    /// - Throws: ``ReportError/invalidOption(name:message:)`` for out-of-range options.
    public func renderHTML(options: ReportOptions = ReportOptions()) throws -> String {
        HTMLReportWriter(report: self, options: try options.resolved(for: self)).render()
    }

    /// The JSON companion (``ReportDocument``), UTF-8, keys sorted so equal reports give equal bytes.
    ///
    /// - Throws: ``ReportError/invalidOption(name:message:)`` for out-of-range options.
    public func renderJSON(options: ReportOptions = ReportOptions()) throws -> Data {
        let writer = HTMLReportWriter(report: self, options: try options.resolved(for: self))
        return try Self.encode(try document(writer))
    }

    /// Writes `report.html` and `report.json` into `directory` (created with its parents when
    /// missing), as a pair: both are written to temporary files beside their targets first, and
    /// only when both are complete are they renamed into place. A failure while writing (a full
    /// disk, an unwritable directory) leaves the previous pair untouched and no temporary file
    /// behind; if the second rename fails, the first file is put back.
    ///
    /// - Returns: the URLs of both files.
    /// - Throws: ``ReportError/invalidOption(name:message:)``, or
    ///   ``ReportError/writeFailed(path:reason:)`` naming the directory or file that could not be written.
    @discardableResult
    public func write(toDirectory directory: URL, options: ReportOptions = ReportOptions()) throws -> ReportFiles {
        let writer = HTMLReportWriter(report: self, options: try options.resolved(for: self))
        let html = Data(writer.render().utf8)
        let json = try Self.encode(try document(writer))
        let files = ReportFiles(html: directory.appendingPathComponent("report.html"),
                                json: directory.appendingPathComponent("report.json"))
        try ReportFilePair.write([(html, files.html), (json, files.json)], into: directory)
        return files
    }

    private func document(_ writer: HTMLReportWriter) throws -> ReportDocument {
        let byName = Dictionary(uniqueKeysWithValues: writer.analyses.map { ($0.series.name, $0) })
        let summaries = series.map { item -> ReportSeriesSummary in
            let analysis = byName[item.name]!, worst = analysis.maximumDrawdown
            return ReportSeriesSummary(
                name: item.name, growth: analysis.growth[analysis.growth.count - 1],
                annualizedReturn: analysis.annualizedReturn.isFinite ? analysis.annualizedReturn : nil, maximumDrawdown: worst.depth,
                drawdownPeak: item.dates[worst.peakIndex], drawdownTrough: item.dates[worst.troughIndex],
                drawdownRecovery: worst.recoveryIndex.map { item.dates[$0] },
                lastRollingSharpe: analysis.rollingSharpe.last { $0 != nil } ?? nil)
        }
        var samples: [ReportWeightSample] = []
        var kept = series
        if writer.options.jsonWeights != .full {
            kept = try series.map { item in
                guard let weights = item.weights else { return item }
                if case let .thinned(maxRows) = writer.options.jsonWeights {
                    guard weights.rows.count > maxRows else { return item }
                    let indices = ReportAnalytics.evenlySpacedIndices(count: weights.rows.count, maxPoints: maxRows)
                    samples.append(ReportWeightSample(series: item.name, assets: weights.assets, indices: indices,
                                                      dates: indices.map { item.dates[$0] }, rows: indices.map { weights.rows[$0] }))
                }
                return try ReportSeries(name: item.name, role: item.role, dates: item.dates, wealth: item.wealth,
                                        weights: nil, turnover: item.turnover)
            }
        }
        let report = try BacktestReport(title: title, subtitle: subtitle, series: kept, tables: tables,
                                        parameters: parameters, notes: notes)
        return ReportDocument(format: ReportDocument.formatName, version: ReportDocument.currentVersion,
                              options: writer.options, charts: writer.chartIDs, report: report, summaries: summaries,
                              weightSamples: samples.isEmpty ? nil : samples)
    }

    private static func encode(_ document: ReportDocument) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }
}
