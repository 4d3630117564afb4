import Foundation
import Linalg
import Testing
@testable import Market

/// Bad CSV input throws a typed error naming the file, line and column, before allocating for it.
@Suite("CSV reader limits and bad input")
struct CSVReliabilityTests {
    @Test("a header with only the date column throws noValueColumns")
    func noValueColumns() {
        #expect(throws: MarketError.noValueColumns(file: "d.csv", line: 1)) {
            try PanelCSVReader().read(text: "date\n2020-01-01\n2020-01-02\n", name: "d.csv")
        }
    }

    @Test("a field longer than the limit throws fieldTooLong, also when the line never ends")
    func longField() {
        let cell = String(repeating: "7", count: PanelCSVReader.maximumFieldBytes + 1)
        #expect(throws: MarketError.fieldTooLong(file: "l.csv", line: 2, column: 2, limit: PanelCSVReader.maximumFieldBytes)) {
            try PanelCSVReader().read(text: "date,A\n2020-01-01,\(cell)\n", name: "l.csv")
        }
        #expect(throws: MarketError.fieldTooLong(file: "n.csv", line: 1, column: 1, limit: PanelCSVReader.maximumFieldBytes)) {
            try PanelCSVReader().read(text: cell, name: "n.csv")
        }
    }

    @Test("more fields than the limit throws tooManyColumns")
    func tooManyColumns() {
        let header = "date," + (0..<PanelCSVReader.maximumColumns).map { "A\($0)" }.joined(separator: ",")
        #expect(throws: MarketError.tooManyColumns(file: "w.csv", line: 1, limit: PanelCSVReader.maximumColumns)) {
            try PanelCSVReader().read(text: header + "\n", name: "w.csv")
        }
    }

    @Test("UTF-16 (with or without a byte-order mark) and UTF-32 throw unsupportedEncoding; UTF-8 with a mark and CRLF reads")
    func encodings() throws {
        let utf16 = Array("date,A\n2020-01-01,1\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(throws: MarketError.unsupportedEncoding(file: "u.csv", detail: "a UTF-16 byte-order mark")) {
            try PanelCSVReader().read(bytes: [0xFF, 0xFE] + utf16, name: "u.csv")
        }
        #expect(throws: MarketError.unsupportedEncoding(file: "u.csv", detail: "NUL bytes in the first line")) {
            try PanelCSVReader().read(bytes: utf16, name: "u.csv")
        }
        #expect(throws: MarketError.unsupportedEncoding(file: "u.csv", detail: "a UTF-32 byte-order mark")) {
            try PanelCSVReader().read(bytes: [0xFF, 0xFE, 0, 0, 0x64, 0, 0, 0], name: "u.csv")
        }
        let panel = try PanelCSVReader().read(bytes: [0xEF, 0xBB, 0xBF] + Array("date,A\r\n2020-01-01,1\r\n2020-01-02,2\r\n".utf8), name: "b.csv")
        #expect(panel.assets == ["A"] && panel.close.column(0) == [1, 2])
    }

    @Test("a subnormal price throws priceTooSmall; a series panel reads negative values")
    func valueRange() throws {
        #expect(throws: MarketError.priceTooSmall(file: "s.csv", line: 3, column: 2, value: Double("1e-320")!)) {
            try PanelCSVReader().read(text: "date,A\n2020-01-01,1\n2020-01-02,1e-320\n", name: "s.csv")
        }
        let series = try PanelCSVReader(kind: .series).read(text: "date,A\n2020-01-01,-1.5\n2020-01-02,0\n", name: "r.csv")
        #expect(series.close.column(0) == [-1.5, 0])
    }

    @Test("a bad cell is quoted short and escaped in the message")
    func cellExcerpt() throws {
        let cell = "x\u{1}" + String(repeating: "y", count: 1000)
        do {
            _ = try PanelCSVReader().read(text: "date,A\n2020-01-01,\(cell)\n", name: "c.csv")
            Issue.record("no error")
        } catch let error as MarketError {
            let message = error.description
            #expect(message.hasPrefix("c.csv:2:2: cannot parse \"x\\u{1}yyy"))
            #expect(message.contains("…") && message.count < 150 && !message.contains("\u{1}"))
        }
        #expect(MarketError.excerpt("a\"b\n\u{0}") == "\"a\\\"b\\n\\u{0}\"")
    }
}
