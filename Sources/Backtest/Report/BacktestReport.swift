import Market

/// The data of one backtest report: wealth paths of strategies and benchmarks,
/// optional allocations and turnover, tables of formatted metrics, the
/// parameters that produced them and free-form notes.
///
/// The model is deliberately independent of the engine's result types: anything
/// that yields dated wealth paths can be reported. Render it with
/// ``renderHTML(options:)``, encode it with ``renderJSON(options:)``, or write
/// both files with ``write(toDirectory:options:)``.
///
/// A report is validated when it is built and when it is decoded, so every
/// report value that exists can be rendered.
public struct BacktestReport: Sendable, Hashable, Codable {
    /// The page title.
    public let title: String
    /// A line under the title (for example the universe and period), or `nil`.
    public let subtitle: String?
    /// The wealth paths, in legend order. Names are unique.
    public let series: [ReportSeries]
    /// Tables of formatted numbers (the first is usually the metrics table), in page order.
    public let tables: [ReportTable]
    /// The parameters that produced the results (name, value), in display order.
    public let parameters: [ReportParameter]
    /// Free-form notes shown at the end (data sources, caveats), one paragraph each.
    public let notes: [String]
    /// Stacked shares over time (regime probabilities, mixture weights, class exposures), each a chart.
    public let compositions: [ReportComposition]

    /// A validated report.
    ///
    /// - Throws: ``ReportError/noSeries`` when `series` is empty,
    ///   ``ReportError/duplicateSeriesName(name:)`` when two series share a name, and
    ///   ``ReportError/tableShape(table:row:expected:actual:)`` for a ragged table.
    ///   Each series was validated by its own initializer.
    public init(title: String, subtitle: String? = nil, series: [ReportSeries], tables: [ReportTable] = [],
                parameters: [ReportParameter] = [], notes: [String] = [], compositions: [ReportComposition] = []) throws {
        guard !series.isEmpty else { throw ReportError.noSeries }
        var seen = Set<String>()
        for item in series where !seen.insert(item.name).inserted {
            throw ReportError.duplicateSeriesName(name: item.name)
        }
        for table in tables { try table.validate() }
        self.title = title
        self.subtitle = subtitle
        self.series = series
        self.tables = tables
        self.parameters = parameters
        self.notes = notes
        self.compositions = compositions
    }

    private enum CodingKeys: String, CodingKey {
        case title, subtitle, series, tables, parameters, notes, compositions
    }

    /// Decodes and validates a report.
    ///
    /// - Throws: `DecodingError` for malformed JSON, or the ``ReportError`` of ``init(title:subtitle:series:tables:parameters:notes:)``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            title: container.decode(String.self, forKey: .title),
            subtitle: container.decodeIfPresent(String.self, forKey: .subtitle),
            series: container.decode([ReportSeries].self, forKey: .series),
            tables: container.decodeIfPresent([ReportTable].self, forKey: .tables) ?? [],
            parameters: container.decodeIfPresent([ReportParameter].self, forKey: .parameters) ?? [],
            notes: container.decodeIfPresent([String].self, forKey: .notes) ?? [],
            compositions: container.decodeIfPresent([ReportComposition].self, forKey: .compositions) ?? [])
    }

    /// Strategies first, then benchmarks, each in the given order.
    var seriesInPlotOrder: [ReportSeries] {
        series.filter { $0.role == .strategy } + series.filter { $0.role == .benchmark }
    }
}

/// Shares that stack to a whole at each date, drawn as a stacked area chart: the regime
/// probabilities of a regime model, the mixture weights of a learned allocator, its class exposures.
public struct ReportComposition: Sendable, Hashable, Codable {
    /// The chart's title.
    public let title: String
    /// One line under the chart saying what the shares are.
    public let caption: String
    /// The dates, ascending.
    public let dates: [MarketDate]
    /// The name of each band, bottom first.
    public let bands: [String]
    /// One row per date, one non-negative finite share per band.
    public let rows: [[Double]]

    /// A validated composition.
    ///
    /// - Throws: ``ReportError/lengthMismatch(series:field:row:expected:actual:)`` for a row count or
    ///   width that does not match, ``ReportError/invalidWeight(series:row:asset:value:)`` for a
    ///   negative or non-finite share, and ``ReportError/unsortedDates(series:index:date:previous:)``.
    public init(title: String, caption: String, dates: [MarketDate], bands: [String], rows: [[Double]]) throws {
        guard rows.count == dates.count else {
            throw ReportError.lengthMismatch(series: title, field: "rows", row: nil, expected: dates.count, actual: rows.count)
        }
        for (k, row) in rows.enumerated() {
            guard row.count == bands.count else {
                throw ReportError.lengthMismatch(series: title, field: "rows", row: k, expected: bands.count, actual: row.count)
            }
            if let bad = row.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw ReportError.invalidWeight(series: title, row: k, asset: bands[bad], value: row[bad])
            }
        }
        if let k = dates.indices.dropFirst().first(where: { dates[$0] <= dates[$0 - 1] }) {
            throw ReportError.unsortedDates(series: title, index: k, date: dates[k].description, previous: dates[k - 1].description)
        }
        self.title = title
        self.caption = caption
        self.dates = dates
        self.bands = bands
        self.rows = rows
    }
}

/// One dated wealth path of a report: a strategy or a benchmark.
public struct ReportSeries: Sendable, Hashable, Codable {
    /// What the series is compared as.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        /// A strategy under evaluation (solid line, full colour).
        case strategy
        /// A reference the strategies are compared with (dashed line, muted colour).
        case benchmark
    }

    /// The display name (legend, table, tooltips); unique within a report.
    public let name: String
    /// Strategy or benchmark.
    public let role: Role
    /// Observation dates, strictly increasing.
    public let dates: [MarketDate]
    /// Portfolio value at each date, in any currency unit (finite, > 0). Charts show
    /// growth of one unit, `wealth[t] / wealth[0]`, so the unit does not matter.
    public let wealth: [Double]
    /// Portfolio weights at each date (after rebalancing), or `nil`.
    public let weights: ReportWeights?
    /// One-way turnover of each period, `Σ_i |w_i,after − w_i,before| / 2` as a
    /// fraction of wealth (0.1 = 10 %), aligned with `dates`, or `nil`.
    public let turnover: [Double]?

    /// A validated series.
    ///
    /// - Parameters:
    ///   - weights: one row per date, one column per asset; any finite values
    ///     (negative weights are short positions and are stacked below zero).
    ///   - turnover: one value per date, finite and non-negative.
    /// - Throws: ``ReportError/seriesTooShort(series:count:)``,
    ///   ``ReportError/lengthMismatch(series:field:row:expected:actual:)``,
    ///   ``ReportError/unsortedDates(series:index:date:previous:)``,
    ///   ``ReportError/invalidWealth(series:index:value:)``,
    ///   ``ReportError/invalidWeight(series:row:asset:value:)``,
    ///   ``ReportError/duplicateAssetName(series:asset:)`` or
    ///   ``ReportError/invalidTurnover(series:index:value:)``, naming the first offending index.
    public init(name: String, role: Role, dates: [MarketDate], wealth: [Double], weights: ReportWeights? = nil,
                turnover: [Double]? = nil) throws {
        guard wealth.count == dates.count else {
            throw ReportError.lengthMismatch(series: name, field: "wealth", row: nil, expected: dates.count, actual: wealth.count)
        }
        guard dates.count >= 2 else { throw ReportError.seriesTooShort(series: name, count: dates.count) }
        for k in dates.indices.dropFirst() where dates[k] <= dates[k - 1] {
            throw ReportError.unsortedDates(series: name, index: k, date: dates[k].description,
                                            previous: dates[k - 1].description)
        }
        for (k, value) in wealth.enumerated() where !(value.isFinite && value > 0) {
            throw ReportError.invalidWealth(series: name, index: k, value: value)
        }
        if let weights {
            try weights.validate(series: name, dateCount: dates.count)
        }
        if let turnover {
            guard turnover.count == dates.count else {
                throw ReportError.lengthMismatch(series: name, field: "turnover", row: nil, expected: dates.count,
                                                 actual: turnover.count)
            }
            for (k, value) in turnover.enumerated() where !(value.isFinite && value >= 0) {
                throw ReportError.invalidTurnover(series: name, index: k, value: value)
            }
        }
        self.name = name
        self.role = role
        self.dates = dates
        self.wealth = wealth
        self.weights = weights
        self.turnover = turnover
    }

    private enum CodingKeys: String, CodingKey {
        case name, role, dates, wealth, weights, turnover
    }

    /// Decodes and validates a series.
    ///
    /// - Throws: `DecodingError` for malformed JSON, or the ``ReportError`` of
    ///   ``init(name:role:dates:wealth:weights:turnover:)``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            name: container.decode(String.self, forKey: .name),
            role: container.decode(Role.self, forKey: .role),
            dates: container.decode([MarketDate].self, forKey: .dates),
            wealth: container.decode([Double].self, forKey: .wealth),
            weights: container.decodeIfPresent(ReportWeights.self, forKey: .weights),
            turnover: container.decodeIfPresent([Double].self, forKey: .turnover))
    }
}

/// Portfolio weights over time: one row per date, one column per asset.
///
/// Rows are not required to sum to one: the remainder is cash (or leverage) and
/// is shown as the gap between the stack and 100 %.
public struct ReportWeights: Sendable, Hashable, Codable {
    /// Asset names, one per column.
    public let assets: [String]
    /// `rows[t][i]` is the weight of `assets[i]` at the series' date `t`, as a fraction of wealth.
    public let rows: [[Double]]

    /// Weights with the given asset names and rows (validated when attached to a ``ReportSeries``).
    public init(assets: [String], rows: [[Double]]) {
        self.assets = assets
        self.rows = rows
    }

    /// Checks the shape against `dateCount` dates and that every weight is finite.
    func validate(series: String, dateCount: Int) throws {
        guard rows.count == dateCount else {
            throw ReportError.lengthMismatch(series: series, field: "weights", row: nil, expected: dateCount, actual: rows.count)
        }
        var seen = Set<String>()
        for asset in assets where !seen.insert(asset).inserted {
            throw ReportError.duplicateAssetName(series: series, asset: asset)
        }
        for (t, row) in rows.enumerated() {
            guard row.count == assets.count else {
                throw ReportError.lengthMismatch(series: series, field: "weights", row: t, expected: assets.count,
                                                 actual: row.count)
            }
            for (i, value) in row.enumerated() where !value.isFinite {
                throw ReportError.invalidWeight(series: series, row: t, asset: assets[i], value: value)
            }
        }
    }
}

/// A table of preformatted values: ordered columns, ordered labelled rows.
///
/// Numbers are formatted by the caller (``ReportTable/Cell`` keeps the raw value
/// next to its text), so the report shows exactly what the caller chose.
public struct ReportTable: Sendable, Hashable, Codable {
    /// One labelled row of cells.
    public struct Row: Sendable, Hashable, Codable {
        /// The row label (first column), for example a series name or a metric name.
        public let label: String
        /// One cell per column of the table.
        public let cells: [Cell]

        /// A row with a label and its cells.
        public init(label: String, cells: [Cell]) {
            self.label = label
            self.cells = cells
        }
    }

    /// One cell: the text shown and, for numbers, the value it was formatted from.
    public struct Cell: Sendable, Hashable, Codable {
        /// The text shown in the table.
        public let text: String
        /// The finite number behind `text`, or `nil` for text cells and non-finite numbers.
        public let value: Double?

        /// A cell showing `text` with an optional underlying `value` (kept only when finite).
        public init(text: String, value: Double? = nil) {
            self.text = text
            self.value = value.flatMap { $0.isFinite ? $0 : nil }
        }

        /// A text cell.
        public static func text(_ text: String) -> Cell { Cell(text: text) }

        /// `value` with `digits` decimals (`1.2346` for 1.23456 and 4 digits).
        /// Non-finite values read `∞`, `−∞` or `n/a` and keep no value.
        public static func number(_ value: Double, digits: Int = 2) -> Cell {
            Cell(text: ReportFormat.fixed(value, digits: digits), value: value)
        }

        /// `value` as a percentage with `digits` decimals (`12.35%` for 0.12345 and 2 digits).
        /// Non-finite values read `∞`, `−∞` or `n/a` and keep no value.
        public static func percent(_ value: Double, digits: Int = 2) -> Cell {
            guard value.isFinite else { return number(value) }
            return Cell(text: ReportFormat.fixed(100 * value, digits: digits) + "%", value: value)
        }
    }

    /// The table caption, for example `Performance metrics`.
    public let title: String
    /// Column headers after the row-label column.
    public let columns: [String]
    /// The rows, in display order.
    public let rows: [Row]
    /// The header of the row-label column (for example `Strategy`).
    public let rowHeader: String

    /// A table; validated when the report is built.
    public init(title: String, rowHeader: String = "", columns: [String], rows: [Row]) {
        self.title = title
        self.rowHeader = rowHeader
        self.columns = columns
        self.rows = rows
    }

    /// Throws ``ReportError/tableShape(table:row:expected:actual:)`` for the first ragged row.
    func validate() throws {
        for (k, row) in rows.enumerated() where row.cells.count != columns.count {
            throw ReportError.tableShape(table: title, row: k, expected: columns.count, actual: row.cells.count)
        }
    }
}

/// One generation parameter shown in the report header (for example `Costs` → `10 bp`).
public struct ReportParameter: Sendable, Hashable, Codable {
    /// The parameter name.
    public let name: String
    /// Its value, formatted.
    public let value: String

    /// A parameter named `name` with the formatted `value`.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
