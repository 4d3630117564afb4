import Market

extension ReportSeries {
    /// The report series of a dated backtest: its wealth path, weights and one-way turnover.
    ///
    /// Point 0 shows the initial allocation, point `k ≥ 1` the weights held over the period ending
    /// there (columns: the result's assets, cash last). Turnover is one-way, half the result's
    /// `Σ|Δw|` (non-cash), with the initial trade's at point 0.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` for a result on a
    ///   period or intraday (timestamp) index, since reports are drawn on dates; the series' own ``ReportError``s.
    public init(result: BacktestResult, role: Role = .strategy, name: String? = nil) throws {
        guard let dates = result.marketDates else {
            throw BacktestError.invalidArgument(operation: "ReportSeries(result:)", parameter: "result",
                                                message: "\(result.strategy) has period or timestamp labels, not dates")
        }
        let rows = Array(result.weights.prefix(1)) + result.weights
        let initialTurnover = result.decisions.first?.turnover ?? 0
        try self.init(name: name ?? result.strategy, role: role, dates: dates, wealth: result.wealth,
                      weights: ReportWeights(assets: result.assets, rows: rows),
                      turnover: ([initialTurnover] + result.turnover).map { $0 / 2 })
    }
}

extension PerformanceMetrics {
    /// A metrics table for a report: one column per strategy, one row per ``summaryRows`` entry
    /// (`—` where undefined).
    public static func reportTable(_ metrics: [PerformanceMetrics], title: String = "Metrics") -> ReportTable {
        let labels = metrics.first?.summaryRows.map(\.label) ?? []
        let rows = labels.indices.map { k in
            ReportTable.Row(label: labels[k], cells: metrics.map { m in
                m.summaryRows[k].value.map { ReportTable.Cell.number($0, digits: 4) } ?? .text("—")
            })
        }
        return ReportTable(title: title, rowHeader: "metric", columns: metrics.map(\.strategy), rows: rows)
    }
}
