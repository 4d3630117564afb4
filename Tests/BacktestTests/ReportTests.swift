import Foundation
import Linalg
import Market
import Testing
@testable import Backtest
#if canImport(FoundationXML)
import FoundationXML
#endif

// MARK: Helpers

/// `count` consecutive weekdays from 2001-01-01 (a Monday).
private func businessDays(_ count: Int, from start: MarketDate = MarketDate(daysSinceEpoch: 11_323)) -> [MarketDate] {
    var dates: [MarketDate] = [], day = start
    while dates.count < count {
        if day.weekday != .saturday, day.weekday != .sunday { dates.append(day) }
        day = day.adding(days: 1)
    }
    return dates
}

/// A wealth path from a deterministic wiggle: `W_t = W_{t−1} (1 + drift + amplitude sin(t · frequency))`.
private func wealthPath(_ count: Int, drift: Double, amplitude: Double, frequency: Double, crashAt: Int? = nil) -> [Double] {
    var wealth = [100.0]
    for t in 1..<count {
        let shock = t == crashAt ? -0.4 : 0
        wealth.append(wealth[t - 1] * (1 + drift + amplitude * sin(Double(t) * frequency) + shock))
    }
    return wealth
}

/// A report with two strategies (weights and turnover, one with a short position) and two benchmarks.
private func sampleReport(days: Int = 300, assets: [String] = ["Stocks", "Bonds", "Gold"]) throws -> BacktestReport {
    let dates = businessDays(days)
    let weights = (0..<days).map { t -> [Double] in
        let tilt: Double = 0.1 * sin(Double(t) / 30)
        let head: [Double] = [0.6 + tilt, 0.3 - tilt, 0.1]
        return head + Array(repeating: 0, count: assets.count - 3)
    }
    let shorting = (0..<days).map { t -> [Double] in
        let short: Double = -0.3 - 0.05 * cos(Double(t) / 40)
        return [1.2, short, 0.1] + Array(repeating: 0, count: assets.count - 3)
    }
    let turnover = (0..<days).map { t -> Double in t % 21 == 0 ? 0.05 + 0.01 * Double(t % 5) : 0 }
    return try BacktestReport(
        title: "Sample report", subtitle: "Synthetic data",
        series: [
            ReportSeries(name: "Balanced", role: .strategy, dates: dates,
                         wealth: wealthPath(days, drift: 0.0004, amplitude: 0.01, frequency: 0.7),
                         weights: ReportWeights(assets: assets, rows: weights), turnover: turnover),
            ReportSeries(name: "Long-short", role: .strategy, dates: dates,
                         wealth: wealthPath(days, drift: 0.0002, amplitude: 0.015, frequency: 1.3),
                         weights: ReportWeights(assets: assets, rows: shorting), turnover: turnover.map { $0 / 2 }),
            ReportSeries(name: "Market", role: .benchmark, dates: dates,
                         wealth: wealthPath(days, drift: 0.0003, amplitude: 0.012, frequency: 0.9)),
            ReportSeries(name: "Cash", role: .benchmark, dates: Array(dates.dropFirst(50)),
                         wealth: (0..<(days - 50)).map { t -> Double in 1 + 0.0001 * Double(t) }),
        ],
        tables: [ReportTable(title: "Metrics", rowHeader: "Strategy", columns: ["Sharpe", "Max drawdown"], rows: [
            .init(label: "Balanced", cells: [.number(0.91), .percent(-0.123)]),
            .init(label: "Long-short", cells: [.number(.nan), .percent(-0.2)]),
        ])],
        parameters: [ReportParameter(name: "Costs", value: "10 bp")],
        notes: ["Data: synthetic & deterministic."])
}

/// The `<svg …>…</svg>` blocks of a page, in order.
private func svgBlocks(_ html: String) -> [String] {
    var blocks: [String] = []
    var rest = html[...]
    while let start = rest.range(of: "<svg "), let end = rest[start.upperBound...].range(of: "</svg>") {
        blocks.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return blocks
}

/// The value of `attribute="…"` on the first tag of `element`.
private func attribute(_ name: String, of element: String) -> String? {
    guard let start = element.range(of: " \(name)=\"") else { return nil }
    let tail = element[start.upperBound...]
    return tail.range(of: "\"").map { String(tail[..<$0.lowerBound]) }
}

/// Every value of `attribute="…"` in `text`.
private func attributeValues(_ name: String, in text: String) -> [String] {
    text.components(separatedBy: " \(name)=\"").dropFirst().compactMap { $0.components(separatedBy: "\"").first }
}

/// The numbers of an SVG path `d` made of absolute M/L/Z commands, as (x, y) pairs.
private func pathPoints(_ d: String) throws -> [(x: Double, y: Double)] {
    let numbers = try d.split { "MLZ ,".contains($0) }.map { token -> Double in
        guard let value = Double(token) else { throw FixtureError(description: "path token \(token) is not a number") }
        return value
    }
    guard numbers.count % 2 == 0 else { throw FixtureError(description: "odd number of path coordinates") }
    return stride(from: 0, to: numbers.count, by: 2).map { (numbers[$0], numbers[$0 + 1]) }
}

/// Checks that tags are strictly balanced (XML rules: every element closed, properly nested).
/// Returns the first problem, or `nil`.
private func unbalancedTag(_ text: String) -> String? {
    var stack: [String] = []
    var rest = text[...]
    while let open = rest.firstIndex(of: "<") {
        guard let close = rest[open...].firstIndex(of: ">") else { return "unterminated tag" }
        let tag = rest[rest.index(after: open)..<close]
        rest = rest[rest.index(after: close)...]
        if tag.hasPrefix("!") || tag.hasPrefix("?") { continue }
        if tag.hasSuffix("/") { continue }
        let name = String(tag.split(whereSeparator: { $0 == " " || $0 == "\n" }).first ?? "")
        if name.hasPrefix("/") {
            guard stack.popLast() == String(name.dropFirst()) else { return "unexpected </\(name.dropFirst())>" }
        } else {
            stack.append(name)
        }
    }
    return stack.isEmpty ? nil : "unclosed <\(stack.last!)>"
}

/// Parses `text` with Foundation's libxml2-backed `XMLParser` (FoundationXML on Linux) and a
/// strict tag-balance check, recording any error as a test issue. `XMLDocument` is not used:
/// on Linux it recovers from errors instead of throwing; `XMLParser` reports them in `parserError`.
private func expectWellFormedXML(_ text: String, _ what: String) {
    #expect(unbalancedTag(text) == nil, "\(what): \(unbalancedTag(text) ?? "")")
    let parser = XMLParser(data: Data(text.utf8))
    let parsed = parser.parse()
    #expect(parsed && parser.parserError == nil,
            "\(what) is not well-formed XML: \(String(describing: parser.parserError)) at line \(parser.lineNumber)")
}

// MARK: Analytics against NumPy

private struct AnalyticsFixture: Decodable {
    struct MaximumDrawdown: Decodable {
        let depth: Double
        let peak_index: Int
        let trough_index: Int
    }
    struct Case: Decodable {
        let name: String
        let wealth: [Double]
        let window: Int
        let periods_per_year: Double
        let risk_free_rate: Double
        let drawdowns: [Double]
        let max_drawdown: MaximumDrawdown
        let rolling_sharpe: [Double?]
    }
    let cases: [Case]
}

@Suite("Report analytics")
struct ReportAnalyticsTests {
    /// Drawdowns and the maximum drawdown against NumPy (Scripts/fixtures/backtest_report.py); tolerance 1e-14 absolute.
    @Test func drawdownsMatchNumPy() throws {
        for item in try fixtures.load("backtest_report", as: AnalyticsFixture.self).cases {
            let drawdowns = ReportAnalytics.drawdowns(item.wealth)
            #expect(drawdowns.count == item.drawdowns.count)
            for (k, (mine, reference)) in zip(drawdowns, item.drawdowns).enumerated() {
                #expect(abs(mine - reference) <= 1e-14, "\(item.name) drawdown \(k): \(mine) vs \(reference)")
            }
            let worst = ReportAnalytics.maximumDrawdown(item.wealth)
            #expect(abs(worst.depth - item.max_drawdown.depth) <= 1e-14, "\(item.name)")
            #expect(worst.peakIndex == item.max_drawdown.peak_index, "\(item.name)")
            #expect(worst.troughIndex == item.max_drawdown.trough_index, "\(item.name)")
        }
    }

    /// Rolling Sharpe against NumPy per-window mean/std (ddof 1), including the undefined
    /// warm-up and zero-volatility entries; tolerance 1e-12 relative to max(1, |S|).
    @Test func rollingSharpeMatchesNumPy() throws {
        for item in try fixtures.load("backtest_report", as: AnalyticsFixture.self).cases {
            let sharpe = ReportAnalytics.rollingSharpe(item.wealth, window: item.window,
                                                       periodsPerYear: item.periods_per_year,
                                                       riskFreeRate: item.risk_free_rate)
            #expect(sharpe.count == item.rolling_sharpe.count)
            for (k, (mine, reference)) in zip(sharpe, item.rolling_sharpe).enumerated() {
                switch (mine, reference) {
                case (nil, nil): break
                case let (mine?, reference?):
                    #expect(abs(mine - reference) <= 1e-12 * max(1, abs(reference)), "\(item.name) index \(k): \(mine) vs \(reference)")
                default:
                    Issue.record("\(item.name) index \(k): \(String(describing: mine)) vs \(String(describing: reference))")
                }
            }
        }
    }

    /// Annualization follows the dates' frequency; an irregular calendar uses the observed rate.
    @Test func periodsPerYearFollowsTheCalendar() throws {
        #expect(ReportAnalytics.periodsPerYear(for: businessDays(30)) == 252)
        let monthEnds = try (1...24).map { try MarketDate(year: 2000 + ($0 - 1) / 12, month: ($0 - 1) % 12 + 1, day: 1).endOfMonth }
        #expect(ReportAnalytics.periodsPerYear(for: monthEnds) == 12)
        // Every 15 days: 24.35 periods a year (365.25 / 15), exactly.
        let fortnights = (0..<10).map { MarketDate(daysSinceEpoch: 15 * $0) }
        #expect(abs(ReportAnalytics.periodsPerYear(for: fortnights) - 365.25 / 15) <= 1e-12)
    }

    /// Min–max decimation keeps both ends and the global extrema, stays within budget, and
    /// returns every index when the path is short enough.
    @Test func downsamplingKeepsExtremaWithinBudget() {
        var generator = Xoshiro256StarStar(seed: 42)
        let values: [Double?] = (0..<7_800).map { _ in generator.nextUniform() }
        let kept = ReportAnalytics.downsampledIndices(values, maxPoints: 2_000)
        #expect(kept.count <= 2_000)
        #expect(kept.count >= 1_900)
        #expect(kept.first == 0 && kept.last == 7_799)
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0 < $1 })
        let minimum = values.indices.min { values[$0]! < values[$1]! }!
        let maximum = values.indices.max { values[$0]! < values[$1]! }!
        #expect(kept.contains(minimum) && kept.contains(maximum))
        #expect(ReportAnalytics.downsampledIndices(Array(values.prefix(100)), maxPoints: 2_000) == Array(0..<100))
        // With gaps, the budget still holds and a gap index survives in its bucket.
        let gapped: [Double?] = values.enumerated().map { $0.offset % 1_000 < 30 ? nil : $0.element }
        let keptGapped = ReportAnalytics.downsampledIndices(gapped, maxPoints: 2_000)
        #expect(keptGapped.count <= 2_000)
        #expect(keptGapped.contains { gapped[$0] == nil && $0 > 0 })
    }
}

// MARK: HTML

@Suite("HTML report")
struct HTMLReportTests {
    /// The whole page and each chart parse as XML (Foundation's XMLParser and a strict tag-balance
    /// check); the page has no script and loads nothing from the network.
    @Test func pageAndChartsAreWellFormed() throws {
        let html = try sampleReport().renderHTML()
        expectWellFormedXML(html, "page")
        let blocks = svgBlocks(html)
        #expect(blocks.count == 8)
        for block in blocks { expectWellFormedXML(block, attribute("id", of: block) ?? "svg") }
        #expect(!html.lowercased().contains("<script"))
        // The only URL is the SVG namespace name, which is never fetched.
        #expect(!html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"))
        #expect(!html.contains("@import") && !html.contains("url("))
    }

    /// One chart per requested section, with the documented ids, and the manifest lists them.
    @Test func oneChartPerRequestedSection() throws {
        let report = try sampleReport()
        let ids = { (html: String) in svgBlocks(html).compactMap { attribute("id", of: $0) } }
        let all = try report.renderHTML()
        let expected = ["chart-equity-linear", "chart-equity-log", "chart-drawdown", "chart-rolling-sharpe",
                        "chart-weights-1", "chart-weights-2", "chart-turnover-1", "chart-turnover-2"]
        #expect(ids(all) == expected)
        #expect(all.contains("<meta name=\"metafolio-charts\" content=\"\(expected.joined(separator: " "))\"/>"))
        #expect(all.contains("id=\"equity-scale-linear\"") && all.contains("id=\"equity-scale-log\""))
        #expect(all.contains("<table id=\"table-1\" class=\"metrics\">") && all.contains("<table id=\"table-paths\""))

        let some = try report.renderHTML(options: ReportOptions(sections: [.drawdown, .equity], equityScales: [.log]))
        #expect(ids(some) == ["chart-equity-log", "chart-drawdown"])
        #expect(!some.contains("type=\"radio\""))
        #expect(!some.contains("<table"))
        let tablesOnly = try report.renderHTML(options: ReportOptions(sections: [.tables]))
        #expect(ids(tablesOnly).isEmpty && tablesOnly.contains("class=\"metrics\""))
    }

    /// A composition becomes its own stacked chart after the series' charts, survives the JSON round
    /// trip, and bad shares, widths or dates are refused naming the chart and the row.
    @Test func compositionsRenderAsStackedCharts() throws {
        let base = try sampleReport(days: 120)
        let dates = Array(base.series[0].dates.enumerated().filter { $0.offset % 20 == 0 }.map(\.element))
        let rows = dates.indices.map { k -> [Double] in let p = Double(k) / Double(dates.count); return [1 - p, p * 0.7, p * 0.3] }
        let regimes = try ReportComposition(title: "Regimes <filtered>", caption: "probabilities", dates: dates,
                                            bands: ["calm", "normal", "stressed"], rows: rows)
        let report = try BacktestReport(title: base.title, series: base.series, tables: base.tables, compositions: [regimes])
        let html = try report.renderHTML()
        let ids = svgBlocks(html).compactMap { attribute("id", of: $0) }
        #expect(ids.last == "chart-composition-1")
        #expect(html.contains("Regimes &lt;filtered&gt;") && html.contains("section-compositions"))
        expectWellFormedXML(svgBlocks(html).last!, "composition chart")
        let decoded = try JSONDecoder().decode(BacktestReport.self, from: JSONEncoder().encode(report))
        #expect(decoded.compositions == [regimes])
        #expect(throws: ReportError.invalidWeight(series: "x", row: 1, asset: "b", value: -0.5)) {
            try ReportComposition(title: "x", caption: "", dates: Array(dates.prefix(2)), bands: ["a", "b"], rows: [[1, 0], [1.5, -0.5]])
        }
        #expect(throws: ReportError.lengthMismatch(series: "x", field: "rows", row: 0, expected: 2, actual: 1)) {
            try ReportComposition(title: "x", caption: "", dates: Array(dates.prefix(1)), bands: ["a", "b"], rows: [[1]])
        }
        #expect(throws: ReportError.unsortedDates(series: "x", index: 1, date: dates[0].description, previous: dates[1].description)) {
            try ReportComposition(title: "x", caption: "", dates: [dates[1], dates[0]], bands: ["a"], rows: [[1], [1]])
        }
    }

    /// Every path, circle and label coordinate is a finite number inside the chart's viewBox.
    @Test func coordinatesAreFiniteAndInsideTheViewBox() throws {
        for options in [ReportOptions(), ReportOptions(equityScales: [.log], rollingWindow: 5)] {
            let html = try sampleReport().renderHTML(options: options)
            for block in svgBlocks(html) {
                let id = attribute("id", of: block) ?? "?"
                let box = try #require(attribute("viewBox", of: block)).split(separator: " ").compactMap { Double($0) }
                try #require(box.count == 4)
                var points = try attributeValues("d", in: block).flatMap(pathPoints)
                let xs = attributeValues("cx", in: block) + attributeValues("x", in: block)
                let ys = attributeValues("cy", in: block) + attributeValues("y", in: block)
                #expect(xs.count == ys.count, "\(id)")
                points += zip(xs, ys).map { (Double($0) ?? .nan, Double($1) ?? .nan) }
                #expect(points.count > 20, "\(id)")
                for point in points {
                    #expect(point.x.isFinite && point.y.isFinite, "\(id): \(point)")
                    #expect(point.x >= box[0] && point.x <= box[0] + box[2], "\(id): x \(point.x)")
                    #expect(point.y >= box[1] && point.y <= box[1] + box[3], "\(id): y \(point.y)")
                }
            }
        }
    }

    /// Axis labels: years on a multi-year span, months on a short one, percents on drawdowns,
    /// growth multiples on equity.
    @Test func axisTicksShowDatesAndPercents() throws {
        let html = try sampleReport(days: 2_600).renderHTML()
        let drawdown = try #require(svgBlocks(html).first { $0.contains("id=\"chart-drawdown\"") })
        #expect(drawdown.contains(">2004</text>") && drawdown.contains(">0%</text>"))  // ~10 years: every second year
        #expect(drawdown.contains("%</text>"))
        let equity = try #require(svgBlocks(html).first { $0.contains("id=\"chart-equity-linear\"") })
        #expect(equity.contains("×</text>"))
        let short = try sampleReport(days: 200).renderHTML()
        let shortDrawdown = try #require(svgBlocks(short).first { $0.contains("id=\"chart-drawdown\"") })
        #expect(shortDrawdown.contains(" 2001</text>"))  // "Apr 2001"-style month labels
    }

    /// User strings are escaped everywhere: an asset named `<script>` appears only as text.
    @Test func userStringsAreEscaped() throws {
        let assets = ["<script>alert(1)</script>", "Bonds & \"Bills\"", "O'Neil\u{1}"]
        let dates = businessDays(40)
        let report = try BacktestReport(
            title: "<b>Title</b>", subtitle: "a < b",
            series: [ReportSeries(name: "<img src=x>", role: .strategy, dates: dates,
                                  wealth: wealthPath(40, drift: 0.001, amplitude: 0.01, frequency: 1),
                                  weights: ReportWeights(assets: assets, rows: Array(repeating: [0.5, 0.3, 0.2], count: 40)))],
            tables: [ReportTable(title: "</table>", columns: ["<th>"], rows: [.init(label: "<tr>", cells: [.text("&amp;")])])],
            parameters: [ReportParameter(name: "<dt>", value: "<dd>")], notes: ["</section><script>x</script>"])
        let html = try report.renderHTML()
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("Bonds &amp; &quot;Bills&quot;"))
        #expect(html.contains("O&#39;Neil\u{FFFD}"))
        #expect(html.contains("&lt;img src=x&gt;") && !html.contains("<img"))
        #expect(html.contains("&amp;amp;"))
        #expect(html.contains("<title>&lt;b&gt;Title&lt;/b&gt;</title>"))
        expectWellFormedXML(html, "page with hostile strings")
    }

    /// Thirty years of daily data: every line holds at most 2000 points, the deepest drawdown is
    /// still drawn (the path reaches the trough marker), and the page stays under 1.5 MB.
    @Test func longDailyHistoryIsDownsampled() throws {
        let days = 30 * 261
        let dates = businessDays(days)
        let assets = (1...20).map { "Asset \($0)" }
        let crash = 4_321
        var series: [ReportSeries] = []
        for k in 0..<5 {
            let wealth = wealthPath(days, drift: 0.0003, amplitude: 0.01, frequency: 0.3 + 0.17 * Double(k),
                                    crashAt: k == 0 ? crash : nil)
            let weights = k < 2 ? ReportWeights(assets: assets, rows: (0..<days).map { t in
                assets.indices.map { i in (1 + 0.5 * sin(Double(t + 97 * i) / 200)) / 20 }
            }) : nil
            series.append(try ReportSeries(name: "Series \(k)", role: k < 3 ? .strategy : .benchmark, dates: dates,
                                           wealth: wealth, weights: weights,
                                           turnover: k < 2 ? (0..<days).map { t -> Double in t % 21 == 0 ? 0.03 : 0 } : nil))
        }
        let report = try BacktestReport(title: "Thirty years", series: series)
        let html = try report.renderHTML()
        #expect(html.utf8.count < 1_500_000, "page is \(html.utf8.count) bytes")
        for block in svgBlocks(html) {
            for d in attributeValues("d", in: block) where d.contains(" ") {
                #expect(try pathPoints(d).count <= 2_000)
            }
        }
        let drawdown = try #require(svgBlocks(html).first { $0.contains("id=\"chart-drawdown\"") })
        let firstLine = try #require(drawdown.components(separatedBy: "<path class=\"line\" data-series=\"Series 0\"").dropFirst().first)
        let deepestDrawn = try pathPoints(try #require(attribute("d", of: firstLine))).map(\.y).max()!
        let marker = try #require(drawdown.components(separatedBy: "<circle").dropFirst().first)
        #expect(Double(try #require(attribute("cy", of: marker))) == deepestDrawn)
        // The crash (−40 % in one day) makes the deepest drawdown; the wiggle may extend it a few days.
        let worst = ReportAnalytics.maximumDrawdown(series[0].wealth)
        #expect(worst.troughIndex >= crash && worst.troughIndex < crash + 30)
    }

    /// The rolling-Sharpe window and annualization are configurable and reported in the page.
    @Test func rollingWindowIsConfigurable() throws {
        let report = try sampleReport()
        let html = try report.renderHTML(options: ReportOptions(periodsPerYear: 260, rollingWindow: 63, riskFreeRate: 0.02))
        #expect(html.contains("Rolling Sharpe ratio, 63-period window"))
        #expect(html.contains("<dt>Periods per year</dt><dd>260</dd>"))
        #expect(html.contains("<dt>Risk-free rate</dt><dd>2.00% a year</dd>"))
        let json = try JSONDecoder().decode(ReportDocument.self, from: report.renderJSON(options: ReportOptions(rollingWindow: 63)))
        #expect(json.options.rollingWindow == 63 && json.options.periodsPerYear == 252)
    }
}

// MARK: JSON and files

@Suite("Report JSON and files")
struct ReportFileTests {
    /// The JSON companion decodes to the same report, lists the same charts, and re-renders the same page;
    /// its summaries agree with the analytics (exactly: same computation on the same data).
    @Test func jsonRoundTrips() throws {
        let report = try sampleReport()
        let options = ReportOptions(rollingWindow: 40)
        let document = try JSONDecoder().decode(ReportDocument.self, from: report.renderJSON(options: options))
        #expect(document.format == ReportDocument.formatName && document.version == 1)
        #expect(document.report == report)
        #expect(try document.report.renderHTML(options: options) == report.renderHTML(options: options))
        #expect(document.charts == svgBlocks(try report.renderHTML(options: options)).compactMap { attribute("id", of: $0) })
        #expect(document.summaries.map(\.name) == report.series.map(\.name))
        let cash = try #require(document.summaries.last)
        #expect(cash.maximumDrawdown == 0 && cash.drawdownRecovery == nil)
        #expect(abs(cash.growth - (1 + 0.0001 * 249)) <= 1e-12)
        #expect(try report.renderJSON(options: options) == report.renderJSON(options: options))
    }

    /// `jsonWeights`: the default keeps 300 rows (≤ 600) in place; `.thinned(maxRows: 40)` moves 40
    /// evenly spaced rows (first and last included, the values unchanged) to `weightSamples` and
    /// leaves wealth and turnover whole; `.omitted` drops them; fewer than 2 rows is an option error.
    @Test func jsonWeightsAreThinnedOrOmitted() throws {
        let report = try sampleReport()
        let full = try JSONDecoder().decode(ReportDocument.self, from: report.renderJSON())
        #expect(full.report == report && full.weightSamples == nil)
        let thinned = try JSONDecoder().decode(ReportDocument.self,
                                               from: report.renderJSON(options: ReportOptions(jsonWeights: .thinned(maxRows: 40))))
        #expect(thinned.report.series.allSatisfy { $0.weights == nil })
        #expect(thinned.report.series.map(\.wealth) == report.series.map(\.wealth))
        #expect(thinned.report.series.map(\.turnover) == report.series.map(\.turnover))
        let samples = try #require(thinned.weightSamples)
        #expect(samples.map(\.series) == ["Balanced", "Long-short"])
        for sample in samples {
            let original = try #require(report.series.first { $0.name == sample.series }?.weights)
            #expect(sample.indices.count == 40 && sample.indices.first == 0 && sample.indices.last == 299)
            #expect(sample.rows == sample.indices.map { original.rows[$0] })
            #expect(sample.assets == original.assets)
        }
        let omitted = try JSONDecoder().decode(ReportDocument.self,
                                               from: report.renderJSON(options: ReportOptions(jsonWeights: .omitted)))
        #expect(omitted.report.series.allSatisfy { $0.weights == nil } && omitted.weightSamples == nil)
        #expect(omitted.options.jsonWeights == .omitted)
        // A document written before the option existed has no "jsonWeights" key: it kept every weight.
        var object = try #require(try JSONSerialization.jsonObject(with: report.renderJSON()) as? [String: Any])
        var options = try #require(object["options"] as? [String: Any])
        options.removeValue(forKey: "jsonWeights")
        object["options"] = options
        let older = try JSONDecoder().decode(ReportDocument.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(older.options.jsonWeights == .full && older.report == report)
        let error = #expect(throws: ReportError.self) { try report.renderJSON(options: ReportOptions(jsonWeights: .thinned(maxRows: 1))) }
        #expect(error == .invalidOption(name: "jsonWeights", message: "1 rows; at least 2 are needed"))
    }

    /// Decoding validates: a JSON series with a non-positive wealth value is rejected with its index.
    @Test func decodingValidates() throws {
        let json = #"{"title":"t","series":[{"name":"A","role":"strategy","dates":["2020-01-01","2020-01-02"],"wealth":[1,-2]}]}"#
        let error = #expect(throws: ReportError.self) {
            try JSONDecoder().decode(BacktestReport.self, from: Data(json.utf8))
        }
        #expect(error == .invalidWealth(series: "A", index: 1, value: -2))
    }

    /// `write(toDirectory:)` creates the directory and both files; a blocked path is a typed error naming it.
    @Test func writesBothFilesAndReportsFailures() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("metafolio-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let report = try sampleReport(days: 60)
        let files = try report.write(toDirectory: root.appendingPathComponent("nested/out"))
        #expect(files.html.lastPathComponent == "report.html" && files.json.lastPathComponent == "report.json")
        #expect(try String(contentsOf: files.html, encoding: .utf8) == report.renderHTML())
        #expect(try Data(contentsOf: files.json) == report.renderJSON())

        let blocker = root.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let error = #expect(throws: ReportError.self) {
            try report.write(toDirectory: blocker.appendingPathComponent("sub"))
        }
        guard case let .writeFailed(path, _)? = error else {
            Issue.record("expected writeFailed, got \(String(describing: error))")
            return
        }
        #expect(path.hasSuffix("file/sub"))
    }
}

// MARK: Validation

@Suite("Report validation")
struct ReportValidationTests {
    private let dates = businessDays(5)

    private func throwsError(_ body: () throws -> Void, _ matches: (ReportError) -> Bool) -> Bool {
        do {
            try body()
            return false
        } catch let error as ReportError {
            return matches(error)
        } catch {
            return false
        }
    }

    @Test func seriesErrorsNameTheSeriesAndIndex() {
        let wealth = [1.0, 1.1, 1.2, 1.3, 1.4]
        #expect(throwsError({ _ = try ReportSeries(name: "A", role: .strategy, dates: dates, wealth: [1, 2]) }) {
            if case .lengthMismatch("A", "wealth", nil, 5, 2) = $0 { return true }
            return false
        })
        #expect(throwsError({ _ = try ReportSeries(name: "A", role: .strategy, dates: [dates[0]], wealth: [1]) }) {
            if case .seriesTooShort("A", 1) = $0 { return true }
            return false
        })
        for (bad, index) in [(Double.nan, 2), (.infinity, 3), (0, 1), (-1, 4)] {
            var values = wealth
            values[index] = bad
            #expect(throwsError({ _ = try ReportSeries(name: "B", role: .benchmark, dates: dates, wealth: values) }) {
                if case .invalidWealth("B", index, _) = $0 { return true }
                return false
            }, "wealth \(bad) at \(index)")
        }
        for (order, index) in [([0, 1, 3, 2, 4], 3), ([0, 1, 1, 3, 4], 2)] {
            #expect(throwsError({ _ = try ReportSeries(name: "C", role: .strategy, dates: order.map { dates[$0] }, wealth: wealth) }) {
                if case .unsortedDates("C", index, _, _) = $0 { return true }
                return false
            }, "dates \(order)")
        }
    }

    @Test func weightAndTurnoverErrorsNameTheRowAndAsset() {
        let wealth = [1.0, 1.1, 1.2, 1.3, 1.4]
        let good = Array(repeating: [0.5, 0.5], count: 5)
        let make = { (weights: ReportWeights?, turnover: [Double]?) in
            _ = try ReportSeries(name: "W", role: .strategy, dates: self.dates, wealth: wealth, weights: weights, turnover: turnover)
        }
        #expect(throwsError({ try make(ReportWeights(assets: ["x", "y"], rows: Array(good.prefix(4))), nil) }) {
            if case .lengthMismatch("W", "weights", nil, 5, 4) = $0 { return true }
            return false
        })
        var ragged = good
        ragged[3] = [1]
        #expect(throwsError({ try make(ReportWeights(assets: ["x", "y"], rows: ragged), nil) }) {
            if case .lengthMismatch("W", "weights", 3, 2, 1) = $0 { return true }
            return false
        })
        var infinite = good
        infinite[2][1] = .infinity
        #expect(throwsError({ try make(ReportWeights(assets: ["x", "y"], rows: infinite), nil) }) {
            if case .invalidWeight("W", 2, "y", _) = $0 { return true }
            return false
        })
        #expect(throwsError({ try make(ReportWeights(assets: ["x", "x"], rows: good), nil) }) {
            if case .duplicateAssetName("W", "x") = $0 { return true }
            return false
        })
        #expect(throwsError({ try make(nil, [0, 0, -0.1, 0, 0]) }) {
            if case .invalidTurnover("W", 2, _) = $0 { return true }
            return false
        })
        #expect(throwsError({ try make(nil, [0, 0]) }) {
            if case .lengthMismatch("W", "turnover", nil, 5, 2) = $0 { return true }
            return false
        })
    }

    @Test func reportAndOptionErrors() throws {
        let series = try ReportSeries(name: "S", role: .strategy, dates: dates, wealth: [1, 2, 3, 4, 5])
        #expect(throwsError({ _ = try BacktestReport(title: "t", series: []) }) { $0 == .noSeries })
        #expect(throwsError({ _ = try BacktestReport(title: "t", series: [series, series]) }) { $0 == .duplicateSeriesName(name: "S") })
        let ragged = ReportTable(title: "M", columns: ["a", "b"], rows: [.init(label: "r0", cells: [.text("1"), .text("2")]),
                                                                        .init(label: "r1", cells: [.text("1")])])
        #expect(throwsError({ _ = try BacktestReport(title: "t", series: [series], tables: [ragged]) }) {
            $0 == .tableShape(table: "M", row: 1, expected: 2, actual: 1)
        })
        let report = try BacktestReport(title: "t", series: [series])
        let badOptions: [(ReportOptions, String)] = [
            (ReportOptions(rollingWindow: 1), "rollingWindow"), (ReportOptions(periodsPerYear: 0), "periodsPerYear"),
            (ReportOptions(periodsPerYear: .nan), "periodsPerYear"), (ReportOptions(riskFreeRate: .infinity), "riskFreeRate"),
            (ReportOptions(maxPointsPerSeries: 3), "maxPointsPerSeries"), (ReportOptions(equityScales: []), "equityScales"),
        ]
        for (options, name) in badOptions {
            #expect(throwsError({ _ = try report.renderHTML(options: options) }) {
                if case .invalidOption(name, _) = $0 { return true }
                return false
            }, "\(name)")
        }
        // A window longer than the series is not an error: the chart says no value is defined.
        #expect(try report.renderHTML(options: ReportOptions(rollingWindow: 10)).contains("no value is defined"))
    }

    /// Table cells keep finite values only and format non-finite numbers readably.
    @Test func cellsFormatNumbers() {
        #expect(ReportTable.Cell.percent(0.12346).text == "12.35%")
        #expect(ReportTable.Cell.percent(-0.5, digits: 0).text == "−50%")
        #expect(ReportTable.Cell.number(1.23456, digits: 3).text == "1.235")
        #expect(ReportTable.Cell.number(-0.0001).text == "0.00")
        #expect(ReportTable.Cell.number(.nan).text == "n/a" && ReportTable.Cell.number(.nan).value == nil)
        #expect(ReportTable.Cell.percent(-.infinity).text == "−∞")
    }
}
