import Market

/// How a ``BacktestReport`` is rendered: sections, scales, annualization and
/// the downsampling budget.
public struct ReportOptions: Sendable, Hashable, Codable {
    /// A chart or table section of the HTML report, in page order.
    public enum Section: String, Sendable, Hashable, Codable, CaseIterable {
        /// Growth of one unit for every series (`chart-equity-linear`, `chart-equity-log`).
        case equity
        /// Drawdown from the running peak (`chart-drawdown`).
        case drawdown
        /// Rolling annualized Sharpe ratio (`chart-rolling-sharpe`).
        case rollingSharpe = "rolling-sharpe"
        /// The report's tables (metrics first).
        case tables
        /// Stacked weights per series that has weights (`chart-weights-<k>`).
        case weights
        /// Turnover per period per series that has turnover (`chart-turnover-<k>`).
        case turnover
        /// The report's compositions, stacked shares over time (`chart-composition-<k>`).
        case compositions
    }

    /// The y-axis scale of the equity chart.
    public enum Scale: String, Sendable, Hashable, Codable, CaseIterable {
        /// Equal distances are equal wealth differences.
        case linear
        /// Equal distances are equal growth factors (base-10 logarithm).
        case log
    }

    /// How much of each series' weights the JSON companion keeps (the HTML page is not affected).
    public enum JSONWeights: Sendable, Hashable, Codable {
        /// Every row, in the report's series: the document re-renders the same page.
        case full
        /// No weights: the series carry none and ``ReportDocument/weightSamples`` is empty.
        case omitted
        /// Series with at most `maxRows` weight rows keep them; longer ones move
        /// `maxRows` evenly spaced rows (``ReportAnalytics/evenlySpacedIndices(count:maxPoints:)``)
        /// to ``ReportDocument/weightSamples`` and carry none in the report, so a re-rendered page
        /// lacks their weight charts. `maxRows ≥ 2`.
        case thinned(maxRows: Int)
    }

    /// The sections to render, in page order of ``Section/allCases`` (duplicates are ignored).
    public var sections: [Section]
    /// The equity chart scales; with both, the page shows a Linear/Log toggle (pure CSS)
    /// and prints both charts.
    public var equityScales: [Scale]
    /// Periods per year for annualizing the rolling Sharpe ratio, or `nil` to infer it
    /// from the first series' dates (see ``ReportAnalytics/periodsPerYear(for:)``).
    public var periodsPerYear: Double?
    /// Rolling-Sharpe window in periods (returns), or `nil` for one year of periods
    /// (`periodsPerYear` rounded, at least 2).
    public var rollingWindow: Int?
    /// Annual risk-free rate subtracted in the rolling Sharpe ratio (0.02 = 2 % a year),
    /// converted to `riskFreeRate / periodsPerYear` per period.
    public var riskFreeRate: Double
    /// Most points drawn per line (equity, drawdown, rolling Sharpe) per series; longer
    /// paths are downsampled by ``ReportAnalytics/downsampledIndices(_:maxPoints:)``, which
    /// keeps each bucket's minimum and maximum (so the deepest drawdown is always drawn).
    public var maxPointsPerSeries: Int
    /// Most dates drawn in a stacked-weights or turnover chart; longer histories are
    /// thinned (weights: evenly spaced rows; turnover: the largest value in each bucket).
    public var maxAllocationPoints: Int
    /// The weights kept in the JSON companion. Default ``JSONWeights/thinned(maxRows:)`` with 600
    /// rows, the dates the allocation charts draw by default: 30 years of daily weights of a few
    /// strategies would otherwise make the file several megabytes.
    public var jsonWeights: JSONWeights

    /// Options with every section, both equity scales, inferred annualization, a one-year
    /// rolling window, no risk-free rate, 2000 points per line, 600 allocation dates and at most
    /// 600 weight rows per series in the JSON companion.
    public init(sections: [Section] = Section.allCases, equityScales: [Scale] = [.linear, .log],
                periodsPerYear: Double? = nil, rollingWindow: Int? = nil, riskFreeRate: Double = 0,
                maxPointsPerSeries: Int = 2000, maxAllocationPoints: Int = 600,
                jsonWeights: JSONWeights = .thinned(maxRows: 600)) {
        self.sections = sections
        self.equityScales = equityScales
        self.periodsPerYear = periodsPerYear
        self.rollingWindow = rollingWindow
        self.riskFreeRate = riskFreeRate
        self.maxPointsPerSeries = maxPointsPerSeries
        self.maxAllocationPoints = maxAllocationPoints
        self.jsonWeights = jsonWeights
    }

    /// The options with annualization and window made concrete for `report`.
    ///
    /// - Throws: ``ReportError/invalidOption(name:message:)`` naming the first option out of range.
    func resolved(for report: BacktestReport) throws -> ResolvedReportOptions {
        if let periodsPerYear, !(periodsPerYear.isFinite && periodsPerYear > 0) {
            throw ReportError.invalidOption(name: "periodsPerYear", message: "\(periodsPerYear) is not a positive number")
        }
        let annualization = periodsPerYear ?? ReportAnalytics.periodsPerYear(for: report.series[0].dates)
        let window = rollingWindow ?? Swift.max(2, Int(annualization.rounded()))
        guard window >= 2 else {
            throw ReportError.invalidOption(name: "rollingWindow", message: "\(window) periods; at least 2 are needed")
        }
        guard riskFreeRate.isFinite else {
            throw ReportError.invalidOption(name: "riskFreeRate", message: "\(riskFreeRate) is not finite")
        }
        guard maxPointsPerSeries >= 16 else {
            throw ReportError.invalidOption(name: "maxPointsPerSeries", message: "\(maxPointsPerSeries); at least 16 are needed")
        }
        guard maxAllocationPoints >= 16 else {
            throw ReportError.invalidOption(name: "maxAllocationPoints", message: "\(maxAllocationPoints); at least 16 are needed")
        }
        if case let .thinned(maxRows) = jsonWeights, maxRows < 2 {
            throw ReportError.invalidOption(name: "jsonWeights", message: "\(maxRows) rows; at least 2 are needed")
        }
        if sections.contains(.equity), equityScales.isEmpty {
            throw ReportError.invalidOption(name: "equityScales", message: "the equity section needs at least one scale")
        }
        var scales: [Scale] = []
        for scale in equityScales where !scales.contains(scale) { scales.append(scale) }
        return ResolvedReportOptions(
            sections: Section.allCases.filter(sections.contains), equityScales: scales,
            periodsPerYear: annualization, rollingWindow: window, riskFreeRate: riskFreeRate,
            maxPointsPerSeries: maxPointsPerSeries, maxAllocationPoints: maxAllocationPoints, jsonWeights: jsonWeights)
    }
}

/// ``ReportOptions`` with every default made concrete; recorded in the JSON companion.
public struct ResolvedReportOptions: Sendable, Hashable, Codable {
    /// The rendered sections, in page order.
    public let sections: [ReportOptions.Section]
    /// The equity scales, without duplicates, in the requested order.
    public let equityScales: [ReportOptions.Scale]
    /// Periods per year used for annualization.
    public let periodsPerYear: Double
    /// Rolling-Sharpe window in periods.
    public let rollingWindow: Int
    /// Annual risk-free rate.
    public let riskFreeRate: Double
    /// Most points per line.
    public let maxPointsPerSeries: Int
    /// Most dates per allocation chart.
    public let maxAllocationPoints: Int
    /// The weights kept in the JSON companion.
    public let jsonWeights: ReportOptions.JSONWeights
}

extension ResolvedReportOptions {
    private enum CodingKeys: String, CodingKey {
        case sections, equityScales, periodsPerYear, rollingWindow, riskFreeRate, maxPointsPerSeries, maxAllocationPoints,
             jsonWeights
    }

    /// Decodes the options; documents written before ``ReportOptions/jsonWeights`` existed kept every
    /// weight, so a missing `jsonWeights` reads as ``ReportOptions/JSONWeights/full``.
    ///
    /// - Throws: `DecodingError` for a missing or mistyped key.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(sections: try container.decode([ReportOptions.Section].self, forKey: .sections),
                  equityScales: try container.decode([ReportOptions.Scale].self, forKey: .equityScales),
                  periodsPerYear: try container.decode(Double.self, forKey: .periodsPerYear),
                  rollingWindow: try container.decode(Int.self, forKey: .rollingWindow),
                  riskFreeRate: try container.decode(Double.self, forKey: .riskFreeRate),
                  maxPointsPerSeries: try container.decode(Int.self, forKey: .maxPointsPerSeries),
                  maxAllocationPoints: try container.decode(Int.self, forKey: .maxAllocationPoints),
                  jsonWeights: try container.decodeIfPresent(ReportOptions.JSONWeights.self, forKey: .jsonWeights) ?? .full)
    }
}
