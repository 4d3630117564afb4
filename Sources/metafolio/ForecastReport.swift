import Backtest
import Foundation
import MetaFolio

/// The HTML/JSON report of `metafolio forecast`: forecasts against realised returns per horizon, the
/// wavelet components of the input, the LSTM-attention weights over the window, the ensemble's
/// weights over time and the tables the command prints.
struct ForecastReport {
    /// The JSON companion (`report.json`).
    struct Document: Encodable {
        let format = "metafolio.forecast-report"
        let version = 1
        let dataset: String
        let asset: String
        let seed: UInt64
        let models: [String]
        let charts: [String]
        /// Test origin dates, one per forecast.
        let dates: [String]
        let horizons: [Horizon]
        let wavelet: [Component]
        let attention: Attention?
        let slopeClassifier: SlopeClassifierComparison?
    }

    /// One horizon's series: realised forward log returns (`nil` where not yet known), every forecast, the ensemble weights.
    struct Horizon: Encodable {
        let horizon: Int
        let bestBaseline: String
        let realized: [Double?]
        let forecasts: [String: [Double]]
        let ensembleWeights: [String: [Double]]
        let scores: [ForecastScore]
    }

    /// One wavelet component at the test origins.
    struct Component: Encodable {
        let name: String
        let values: [Double?]
    }

    /// The LSTM-attention weights over the window at every test origin (oldest day first).
    struct Attention: Encodable {
        let window: Int
        let weights: [[Double]]
    }

    let html: String
    let json: Data

    static let chartWidth = 960.0, smallChartWidth = 560.0, maxPoints = 600, maxHeatRows = 120

    /// Builds the page and its JSON companion.
    ///
    /// - Throws: ``CommandFailure`` for undated data, and the library's errors.
    /// What the ensemble-weights charts show under `combination`.
    static func weightCaption(_ combination: ForecastCombination) -> String {
        switch combination {
        case .inverseVariance: "Each model's weight in the inverse-variance ensemble at each origin: wᵢ ∝ 1/σᵢ², the weights summing to 1."
        case .equal: "Each model's weight in the equal-weight ensemble: 1/k at every origin."
        case .stacked: "Each model's stacking weight at each origin: non-negative least squares on the fold's validation window, the weights summing to 1."
        }
    }

    init(evaluation: ForecastEvaluation, features: ForecastFeatures, slope: SlopeClassifierComparison?,
         dataset: String, asset: String, seed: UInt64, parameters: [ReportParameter]) throws {
        guard let allDates = features.dates else { throw CommandFailure(description: "the forecast report needs dated data") }
        let origins = evaluation.origins, dates = origins.map { allDates[$0] }, days = dates.map(\.daysSinceEpoch)
        let axis = DateAxis(first: dates[0], last: dates[dates.count - 1])
        let thinned = Array(stride(from: 0, to: origins.count, by: Swift.max(1, (origins.count + Self.maxPoints - 1) / Self.maxPoints)))
        func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }
        func lineChart(id: String, label: String, lines: [PlotLine], style: ValueStyle, zero: Bool) -> String {
            let values = lines.flatMap { $0.values.compactMap { $0 } }
            var chart = SVGChart(id: id, kind: "chart-forecast", label: label, width: Self.smallChartWidth, height: 260, dateAxis: axis,
                                 valueAxis: .linear(minimum: values.min() ?? 0, maximum: values.max() ?? 1, style: style, includeZero: zero))
            if zero { chart.addReferenceLine(at: 0, cssClass: "reference") }
            chart.addLines(lines)
            return chart.svg
        }
        func plotLine(_ name: String, _ style: LineStyle, _ values: [Double?]) -> PlotLine {
            PlotLine(name: name, style: style, days: thinned.map { days[$0] }, values: thinned.map { values.indices.contains($0) ? values[$0] : nil })
        }
        let models = evaluation.models
        var charts: [String] = [], weightCharts: [String] = [], forecastCards: [String] = [], weightCards: [String] = [], tables: [String] = []
        var horizons: [Horizon] = []
        for (k, report) in evaluation.reports.enumerated() {
            let realized = origins.map { finite(features.targets[k][$0]) }
            let weights = try evaluation.ensembleWeights(horizonIndex: k)
            var forecasts: [String: [Double]] = [:]
            for score in report.scores { forecasts[score.name] = evaluation.forecasts[score.name]?.map { $0[k] } ?? [] }
            let shown = models + ["ensemble", report.bestBaseline]
            var lines = [plotLine("realised", LineStyle(color: "#3d4451", dash: nil), realized)]
            for (index, name) in shown.enumerated() {
                let style = name == "ensemble" ? LineStyle(color: ReportPalette.strategies[0], dash: nil)
                    : name == report.bestBaseline ? LineStyle(color: ReportPalette.benchmarks[1], dash: ReportPalette.benchmarkDashes[0])
                    : LineStyle(color: ReportPalette.strategies[(index + 1) % ReportPalette.strategies.count], dash: "2 3")
                lines.append(plotLine(name, style, forecasts[name, default: []].map { $0 }))
            }
            let forecastID = "chart-forecast-h\(report.horizon)"
            charts.append(forecastID)
            forecastCards.append(ReportPage.card(
                id: "card-forecast-h\(report.horizon)", title: "Horizon \(report.horizon)",
                caption: "Forward \(report.horizon)-day log return at each test origin: realised, each model, the ensemble and the best baseline (\(report.bestBaseline)).",
                content: ReportPage.lineLegend(lines.map { ($0.name, $0.style, $0.name == report.bestBaseline ? "baseline" : nil) })
                    + lineChart(id: forecastID, label: "Forecast against realised, horizon \(report.horizon)", lines: lines, style: .percent, zero: true)))
            let weightID = "chart-ensemble-weights-h\(report.horizon)"
            weightCharts.append(weightID)
            let weightLines = models.enumerated().map { j, name in
                plotLine(name, LineStyle(color: ReportPalette.strategies[(j + 1) % ReportPalette.strategies.count], dash: nil), weights[j].map { $0 })
            }
            var weightChart = SVGChart(id: weightID, kind: "chart-ensemble-weights", label: "Ensemble weights, horizon \(report.horizon)",
                                       width: Self.smallChartWidth, height: 220, dateAxis: axis,
                                       valueAxis: .linear(minimum: weights.joined().min() ?? 0, maximum: weights.joined().max() ?? 1, style: .percent))
            weightChart.addLines(weightLines)
            weightCards.append(ReportPage.card(id: "card-ensemble-weights-h\(report.horizon)", title: "Horizon \(report.horizon)", caption: nil,
                                               content: ReportPage.lineLegend(weightLines.map { ($0.name, $0.style, nil) }) + weightChart.svg))
            tables.append(ReportPage.table(id: "table-horizon-\(report.horizon)", Self.table(report)))
            horizons.append(Horizon(horizon: report.horizon, bestBaseline: report.bestBaseline, realized: realized, forecasts: forecasts,
                                    ensembleWeights: Dictionary(uniqueKeysWithValues: zip(models, weights)), scores: report.scores))
        }
        var waveletCards: [String] = [], wavelet: [Component] = []
        for (j, component) in features.waveletComponents.enumerated() {
            let values = origins.map { finite(component.values[$0]) }
            wavelet.append(Component(name: component.name, values: values))
            let id = "chart-wavelet-\(component.name)"
            charts.append(id)
            let line = plotLine(component.name, LineStyle(color: ReportPalette.strategies[j % ReportPalette.strategies.count], dash: nil), values)
            let defined = line.values.compactMap { $0 }
            var chart = SVGChart(id: id, kind: "chart-wavelet", label: "Wavelet component \(component.name)", width: Self.smallChartWidth,
                                 height: 180, dateAxis: axis,
                                 valueAxis: .linear(minimum: defined.min() ?? 0, maximum: defined.max() ?? 1, style: .percent, includeZero: true))
            chart.addReferenceLine(at: 0, cssClass: "reference")
            chart.addLines([line])
            waveletCards.append(ReportPage.card(id: "card-wavelet-\(component.name)", title: component.name, caption: nil, content: chart.svg))
        }
        var body = ReportPage.section(id: "section-forecasts", title: "Forecast against realised",
                                      caption: "Per horizon, at each test origin (lines thinned to at most \(Self.maxPoints) points).",
                                      cards: forecastCards)
        body += ReportPage.section(id: "section-wavelet", title: "Wavelet components of the input",
                                   caption: "The causal MODWT multiresolution of the daily log returns (details D1… and the smooth) that the features hold, at the test origins.",
                                   cards: waveletCards)
        var attention: Attention?
        if let weights = evaluation.attention, let window = weights.first?.count {
            attention = Attention(window: window, weights: weights)
            let rows = Array(stride(from: 0, to: weights.count, by: Swift.max(1, (weights.count + Self.maxHeatRows - 1) / Self.maxHeatRows)))
            charts.append("chart-attention")
            let map = ReportPage.heatMap(id: "chart-attention", label: "LSTM-attention weights over the window",
                                         values: rows.map { weights[$0] }, rowLabels: rows.map { dates[$0].description },
                                         columnLabels: (0..<window).map { $0 == window - 1 ? "t" : ($0 - window + 1) % 5 == 0 ? "t\($0 - window + 1)" : "" },
                                         width: Self.chartWidth)
            body += ReportPage.card(id: "section-attention", title: "LSTM-attention weights",
                                    caption: "Attention of the last step over the \(window)-day window (t is the origin), averaged over heads and ensemble members; one row per sampled test origin, darker is more weight.",
                                    content: map)
        }
        charts += weightCharts
        body += ReportPage.section(id: "section-ensemble-weights", title: "Ensemble weights over time",
                                   caption: Self.weightCaption(evaluation.combination),
                                   cards: weightCards)
        if let slope {
            tables.append(ReportPage.table(id: "table-slope-classifier", Self.table(slope)))
        }
        body += ReportPage.card(id: "section-tables", title: "Tables", caption: nil, content: tables.joined())
        var navigation = [("section-forecasts", "Forecasts"), ("section-wavelet", "Wavelet components")]
        if attention != nil { navigation.append(("section-attention", "Attention")) }
        navigation += [("section-ensemble-weights", "Ensemble weights"), ("section-tables", "Tables")]
        let methodology = "<p>Walk-forward: before each test block every model is refitted on the training origins whose targets are known; "
            + "forecasts at an origin use data up to that origin only. The ensemble combines the models with weights proportional to "
            + "the inverse of their predictive variances; the Diebold–Mariano test compares each forecast with the best naive baseline "
            + "(the baseline with the lowest test MSE).</p>"
        html = ReportPage.document(title: "Return forecasts of \(asset)",
                                   subtitle: "\(dataset) \(asset): test \(dates[0])…\(dates[dates.count - 1]), \(origins.count) origins, \(evaluation.folds.count) refits",
                                   generator: "MetaFolio forecast report", chartIDs: charts, parameters: parameters,
                                   navigation: navigation.map { (anchor: $0.0, title: $0.1) }, body: body, methodology: methodology)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        json = try encoder.encode(Document(dataset: dataset, asset: asset, seed: seed, models: models, charts: charts,
                                           dates: dates.map(\.description), horizons: horizons, wavelet: wavelet, attention: attention,
                                           slopeClassifier: slope))
    }

    /// The forecast table of one horizon, as the command prints it.
    static func table(_ report: HorizonReport) -> ReportTable {
        let rows = report.scores.map { score in
            ReportTable.Row(label: score.name, cells: [
                .number(1e4 * score.mse, digits: 4), .number(1e2 * score.mae, digits: 4), .number(score.directionAccuracy, digits: 3),
                .number(score.slopeAccuracy, digits: 3), .number(score.slopeMacroF1, digits: 3),
                score.dieboldMariano.map { .number($0.statistic, digits: 2) } ?? .text("—"),
                score.dieboldMariano.map { .number($0.pValue, digits: 3) } ?? .text("—"),
                score.intervalCoverage90.map { .number($0, digits: 3) } ?? .text("—"),
            ])
        }
        return ReportTable(title: "Horizon \(report.horizon): \(report.count) forecasts, DM against \(report.bestBaseline)", rowHeader: "forecast",
                           columns: ["MSE ×1e4", "MAE ×1e2", "direction", "slope acc", "slope F1", "DM", "p", "cover90"], rows: rows)
    }

    /// The slope-classifier table (mean ± sd over seeds).
    static func table(_ slope: SlopeClassifierComparison) -> ReportTable {
        ReportTable(title: "Slope classifier, horizon \(slope.horizon): \(slope.count) test days, mean ± sd over \(slope.runs.count) seeds",
                    rowHeader: "classifier", columns: ["accuracy", "macro-F1"],
                    rows: slope.rows.map { ReportTable.Row(label: $0.name, cells: [.text($0.accuracy.formatted), .text($0.macroF1.formatted)]) })
    }

    /// Writes `report.html` and `report.json` into `directory` as a pair (both or neither).
    ///
    /// - Throws: ``ReportError/writeFailed(path:reason:)``.
    func write(toDirectory directory: URL) throws -> URL {
        let page = directory.appendingPathComponent("report.html")
        try ReportFilePair.write([(Data(html.utf8), page), (json, directory.appendingPathComponent("report.json"))], into: directory)
        return page
    }
}
