import Foundation
import MetaFolio

/// A one-line progress bar on standard error, redrawn in place (`\r`).
///
/// It shows only on a terminal: when standard error is a file or a pipe (CI logs, tests) or the
/// command runs with `--quiet`, it prints nothing, so logs hold only results and errors.
struct ProgressBar {
    /// Total number of steps.
    let total: Int
    /// Width of the bar in characters.
    let width: Int
    private let visible: Bool
    private var completed = 0

    /// A bar of `total` steps; `enabled: false` (`--quiet`) silences it.
    init(total: Int, width: Int = 30, enabled: Bool = true) {
        self.total = Swift.max(total, 1)
        self.width = width
        visible = enabled && isatty(STDERR_FILENO) != 0
    }

    /// Marks one more step done, labelled `label` (e.g. the strategy just finished).
    mutating func advance(_ label: String) {
        update(completed: completed + 1, label)
    }

    /// Shows `count` steps done, labelled `label`; the line ends when the last step is reached.
    mutating func update(completed count: Int, _ label: String) {
        let before = completed
        completed = Swift.min(Swift.max(count, 0), total)
        guard visible, completed != before || completed < total else { return }
        let filled = width * completed / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let percent = 100 * completed / total
        let line = "[\(bar)] \(String(format: "%3d", percent))%  \(completed)/\(total)  \(label)"
        // Pad so a shorter label fully overwrites a longer one.
        standardError("\r" + line.padding(toLength: Swift.max(line.count, 90), withPad: " ", startingAt: 0))
        if completed == total { standardError("\n") }
    }
}

/// Tells on standard error, in plain words, where a strategy's optimizer failed and what it held
/// instead (the decisions' notes), one line per strategy: such a run completes but is not the
/// pure strategy.
func reportFallbacks(_ results: [BacktestResult]) {
    for result in results {
        let noted = result.decisions.filter { $0.note != nil }
        guard let first = noted.first, let note = first.note else { continue }
        standardError("note: \(result.strategy) fell back at \(noted.count) of \(result.decisions.count) rebalances; "
                      + "first at \(first.decisionDate): \(note)\n")
    }
}

/// Writes `text` to standard error without a newline.
func standardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// A plain-text table with a header row, columns padded to their widest cell; the first column is
/// left-aligned and the others right-aligned (they hold numbers).
struct TextTable {
    /// Column titles.
    let header: [String]
    /// Rows of cells, each as long as ``header``.
    var rows: [[String]] = []

    /// The table as lines: header, a rule, then the rows.
    func render() -> String {
        let columns = header.count
        var widths = header.map(\.count)
        for row in rows {
            for (c, cell) in row.prefix(columns).enumerated() { widths[c] = Swift.max(widths[c], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            (0..<columns).map { c in
                let cell = c < cells.count ? cells[c] : ""
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}
