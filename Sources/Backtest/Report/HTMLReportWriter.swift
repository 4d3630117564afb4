import Foundation
import Market

/// What the charts need of one series, computed once per render.
struct SeriesAnalysis {
    let position: Int
    let series: ReportSeries
    let style: LineStyle
    let days: [Int]
    let growth: [Double]
    let drawdowns: [Double]
    let rollingSharpe: [Double?]
    let maximumDrawdown: ReportAnalytics.MaximumDrawdown

    init(position: Int, series: ReportSeries, style: LineStyle, options: ResolvedReportOptions) {
        self.position = position
        self.series = series
        self.style = style
        days = series.dates.map(\.daysSinceEpoch)
        let start = series.wealth[0]
        growth = series.wealth.map { $0 / start }
        drawdowns = ReportAnalytics.drawdowns(series.wealth)
        rollingSharpe = ReportAnalytics.rollingSharpe(series.wealth, window: options.rollingWindow,
                                                      periodsPerYear: options.periodsPerYear,
                                                      riskFreeRate: options.riskFreeRate)
        maximumDrawdown = ReportAnalytics.maximumDrawdown(series.wealth)
    }

    /// A chart line of `values`, downsampled by their own extrema.
    func line(_ values: [Double?], maxPoints: Int) -> PlotLine {
        let kept = ReportAnalytics.downsampledIndices(values, maxPoints: maxPoints)
        return PlotLine(name: series.name, style: style, days: kept.map { days[$0] }, values: kept.map { values[$0] })
    }

    /// Calendar annualized return `(W_end / W_0)^(365.25 / days) − 1`.
    var annualizedReturn: Double {
        let years = Double(days[days.count - 1] - days[0]) / 365.25
        return pow(growth[growth.count - 1], 1 / years) - 1
    }
}

/// Writes the self-contained HTML page of a report (see ``BacktestReport/renderHTML(options:)``).
///
/// The page is well-formed XML (an XHTML-compatible subset of HTML5): no scripts,
/// no external resources, styles inline, charts as inline SVG with `viewBox`
/// so they scale with the page width.
struct HTMLReportWriter {
    let report: BacktestReport
    let options: ResolvedReportOptions
    let analyses: [SeriesAnalysis]
    let dateAxis: DateAxis

    static let chartWidth = 960.0
    static let smallChartWidth = 560.0

    init(report: BacktestReport, options: ResolvedReportOptions) {
        self.report = report
        self.options = options
        var strategyCount = 0, benchmarkCount = 0
        analyses = report.seriesInPlotOrder.map { series in
            let position = report.series.firstIndex { $0.name == series.name }! + 1
            let style: LineStyle
            switch series.role {
            case .strategy:
                style = ReportPalette.lineStyle(role: .strategy, index: strategyCount)
                strategyCount += 1
            case .benchmark:
                style = ReportPalette.lineStyle(role: .benchmark, index: benchmarkCount)
                benchmarkCount += 1
            }
            return SeriesAnalysis(position: position, series: series, style: style, options: options)
        }
        let first = report.series.map { $0.dates[0] }.min()!
        let last = report.series.map { $0.dates[$0.dates.count - 1] }.max()!
        dateAxis = DateAxis(first: first, last: last)
    }

    /// The ids of the `<svg>` charts the page holds, in page order.
    var chartIDs: [String] {
        var ids: [String] = []
        for section in options.sections {
            switch section {
            case .equity: ids += options.equityScales.map { "chart-equity-\($0.rawValue)" }
            case .drawdown: ids.append("chart-drawdown")
            case .rollingSharpe: ids.append("chart-rolling-sharpe")
            case .tables: break
            case .weights: ids += analyses.filter { $0.series.weights != nil }.map { "chart-weights-\($0.position)" }
            case .turnover: ids += analyses.filter { $0.series.turnover != nil }.map { "chart-turnover-\($0.position)" }
            case .compositions: ids += report.compositions.indices.map { "chart-composition-\($0 + 1)" }
            }
        }
        return ids
    }

    func render() -> String {
        var body = ""
        var navigation: [(anchor: String, title: String)] = []
        for section in options.sections {
            let (anchor, title, html) = self.section(section)
            guard !html.isEmpty else { continue }
            navigation.append((anchor, title))
            body += html
        }
        if !report.notes.isEmpty {
            navigation.append(("section-notes", "Notes"))
            body += card(id: "section-notes", title: "Notes", caption: nil,
                         content: report.notes.map { "<p>\(esc($0))</p>" }.joined(separator: "\n"))
        }
        return ReportPage.document(title: report.title, subtitle: report.subtitle, generator: "MetaFolio Backtest report",
                                   chartIDs: chartIDs, parameters: parameters, navigation: navigation, body: body,
                                   methodology: methodology)
    }

    // MARK: Sections

    private func section(_ section: ReportOptions.Section) -> (String, String, String) {
        switch section {
        case .equity: return ("section-equity", "Equity", equitySection)
        case .drawdown: return ("section-drawdown", "Drawdowns", drawdownSection)
        case .rollingSharpe: return ("section-rolling-sharpe", "Rolling Sharpe", rollingSharpeSection)
        case .tables: return ("section-tables", "Metrics", tablesSection)
        case .weights: return ("section-weights", "Weights", weightsSection)
        case .turnover: return ("section-turnover", "Turnover", turnoverSection)
        case .compositions: return ("section-compositions", "Compositions", compositionsSection)
        }
    }

    private var lineLegend: String {
        ReportPage.lineLegend(analyses.map { ($0.series.name, $0.style, $0.series.role == .benchmark ? "benchmark" : nil) })
    }

    private var equitySection: String {
        let lines = analyses.map { $0.line($0.growth, maxPoints: options.maxPointsPerSeries) }
        let low = analyses.map { $0.growth.min()! }.min()!, high = analyses.map { $0.growth.max()! }.max()!
        let panels = options.equityScales.map { scale -> (ReportOptions.Scale, String) in
            let axis = scale == .log ? ValueAxis.log(minimum: low, maximum: high, style: .growth)
                : ValueAxis.linear(minimum: low, maximum: high, style: .growth)
            var chart = SVGChart(id: "chart-equity-\(scale.rawValue)", kind: "chart-equity",
                                 label: "Growth of 1 (\(scale.rawValue) scale)", width: Self.chartWidth, height: 360,
                                 dateAxis: dateAxis, valueAxis: axis)
            chart.addReferenceLine(at: 1, cssClass: "reference")
            chart.addLines(lines)
            return (scale, chart.svg)
        }
        var content = ""
        if panels.count == 1 {
            content = panels[0].1
        } else {
            content = "<div class=\"scale-toggle\">\n"
            for (k, panel) in panels.enumerated() {
                let id = "equity-scale-\(panel.0.rawValue)"
                content += "<input type=\"radio\" name=\"equity-scale\" id=\"\(id)\"\(k == 0 ? " checked=\"checked\"" : "")/>"
                    + "<label for=\"\(id)\">\(panel.0 == .log ? "Log" : "Linear")</label>\n"
            }
            for panel in panels {
                content += "<div class=\"scale-panel scale-panel-\(panel.0.rawValue)\">\n\(panel.1)\n</div>\n"
            }
            content += "</div>"
        }
        return card(id: "section-equity", title: "Equity curves",
                    caption: "Growth of one unit invested at each series' first date.",
                    content: lineLegend + "\n" + content)
    }

    private var drawdownSection: String {
        let lines = analyses.map { $0.line($0.drawdowns, maxPoints: options.maxPointsPerSeries) }
        let deepest = analyses.map(\.maximumDrawdown.depth).min()!
        let axis = ValueAxis.linear(minimum: deepest, maximum: 0, style: .percent, target: 5, includeZero: true)
        var chart = SVGChart(id: "chart-drawdown", kind: "chart-drawdown", label: "Drawdown from running peak",
                             width: Self.chartWidth, height: 250, dateAxis: dateAxis, valueAxis: axis)
        chart.addReferenceLine(at: 0, cssClass: "reference")
        chart.addLines(lines)
        chart.addMarkers(analyses.filter { $0.maximumDrawdown.depth < 0 }.map { analysis in
            let worst = analysis.maximumDrawdown
            let text = "\(analysis.series.name): maximum drawdown \(ReportFormat.fixed(100 * worst.depth, digits: 1))% on \(analysis.series.dates[worst.troughIndex])"
            return PlotMarker(day: analysis.days[worst.troughIndex], value: worst.depth, color: analysis.style.color, tooltip: text)
        })
        return card(id: "section-drawdown", title: "Drawdowns",
                    caption: "Loss from the running peak, W_t / max W_s − 1; dots mark each series' deepest point.",
                    content: lineLegend + "\n" + chart.svg)
    }

    private var rollingSharpeSection: String {
        let lines = analyses.map { $0.line($0.rollingSharpe, maxPoints: options.maxPointsPerSeries) }
        let defined = analyses.flatMap { $0.rollingSharpe.compactMap { $0 } }
        let axis = ValueAxis.linear(minimum: defined.min() ?? -1, maximum: defined.max() ?? 1, style: .number,
                                    target: 7, includeZero: true)
        var chart = SVGChart(id: "chart-rolling-sharpe", kind: "chart-rolling-sharpe",
                             label: "Rolling Sharpe ratio, \(options.rollingWindow)-period window",
                             width: Self.chartWidth, height: 250, dateAxis: dateAxis, valueAxis: axis)
        chart.addReferenceLine(at: 0, cssClass: "reference")
        chart.addLines(lines)
        var caption = "Annualized Sharpe ratio of the last \(options.rollingWindow) returns "
            + "(\(periodsPerYearText) periods a year"
            + (options.riskFreeRate == 0 ? "" : ", risk-free rate \(ReportFormat.fixed(100 * options.riskFreeRate, digits: 2))% a year") + ")."
        if defined.isEmpty { caption += " No series is longer than the window, so no value is defined." }
        return card(id: "section-rolling-sharpe", title: "Rolling Sharpe ratio", caption: caption,
                    content: lineLegend + "\n" + chart.svg)
    }

    private var tablesSection: String {
        var html = ""
        for (k, table) in report.tables.enumerated() {
            html += tableHTML(id: "table-\(k + 1)", table: table)
        }
        html += tableHTML(id: "table-paths", table: pathSummary)
        return card(id: "section-tables", title: "Metrics", caption: nil, content: html)
    }

    /// Start, end, growth, annualized return and the maximum drawdown of every series, from the paths.
    private var pathSummary: ReportTable {
        let rows = analyses.map { analysis -> ReportTable.Row in
            let worst = analysis.maximumDrawdown, dates = analysis.series.dates
            return ReportTable.Row(label: analysis.series.name, cells: [
                .text(dates[0].description), .text(dates[dates.count - 1].description),
                .number(analysis.growth[analysis.growth.count - 1], digits: 2), .percent(analysis.annualizedReturn),
                .percent(worst.depth), .text(dates[worst.peakIndex].description), .text(dates[worst.troughIndex].description),
                .text(worst.recoveryIndex.map { dates[$0].description } ?? (worst.depth < 0 ? "not recovered" : "—")),
            ])
        }
        return ReportTable(title: "Path summary", rowHeader: "Series",
                           columns: ["First date", "Last date", "Growth of 1", "Annualized return",
                                     "Maximum drawdown", "Peak", "Trough", "Recovery"], rows: rows)
    }

    private func tableHTML(id: String, table: ReportTable) -> String { ReportPage.table(id: id, table) }

    private var weightsSection: String {
        let cards = analyses.compactMap { analysis -> String? in
            guard let weights = analysis.series.weights else { return nil }
            return weightsCard(analysis, weights)
        }
        guard !cards.isEmpty else { return "" }
        return section(id: "section-weights", title: "Weights over time",
                       caption: "Stacked portfolio weights at each date; short positions stack below zero, "
                           + "the gap to 100% is cash.", cards: cards)
    }

    private func weightsCard(_ analysis: SeriesAnalysis, _ weights: ReportWeights) -> String {
        stackedCard(id: "chart-weights-\(analysis.position)", kind: "chart-weights", title: analysis.series.name,
                    label: "Weights of \(analysis.series.name)", days: analysis.days, names: weights.assets, rows: weights.rows,
                    unheldNoun: "asset")
    }

    private var compositionsSection: String {
        guard !report.compositions.isEmpty else { return "" }
        let cards = report.compositions.enumerated().map { k, composition in
            stackedCard(id: "chart-composition-\(k + 1)", kind: "chart-composition", title: composition.title,
                        label: composition.title, days: composition.dates.map(\.daysSinceEpoch), names: composition.bands,
                        rows: composition.rows, unheldNoun: "band", caption: composition.caption)
        }
        return section(id: "section-compositions", title: "Compositions over time",
                       caption: "Stacked shares at each date.", cards: cards)
    }

    /// A card with the stacked area chart of `rows` (one share per name) at `days`; positive shares
    /// stack upwards, negative ones downwards.
    private func stackedCard(id: String, kind: String, title: String, label: String, days allDays: [Int], names: [String],
                             rows: [[Double]], unheldNoun: String, caption: String? = nil) -> String {
        let rowCount = rows.count
        let kept = ReportAnalytics.evenlySpacedIndices(count: rowCount, maxPoints: options.maxAllocationPoints)
        let days = kept.map { allDays[$0] }
        var positiveBase = Array(repeating: 0.0, count: kept.count), negativeBase = positiveBase
        var bands: [(asset: Int, positive: ([Double], [Double])?, negative: ([Double], [Double])?)] = []
        for asset in names.indices {
            let values = kept.map { rows[$0][asset] }
            var band: (asset: Int, positive: ([Double], [Double])?, negative: ([Double], [Double])?) = (asset, nil, nil)
            if values.contains(where: { $0 > 0 }) {
                let upper = zip(positiveBase, values).map { $0 + Swift.max($1, 0) }
                band.positive = (positiveBase, upper)
                positiveBase = upper
            }
            if values.contains(where: { $0 < 0 }) {
                let lower = zip(negativeBase, values).map { $0 + Swift.min($1, 0) }
                band.negative = (lower, negativeBase)
                negativeBase = lower
            }
            bands.append(band)
        }
        let axis = ValueAxis.linear(minimum: negativeBase.min() ?? 0, maximum: Swift.max(1, positiveBase.max() ?? 1),
                                    style: .percent, target: 5, includeZero: true)
        var chart = SVGChart(id: id, kind: kind, label: label, width: Self.smallChartWidth, height: 260,
                             dateAxis: dateAxis, valueAxis: axis)
        for band in bands {
            let name = names[band.asset], color = ReportPalette.assetColor(band.asset)
            if let (lower, upper) = band.positive { chart.addBand(name: name, color: color, days: days, lower: lower, upper: upper) }
            if let (lower, upper) = band.negative { chart.addBand(name: name, color: color, days: days, lower: lower, upper: upper) }
        }
        chart.addReferenceLine(at: 1, cssClass: "reference dashed")
        chart.addReferenceLine(at: 0, cssClass: "reference")
        // Names never above zero would only clutter the legend; the caption counts them.
        let held = names.indices.filter { asset in rows.contains { $0[asset] != 0 } }
        let legend = held.map { asset in
            "<li><span class=\"swatch area\" style=\"background:\(ReportPalette.assetColor(asset))\"></span>\(esc(names[asset]))</li>"
        }.joined()
        var notes: [String] = caption.map { [$0] } ?? []
        if kept.count < rowCount { notes.append("\(kept.count) of \(rowCount) dates shown (evenly spaced).") }
        let unheld = names.count - held.count
        if unheld > 0 { notes.append("\(unheld) \(unheldNoun)\(unheld == 1 ? "" : "s") with zero weight throughout not listed.") }
        let note = notes.isEmpty ? "" : "<p class=\"caption\">\(esc(notes.joined(separator: " ")))</p>"
        return "<figure class=\"card small\">\n<figcaption>\(esc(title))</figcaption>\n\(chart.svg)\n"
            + "<ul class=\"legend compact\">\(legend)</ul>\(note)\n</figure>\n"
    }

    private var turnoverSection: String {
        let withTurnover = analyses.compactMap { analysis in analysis.series.turnover.map { (analysis, $0) } }
        guard !withTurnover.isEmpty else { return "" }
        let peak = withTurnover.map { $0.1.max()! }.max()!
        let axis = ValueAxis.linear(minimum: 0, maximum: Swift.max(peak, 1e-4), style: .percent, target: 4, includeZero: true)
        let cards = withTurnover.map { analysis, turnover -> String in
            let (days, values) = thinnedTurnover(days: analysis.days, turnover)
            var chart = SVGChart(id: "chart-turnover-\(analysis.position)", kind: "chart-turnover",
                                 label: "Turnover of \(analysis.series.name)", width: Self.smallChartWidth, height: 170,
                                 dateAxis: dateAxis, valueAxis: axis)
            chart.addBars(name: analysis.series.name, color: analysis.style.color, days: days, values: values)
            let total = turnover.reduce(0, +)
            let note = days.count < turnover.count ? "; each bar is the largest of \(turnover.count / days.count)–\((turnover.count + days.count - 1) / days.count) periods" : ""
            return "<figure class=\"card small\">\n<figcaption>\(esc(analysis.series.name))</figcaption>\n\(chart.svg)\n"
                + "<p class=\"caption\">" + (total == 0 ? "No trades in \(turnover.count) periods."
                    : "Total \(ReportFormat.fixed(100 * total, digits: 1))% over \(turnover.count) periods\(note).") + "</p>\n</figure>\n"
        }
        return section(id: "section-turnover", title: "One-way turnover per period",
                       caption: "One-way turnover at each period, Σ|Δw|/2 (the table also gives the two-way figure), on a common scale.", cards: cards)
    }

    /// At most `maxAllocationPoints` bars: the largest turnover of each equal bucket of periods, at its date.
    private func thinnedTurnover(days: [Int], _ turnover: [Double]) -> ([Int], [Double]) {
        let n = turnover.count, buckets = options.maxAllocationPoints
        guard n > buckets else { return (days, turnover) }
        var keptDays: [Int] = [], keptValues: [Double] = []
        for bucket in 0..<buckets {
            let range = (bucket * n / buckets)..<((bucket + 1) * n / buckets)
            let best = range.max { turnover[$0] < turnover[$1] }!
            keptDays.append(days[best])
            keptValues.append(turnover[best])
        }
        return (keptDays, keptValues)
    }

    // MARK: Blocks

    private var parameters: [ReportParameter] {
        let strategies = report.series.filter { $0.role == .strategy }.count
        let derived: [ReportParameter] = [
            ReportParameter(name: "Sample", value: "\(MarketDate(daysSinceEpoch: dateAxis.firstDay)) to \(MarketDate(daysSinceEpoch: dateAxis.lastDay))"),
            ReportParameter(name: "Series", value: "\(strategies) strateg\(strategies == 1 ? "y" : "ies"), \(report.series.count - strategies) benchmark(s)"),
            ReportParameter(name: "Periods per year", value: periodsPerYearText),
            ReportParameter(name: "Rolling window", value: "\(options.rollingWindow) periods"),
            ReportParameter(name: "Risk-free rate", value: "\(ReportFormat.fixed(100 * options.riskFreeRate, digits: 2))% a year"),
            ReportParameter(name: "Points per line", value: "at most \(options.maxPointsPerSeries)"),
        ]
        return report.parameters + derived
    }

    /// `252`, or `251.37` for an inferred irregular rate.
    private var periodsPerYearText: String {
        ReportFormat.fixed(options.periodsPerYear, digits: options.periodsPerYear.rounded() == options.periodsPerYear ? 0 : 2)
    }

    private var methodology: String {
        """
        <p>Equity curves show growth of one unit, W_t / W_0, for each series from its own first date. \
        Drawdown is D_t = W_t / max(W_s, s ≤ t) − 1. The rolling Sharpe ratio over the last N = \(options.rollingWindow) \
        simple returns r_t = W_t / W_(t−1) − 1 is (mean(r) − r_f / P) / sd(r) · √P with the sample standard deviation \
        (divisor N − 1), P = \(periodsPerYearText) periods a year and r_f the annual risk-free rate; \
        it is undefined (not drawn) for the first N periods and where sd(r) is below 1e−12. \
        Annualized return is (W_end / W_0)^(365.25 / days) − 1 over calendar days.</p>
        <p>Lines longer than \(options.maxPointsPerSeries) points are downsampled by min–max decimation: the first and last point and \
        the minimum and maximum of each of equal buckets are kept, so every extreme, including each series' deepest drawdown, is drawn. \
        Allocation charts show at most \(options.maxAllocationPoints) dates. The tables use the full data; \(jsonWeightsText)</p>
        """
    }

    /// What the JSON companion keeps of the weights, for the methods note.
    private var jsonWeightsText: String {
        switch options.jsonWeights {
        case .full: return "the JSON companion keeps every weight."
        case .omitted: return "the JSON companion omits the weights."
        case let .thinned(maxRows): return "the JSON companion keeps at most \(maxRows) evenly spaced weight rows per series."
        }
    }

    private func card(id: String, title: String, caption: String?, content: String) -> String {
        ReportPage.card(id: id, title: title, caption: caption, content: content)
    }

    private func section(id: String, title: String, caption: String, cards: [String]) -> String {
        ReportPage.section(id: id, title: title, caption: caption, cards: cards)
    }

    private func esc(_ text: String) -> String { ReportFormat.escaped(text) }
}
