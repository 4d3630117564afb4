import Foundation

/// The page shell and blocks shared by every HTML report: the document head with the style
/// sheet, header, navigation, cards, grouped sections, metric tables, line legends and heat
/// maps. Every block is well-formed XML and escapes the text it is given.
package enum ReportPage {
    /// The complete page: `body` under a header with `title`, `subtitle`, the `parameters` list and
    /// links to `navigation`, then a footer with `methodology` (HTML). `chartIDs` fill
    /// `<meta name="metafolio-charts">`; `generator` names the writer.
    package static func document(title: String, subtitle: String?, generator: String, chartIDs: [String],
                                 parameters: [ReportParameter], navigation: [(anchor: String, title: String)],
                                 body: String, methodology: String) -> String {
        let nav = navigation.map { "<a href=\"#\($0.anchor)\">\(esc($0.title))</a>" }.joined(separator: "\n")
        let subtitleBlock = subtitle.map { "<p class=\"subtitle\">\(esc($0))</p>\n" } ?? ""
        let items = parameters.map { "<div><dt>\(esc($0.name))</dt><dd>\(esc($0.value))</dd></div>" }
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="generator" content="\(esc(generator))"/>
        <meta name="metafolio-charts" content="\(chartIDs.joined(separator: " "))"/>
        <title>\(esc(title))</title>
        <style>\(HTMLReportWriter.styleSheet)</style>
        </head>
        <body>
        <div class="page">
        <header class="report-header">
        <h1>\(esc(title))</h1>
        \(subtitleBlock)<dl class="parameters">\(items.joined())</dl>
        <nav class="toc">\(nav)</nav>
        </header>
        <main>
        \(body)</main>
        <footer class="methodology">
        <h2>Method</h2>
        \(methodology)
        </footer>
        </div>
        </body>
        </html>

        """
    }

    /// A card: a titled `<section>` with an optional caption above `content` (HTML).
    package static func card(id: String, title: String, caption: String?, content: String) -> String {
        "<section class=\"card\" id=\"\(id)\">\n<h2>\(esc(title))</h2>\n"
            + (caption.map { "<p class=\"caption\">\(esc($0))</p>\n" } ?? "") + content + "\n</section>\n"
    }

    /// A titled group of cards laid out in a responsive grid.
    package static func section(id: String, title: String, caption: String, cards: [String]) -> String {
        "<section class=\"group\" id=\"\(id)\">\n<h2>\(esc(title))</h2>\n<p class=\"caption\">\(esc(caption))</p>\n"
            + "<div class=\"grid\">\n\(cards.joined())</div>\n</section>\n"
    }

    /// A metric table: row labels as header cells, numbers right-aligned, negative numbers marked.
    package static func table(id: String, _ table: ReportTable) -> String {
        let header = "<tr><th scope=\"col\">\(esc(table.rowHeader))</th>"
            + table.columns.map { "<th scope=\"col\">\(esc($0))</th>" }.joined() + "</tr>"
        let rows = table.rows.map { row in
            "<tr><th scope=\"row\">\(esc(row.label))</th>" + row.cells.map { cell in
                let classes = [cell.value == nil ? "text" : "num", (cell.value ?? 0) < 0 ? "neg" : nil].compactMap { $0 }
                return "<td class=\"\(classes.joined(separator: " "))\">\(esc(cell.text))</td>"
            }.joined() + "</tr>"
        }.joined(separator: "\n")
        return "<div class=\"table-wrap\"><table id=\"\(id)\" class=\"metrics\">\n<caption>\(esc(table.title))</caption>\n"
            + "<thead>\(header)</thead>\n<tbody>\n\(rows)\n</tbody>\n</table></div>\n"
    }

    /// A legend of line swatches: `(name, style, note)`, the note (e.g. `benchmark`) muted after the name.
    package static func lineLegend(_ entries: [(name: String, style: LineStyle, note: String?)]) -> String {
        let items = entries.map { entry -> String in
            let border = "border-top-color:\(entry.style.color)" + (entry.style.dash == nil ? "" : ";border-top-style:dashed")
            let note = entry.note.map { " <span class=\"role\">\(esc($0))</span>" } ?? ""
            return "<li><span class=\"swatch\" style=\"\(border)\"></span>\(esc(entry.name))\(note)</li>"
        }
        return "<ul class=\"legend\">\(items.joined())</ul>"
    }

    /// An inline SVG heat map: one `<rect>` per cell of `values` (`[row][column]`, all rows the same
    /// length), shaded from white (the smallest value) to `color` (the 99th percentile and above, so a few
    /// extreme cells do not wash out the rest), labelled on the
    /// left by `rowLabels` (every few rows) and below by `columnLabels`. Each cell carries a tooltip.
    package static func heatMap(id: String, label: String, values: [[Double]], rowLabels: [String], columnLabels: [String],
                                color: (red: Int, green: Int, blue: Int) = (31, 95, 191), width: Double = 560) -> String {
        let columns = values.first?.count ?? 0, rows = values.count
        let left = 78.0, right = 14.0, top = 8.0, bottom = 26.0
        let cellWidth = (width - left - right) / Double(Swift.max(1, columns))
        let cellHeight = Swift.max(2, Swift.min(14, 360 / Double(Swift.max(1, rows))))
        let height = top + bottom + cellHeight * Double(rows)
        let finite = values.joined().filter(\.isFinite)
        let sorted = finite.sorted()
        let low = sorted.first ?? 0, high = sorted.isEmpty ? 1 : sorted[(sorted.count - 1) * 99 / 100]
        let span = high > low ? high - low : 1
        func coordinate(_ value: Double) -> String { ReportFormat.coordinate(value) }
        var cells = "", labels = ""
        for (i, row) in values.enumerated() {
            let y = top + cellHeight * Double(i)
            for (j, value) in row.enumerated() {
                let share = value.isFinite ? Swift.min(1, Swift.max(0, (value - low) / span)) : 0
                func mix(_ channel: Int) -> Int { Int((255 - share * Double(255 - channel)).rounded()) }
                cells += "<rect class=\"cell\" x=\"\(coordinate(left + cellWidth * Double(j)))\" y=\"\(coordinate(y))\" width=\"\(coordinate(cellWidth))\" "
                    + "height=\"\(coordinate(cellHeight))\" fill=\"rgb(\(mix(color.red)),\(mix(color.green)),\(mix(color.blue)))\">"
                    + "<title>\(esc(i < rowLabels.count ? rowLabels[i] : "")), \(esc(j < columnLabels.count ? columnLabels[j] : "")): "
                    + "\(ReportFormat.fixed(value, digits: 3))</title></rect>\n"
            }
            let every = Swift.max(1, Int((12 / cellHeight).rounded(.up)))
            if i % every == 0, i < rowLabels.count {
                labels += "<text x=\"\(coordinate(left - 6))\" y=\"\(coordinate(y + cellHeight / 2))\" dy=\"0.32em\" text-anchor=\"end\">"
                    + "\(esc(rowLabels[i]))</text>"
            }
        }
        for (j, text) in columnLabels.enumerated() where j < columns {
            labels += "<text x=\"\(coordinate(left + cellWidth * (Double(j) + 0.5)))\" y=\"\(coordinate(height - bottom + 17))\" "
                + "text-anchor=\"middle\">\(esc(text))</text>"
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(id)\" class=\"chart heatmap\" viewBox=\"0 0 \(coordinate(width)) \(coordinate(height))\" "
            + "preserveAspectRatio=\"xMidYMid meet\"\(rows == 0 ? " data-empty=\"true\"" : "") role=\"img\" aria-label=\"\(esc(label))\">\n"
            + "<title>\(esc(label))</title>\n\(cells)"
            + "<path class=\"frame\" d=\"M\(coordinate(left)),\(coordinate(height - bottom))L\(coordinate(width - right)),\(coordinate(height - bottom))\"/>\n"
            + "<g class=\"tick-labels\">\(labels)</g>\n</svg>"
    }

    private static func esc(_ text: String) -> String { ReportFormat.escaped(text) }
}
