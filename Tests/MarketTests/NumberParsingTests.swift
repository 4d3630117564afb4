import Foundation
import Linalg
import Testing
@testable import Market

/// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): a seeded generator, so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `parseDecimal` of `text`, or `nil`.
func parsed(_ text: String) -> Double? {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBufferPointer { parseDecimal(UnsafeBufferPointer($0), 0, $0.count) }
}

/// Tolerance in this suite: 0. Every conversion is compared bit for bit with `Double(String)`
/// (correctly rounded), for the Clinger and Eisel–Lemire paths and the `strtod` fallback alike.
@Suite("Decimal conversion and the in-place CSV fast path")
struct NumberParsingTests {
    @Test("boundary cases: 2^53 ± 1, exact powers of ten, halfway cases, subnormals, the range ends")
    func boundaries() {
        let texts = ["9007199254740991", "9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995",
                     "9007199254740993.0", "900719925474099.3", "18014398509481985", "18014398509481986",
                     "1e-22", "1e22", "1e23", "1e-23", "9999999999999999999", "9999999999999999999e-19", "1234567890123456789",
                     "0.1", "0.2", "0.3", "0.30000000000000004", "2.2250738585072011e-308", "2.2250738585072014e-308",
                     "2.2250738585072009e-308", "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
                     "5e-324", "1e-400", "1.7976931348623157e308", "1.7976931348623158e308", "179769313486231580793728971405301e276",
                     "0.000000000000000000000000000000000000000000001", "123456789012345678e-300", "7.2057594037927933e16",
                     "1.00000000000000011102230246251565404236316680908203125", "1.00000000000000011102230246251565404236316680908203124",
                     "1.00000000000000011102230246251565404236316680908203126", "3.0517578125e-05", "1.8014398509481984e16",
                     "-0.0", "-9007199254740993", "0.9864799999999999", "100.37629039334143", "99.99999999999999", "12345.678901234567"]
        for text in texts {
            let reference = Double(text)!
            #expect(parsed(text)?.bitPattern == reference.bitPattern, "\(text)")
        }
        // Out of range: infinite in Double(String), rejected here.
        #expect(parsed("1.7976931348623159e308") == nil)
        #expect(parsed("2e308") == nil)
    }

    @Test("random 15–19 digit decimals at every decimal point position and exponent agree with Double(String)")
    func randomDecimals() {
        var random = SeededGenerator(state: 20_260_422)
        for _ in 0..<200_000 {
            let digits = Int.random(in: 15...19, using: &random)
            var mantissa = "\(Int.random(in: 1...9, using: &random))"
            for _ in 1..<digits { mantissa += "\(Int.random(in: 0...9, using: &random))" }
            let point = Int.random(in: 0...digits, using: &random)
            var text = String(mantissa.prefix(point)) + "." + String(mantissa.dropFirst(point))
            if Bool.random(using: &random) { text = "-" + text }
            if Int.random(in: 0..<4, using: &random) == 0 { text += "e\(Int.random(in: -330...300, using: &random))" }
            guard let reference = Double(text), reference.isFinite else { continue }
            #expect(parsed(text)?.bitPattern == reference.bitPattern, "\(text)")
        }
    }

    @Test("Eisel–Lemire decides almost every case and, when it does, rounds like Double(String)")
    func eiselLemireDirect() {
        var random = SeededGenerator(state: 7)
        let tables = DecimalTables.shared
        var undecided = 0
        let trials = 100_000
        for trial in 0..<trials {
            // Full-width mantissas (up to 19 digits) and small ones, exponents over the whole table.
            let mantissa = trial % 2 == 0 ? UInt64.random(in: 1...9_999_999_999_999_999_999, using: &random)
                                          : UInt64.random(in: 1...100_000, using: &random)
            let exponent = Int.random(in: -342...308, using: &random)
            let reference = Double("\(mantissa)e\(exponent)")!
            guard let value = tables.eiselLemire(mantissa, exponent) else {
                // Only subnormal, overflowing, or (rarely) undecidable cases may be left to strtod.
                if reference.isNormal { undecided += 1 }
                continue
            }
            #expect(value.bitPattern == reference.bitPattern, "\(mantissa)e\(exponent)")
        }
        #expect(undecided < trials / 1000, "undecided: \(undecided)")
    }

    @Test("the power-of-five table is exact where 5^q fits in 128 bits")
    func powerTable() {
        var power: (high: UInt64, low: UInt64) = (0, 1)
        for q in 0...55 {
            if q > 0 {
                let (lowHigh, lowLow) = power.low.multipliedFullWidth(by: 5)
                power = (power.high &* 5 &+ lowHigh, lowLow)
            }
            // Normalize to put the top bit at 127.
            let zeros = power.high == 0 ? 64 + power.low.leadingZeroBitCount : power.high.leadingZeroBitCount
            let high = zeros >= 64 ? power.low << UInt64(zeros - 64) : power.high << UInt64(zeros) | (zeros == 0 ? 0 : power.low >> UInt64(64 - zeros))
            let low = zeros >= 64 ? 0 : power.low << UInt64(zeros)
            let slot = 3 * (q - powersOfFiveMinimumExponent)
            #expect(powersOfFive[slot] == high && powersOfFive[slot + 1] == low, "5^\(q)")
            #expect(Int64(bitPattern: powersOfFive[slot + 2]) == Int64(-zeros), "exponent of 5^\(q)")
        }
    }

    // MARK: The reader's in-place fast path

    /// A wide text whose cells exercise every fast and fallback branch, and its expected values.
    func mixedWideText(rows: Int, lineEnd: String) -> (String, [[Double]]) {
        var random = SeededGenerator(state: 99)
        var text = "Date,A,B,C,D" + lineEnd
        var expected: [[Double]] = []
        var date = try! MarketDate(year: 2001, month: 1, day: 1)
        for row in 0..<rows {
            let seventeen = Double.random(in: 1...1000, using: &random)
            let short = (Double.random(in: 1...1000, using: &random) * 100).rounded() / 100
            var cells = ["\(seventeen)", "\(short)", "", ""]
            var values = [seventeen, short, Double.nan, Double.nan]
            switch row % 6 {
            case 0: (cells[2], values[2]) = ("NA", .nan)
            case 1: (cells[2], values[2]) = (" 12.5 ", 12.5)
            case 2: (cells[2], values[2]) = ("1.25e2", 125)
            case 3: (cells[2], values[2]) = ("\"7.5\"", 7.5)
            case 4: (cells[2], values[2]) = ("0.00000000000000000000123456789", 0.00000000000000000000123456789)
            default: (cells[2], values[2]) = ("12345678901234567890.5", 12345678901234567890.5)
            }
            cells[3] = row % 5 == 0 ? "." : "\(row + 1)"
            values[3] = row % 5 == 0 ? .nan : Double(row + 1)
            let dateText = row % 7 == 3 ? "\"\(date)\"" : "\(date)"
            text += dateText + "," + cells.joined(separator: ",") + lineEnd
            if row % 11 == 5 { text += lineEnd }            // a blank line
            expected.append(values)
            date = date.adding(days: 1)
        }
        return (text, expected)
    }

    func expectSameValues(_ panel: PricePanel, _ expected: [[Double]], _ what: String) {
        #expect(panel.timeCount == expected.count, "\(what): rows")
        guard panel.timeCount == expected.count else { return }
        var mismatches = 0
        for (t, row) in expected.enumerated() {
            for (j, value) in row.enumerated() where panel.close[t, j].bitPattern != value.bitPattern && !(value.isNaN && panel.close[t, j].isNaN) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(what): \(mismatches) cells differ")
        let expectedMask = expected.flatMap { $0.map { !$0.isNaN } }
        #expect(panel.mask.cells == expectedMask, "\(what): mask")
    }

    @Test("mixed cells, quotes, blank lines and LF/CRLF/CR line ends read the same at every chunk size")
    func fastPathChunks() throws {
        for lineEnd in ["\n", "\r\n", "\r"] {
            let (text, expected) = mixedWideText(rows: 60, lineEnd: lineEnd)
            let bytes = Array(text.utf8)
            let reader = PanelCSVReader()
            expectSameValues(try reader.read(bytes: bytes, name: "m.csv"), expected, "one chunk, \(lineEnd.debugDescription)")
            for size in [1, 2, 3, 5, 7, 10, 11, 13, 31, 64, 100, 257, 1000] {
                let panel = try reader.read(source: TinyChunkSource(bytes: bytes, size: size), name: "m.csv")
                expectSameValues(panel, expected, "chunk \(size), \(lineEnd.debugDescription)")
                #expect(panel.index.dates?.first == (try day("2001-01-01")))
            }
        }
    }

    @Test("an error deep in a file is reported at the same place at every chunk size")
    func fastPathErrors() throws {
        let (text, _) = mixedWideText(rows: 40, lineEnd: "\n")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Line 30 (no blank lines before row 5, one after each 11th row): find its row and break cells in turn.
        let target = 30
        let original = lines[target - 1]
        let fields = original.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let cases: [(Int, String, (Int) -> MarketError)] = [
            (2, "abc", { .unparsableNumber(file: "e.csv", line: $0, column: 2, text: "abc") }),
            (3, "-1.5", { .nonPositivePrice(file: "e.csv", line: $0, column: 3, value: -1.5) }),
            (5, "0", { .nonPositivePrice(file: "e.csv", line: $0, column: 5, value: 0) }),
            (1, "2001-13-01", { .unparsableDate(file: "e.csv", line: $0, column: 1, text: "2001-13-01") }),
            (5, "4,5", { _ in .raggedRow(file: "e.csv", line: target, expected: 5, found: 6) }),
            (2, "\"1\"x", { .malformedQuote(file: "e.csv", line: $0, column: 2) }),
        ]
        for (column, cell, error) in cases {
            var broken = fields
            broken[column - 1] = cell
            lines[target - 1] = broken.joined(separator: ",")
            let bytes = Array(lines.joined(separator: "\n").utf8)
            for size in [1, 3, 8, 29, 100, 1 << 20] {
                #expect(throws: error(target), "\(cell) at chunk size \(size)") {
                    try PanelCSVReader().read(source: TinyChunkSource(bytes: bytes, size: size), name: "e.csv")
                }
            }
        }
        // A date that goes back, written in the fixed-width form the fast path reads.
        lines[target - 1] = original
        let previousDate = String(lines[target - 2].prefix(10))
        lines[target - 1] = previousDate + original.dropFirst(10)
        let bytes = Array(lines.joined(separator: "\n").utf8)
        #expect(throws: MarketError.duplicateDate(file: "e.csv", line: target, column: 1, date: try day(previousDate))) {
            try PanelCSVReader().read(source: TinyChunkSource(bytes: bytes, size: 64), name: "e.csv")
        }
    }

    @Test("17-digit file through the fast path matches Double(String) cell by cell; series keep negatives")
    func seventeenDigits() throws {
        var random = SeededGenerator(state: 5)
        var text = "A,B,C\n"
        var expected: [[Double]] = []
        for _ in 0..<3000 {
            let row = (0..<3).map { _ in Double(bitPattern: random.next() >> 2 | 0x3FF0_0000_0000_0000) * (Bool.random(using: &random) ? -1 : 1) * 1e3 }
            text += row.map { "\($0)" }.joined(separator: ",") + "\n"
            expected.append(row.map { Double("\($0)")! })
        }
        let panel = try PanelCSVReader(dateColumn: .none, kind: .series).read(source: TinyChunkSource(bytes: Array(text.utf8), size: 4096), name: "s.csv")
        expectSameValues(panel, expected, "17 digits")
    }
}
