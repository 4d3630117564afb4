// Times reading one wide price CSV (a date column, then one price column per asset) into
// numbers with MetaFolio's streaming `PanelCSVReader` and with the two CSV packages of the
// local mirror (SwiftCSV, CSV.swift), and prints one JSON object with the median wall time.
//
// Usage: CSVTimings --file PATH --parser metafolio|swiftcsv|csvswift [--reps N]
//
// Each parser must produce every price as a Double; the checksum (sum of the last row) lets
// the driver (compare/csv_read.py) check that all parsers read the same numbers as pandas.

import CSV
import Foundation
import Market
import SwiftCSV

/// Command-line options.
struct Options {
    var file = ""
    var parser = "metafolio"
    var reps = 5

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { Self.fail("missing value after \(flag)") }
            switch flag {
            case "--file": file = value
            case "--parser": parser = value
            case "--reps": reps = Int(value) ?? { Self.fail("bad --reps \(value)") }()
            default: Self.fail("unknown option \(flag)")
            }
        }
        if file.isEmpty { Self.fail("--file is required") }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("CSVTimings: \(message)\n".utf8))
        exit(2)
    }
}

/// What one parse produced: the number of data rows and the sum of the last row's prices.
struct ParseSummary {
    var rows: Int
    var lastRowSum: Double
}

/// MetaFolio: streaming byte parser, dates parsed and validated, a `PricePanel` built.
func parseWithMetaFolio(_ path: String) throws -> ParseSummary {
    let panel = try PanelCSVReader().read(path: path)
    let close = panel.close
    let last = close.row(close.rows - 1)
    return ParseSummary(rows: close.rows, lastRowSum: last.reduce(0, +))
}

/// SwiftCSV: loads the whole file into a String, then yields rows of Strings; cells are
/// converted with `Double(_:)`. Dates are left as text (less work than the others do).
func parseWithSwiftCSV(_ path: String) throws -> ParseSummary {
    let csv = try SwiftCSV.CSV<Enumerated>(url: URL(fileURLWithPath: path), delimiter: .comma, loadColumns: false)
    var rows = 0
    var lastRowSum = 0.0
    for row in csv.rows {
        var sum = 0.0
        for cell in row.dropFirst() {
            guard let value = Double(cell) else { Options.fail("SwiftCSV: unparsable cell \(cell)") }
            sum += value
        }
        rows += 1
        lastRowSum = sum
    }
    return ParseSummary(rows: rows, lastRowSum: lastRowSum)
}

/// CSV.swift: yields rows of Strings; cells are converted with `Double(_:)`. Dates are left as
/// text. Its file-stream mode fails on Linux (Foundation's `InputStream` keeps reporting bytes at
/// end of file, and the reader then throws `cannotReadFile`), so the file is read into a String
/// first, as a user on Linux would have to.
func parseWithCSVSwift(_ path: String) throws -> ParseSummary {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let reader = try CSVReader(string: text, hasHeaderRow: true)
    var rows = 0
    var lastRowSum = 0.0
    while let row = reader.next() {
        var sum = 0.0
        for cell in row.dropFirst() {
            guard let value = Double(cell) else { Options.fail("CSV.swift: unparsable cell \(cell)") }
            sum += value
        }
        rows += 1
        lastRowSum = sum
    }
    if let error = reader.error { throw error }
    return ParseSummary(rows: rows, lastRowSum: lastRowSum)
}

let options = Options(arguments: CommandLine.arguments)
let parse: (String) throws -> ParseSummary
switch options.parser {
case "metafolio": parse = parseWithMetaFolio
case "swiftcsv": parse = parseWithSwiftCSV
case "csvswift": parse = parseWithCSVSwift
default: Options.fail("unknown parser \(options.parser)")
}

var seconds: [Double] = []
var summary = ParseSummary(rows: 0, lastRowSum: 0)
do {
    for _ in 0..<max(1, options.reps) {
        let start = DispatchTime.now().uptimeNanoseconds
        summary = try parse(options.file)
        seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
} catch {
    Options.fail("\(options.parser) failed: \(error)")
}
seconds.sort()
let median = seconds[seconds.count / 2]
print("{\"parser\":\"\(options.parser)\",\"median_seconds\":\(median),\"reps\":\(seconds.count),"
      + "\"rows\":\(summary.rows),\"last_row_sum\":\(summary.lastRowSum)}")
