import Foundation
import Testing

/// `metafolio eiie`: a small run end to end, determinism, and bad input failing with a typed message,
/// exit status 1 and no report left behind.
@Suite struct EIIECommandTests {
    /// A dated CSV of `rows` daily closes for assets A, B, C (A trends up), optionally with a hole.
    static func prices(rows: Int, hole: (row: Int, column: Int)? = nil) -> String {
        var lines = ["date,A,B,C"]
        var g: UInt64 = 7
        func noise() -> Double {
            g = g &* 6364136223846793005 &+ 1442695040888963407
            return Double(g >> 11) / Double(1 << 53) - 0.5
        }
        var p = [100.0, 50.0, 20.0]
        for r in 0..<rows {
            p[0] *= 1.004 + 0.01 * noise()
            p[1] *= 1 + 0.03 * noise()
            p[2] *= 1 + 0.03 * noise()
            let day = Calendar(identifier: .gregorian).date(byAdding: .day, value: r, to: Date(timeIntervalSince1970: 946_684_800))!
            let stamp = ISO8601DateFormatter.string(from: day, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
            let cells = (0..<3).map { c in hole.map { $0.row == r && $0.column == c } == true ? "" : String(p[c]) }
            lines.append(([stamp] + cells).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let small = ["--features", "close", "--window", "10", "--batch", "8", "--steps", "20", "--rolling-steps", "1",
                        "--topologies", "cnn,rnn", "--no-olps", "--quiet"]

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("metafolio-eiie-\(UUID().uuidString)").path
    }

    @Test func smallRunReportsEveryLineAndIsDeterministic() throws {
        let csv = try temporaryCSV(Self.prices(rows: 120))
        let report = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: csv); try? FileManager.default.removeItem(atPath: report) }
        let arguments = ["eiie", "--prices", csv] + Self.small + ["--report", report, "--json"]
        let first = try jsonObject(arguments)
        let lines = try #require(first["lines"] as? [[String: Any]])
        #expect(lines.map { $0["name"] as? String } == ["EIIE CNN (seed 1)", "EIIE RNN (seed 1)", "Best Stock (A, hindsight)", "UCRP", "UBAH"])
        for line in lines {
            let value = try #require(line["finalValue"] as? Double)
            #expect(value.isFinite && value > 0)
        }
        #expect(first["testBars"] as? Int == 30 && first["testStart"] as? String == "2000-03-31")
        #expect(FileManager.default.fileExists(atPath: report + "/report.html") && FileManager.default.fileExists(atPath: report + "/report.json"))
        // Same arguments, same numbers (wall times aside).
        let second = try jsonObject(arguments)
        let values = { (object: [String: Any]) in (object["lines"] as? [[String: Any]] ?? []).map { $0["finalValue"] as? Double } }
        #expect(values(first) == values(second))
    }

    /// Each case: arguments, a fragment the message must contain.
    @Test func badInputFailsWithATypedMessageAndWritesNothing() throws {
        let short = try temporaryCSV(Self.prices(rows: 40))
        let holed = try temporaryCSV(Self.prices(rows: 120, hole: (row: 60, column: 1)))
        // A's close on 2000-03-01 becomes "nan" (a missing-value token), the row keeping its four fields.
        let nan = try temporaryCSV(Self.prices(rows: 120).split(separator: "\n").map { line in
            line.hasPrefix("2000-03-01,") ? "2000-03-01,nan," + line.split(separator: ",").dropFirst(2).joined(separator: ",") : String(line)
        }.joined(separator: "\n") + "\n")
        defer { for path in [short, holed, nan] { try? FileManager.default.removeItem(atPath: path) } }
        let cases: [([String], String)] = [
            (["--dataset", "btc-hourly"], "at least 2"),
            (["--prices", short, "--window", "100"], "window of 100"),
            (["--prices", holed], "B at 2000-03-01"),
            (["--prices", short, "--train-end", "2030-01-01"], "after the last bar"),
            (["--prices", short, "--top", "2"], "volume"),
        ]
        for (arguments, fragment) in cases {
            let report = Self.temporaryDirectory()
            let result = try runMetafolio(["eiie"] + arguments + ["--features", "close", "--steps", "5", "--report", report])
            #expect(result.status == 1, "\(arguments): status \(result.status)")
            #expect(result.error.contains(fragment), "\(arguments): \(result.error)")
            #expect(!FileManager.default.fileExists(atPath: report), "\(arguments) left a report")
        }
        // A NaN cell is refused by the reader or the agent, naming the asset.
        let result = try runMetafolio(["eiie", "--prices", nan, "--features", "close", "--no-report"])
        #expect(result.status == 1 && result.error.contains("close of A at 2000-03-01"), "\(result.error)")
        // Usage errors exit 2 (see `metafolio --help`) with the option named.
        for (arguments, option) in [(["--commission", "1.5"], "--commission"), (["--topologies", "cnn,gru"], "--topologies"),
                                    (["--seeds", "0"], "--seeds"), (["--features", "open"], "--features")] {
            let usage = try runMetafolio(["eiie", "--prices", short] + arguments)
            #expect(usage.status == 2, "\(arguments): \(usage.status)")
            #expect(usage.error.contains(option), "\(arguments): \(usage.error)")
        }
    }
}
