import Foundation
import Linalg
import Testing
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)
@testable import Market

/// Rows of optional numbers (JSON null = missing) as a matrix with NaN for missing.
func matrix(_ rows: [[Double?]]) throws -> Matrix {
    try Matrix(rows.map { $0.map { $0 ?? .nan } })
}

/// ISO date strings as dates.
func dates(_ texts: [String]) throws -> [MarketDate] {
    try texts.map { text in
        guard let date = MarketDate(iso: text) else { throw FixtureError(description: "bad fixture date \(text)") }
        return date
    }
}

/// A dated close-only panel.
func closePanel(_ dateTexts: [String], _ assets: [String], _ rows: [[Double?]], kind: PricePanel.Kind = .prices) throws -> PricePanel {
    try PricePanel(index: TimeIndex(dates: dates(dateTexts)), assets: assets, close: matrix(rows), kind: kind)
}

/// Records an issue unless `actual` and `expected` have the same shape, NaN in the same
/// cells, and every other cell within `|a − e| ≤ tolerance · max(1, |e|)`.
func expectClose(_ actual: Matrix, _ expected: Matrix, tolerance: Double, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.rows == expected.rows, actual.columns == expected.columns else {
        Issue.record("\(what): shape \(actual.rows)×\(actual.columns), expected \(expected.rows)×\(expected.columns)",
                     sourceLocation: sourceLocation)
        return
    }
    var worst = 0.0
    for i in 0..<actual.rows {
        for j in 0..<actual.columns {
            let a = actual[i, j], e = expected[i, j]
            if e.isNaN || a.isNaN {
                if e.isNaN != a.isNaN {
                    Issue.record("\(what)[\(i), \(j)] = \(a), expected \(e)", sourceLocation: sourceLocation)
                    return
                }
                continue
            }
            worst = max(worst, abs(a - e) / max(1, abs(e)))
        }
    }
    #expect(worst <= tolerance, "\(what): worst scaled error \(worst) > \(tolerance)", sourceLocation: sourceLocation)
}

/// Reads CSV text with `reader`, naming the input `name`.
func readCSV(_ text: String, name: String = "test.csv", _ reader: PanelCSVReader = PanelCSVReader()) throws -> PricePanel {
    try reader.read(text: text, name: name)
}

/// Expects reading `text` to throw exactly `expected`.
func expectCSVError(_ text: String, _ expected: MarketError, name: String = "bad.csv",
                    reader: PanelCSVReader = PanelCSVReader(), sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let panel = try reader.read(text: text, name: name)
        Issue.record("expected \(expected), but read a \(panel.timeCount)×\(panel.assetCount) panel", sourceLocation: sourceLocation)
    } catch let error as MarketError {
        #expect(error == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

/// The date of an ISO text, or a thrown error.
func day(_ text: String) throws -> MarketDate {
    guard let date = MarketDate(iso: text) else { throw FixtureError(description: "bad date \(text)") }
    return date
}
