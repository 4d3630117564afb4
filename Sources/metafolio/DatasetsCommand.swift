import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio datasets`: lists the embedded datasets.
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List the embedded datasets: name, assets, span, frequency, source."
    )

    @Flag(name: .long, help: "Print a JSON array of dataset descriptions instead of a table.")
    var json = false

    func run() throws {
        let infos = Dataset.allCases.map(\.info)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(infos), as: UTF8.self))
            return
        }
        let header = ["name", "assets", "rows", "span", "frequency", "source (licence)"]
        let rows = infos.map { info in
            ["\(info.name)", "\(info.assetCount)", "\(info.rows)", "\(info.start) – \(info.end)" + (info.calendarYears.map { " (\($0))" } ?? ""),
             info.frequency.rawValue, "\(info.source) (\(info.licence))"]
        }
        let widths = header.indices.map { k in ([header] + rows).map { $0[k].count }.max() ?? 0 }
        for row in [header] + rows {
            let cells = row.enumerated().map { k, cell in
                k == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[k] - cell.count)
            }
            print(cells.joined(separator: "  "))
        }
    }
}
