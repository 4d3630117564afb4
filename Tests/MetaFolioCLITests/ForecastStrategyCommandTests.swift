import Foundation
import Testing

@Suite("metafolio backtest --strategy forecast")
struct ForecastStrategyCommandTests {
    @Test("a naive-forecast run: long-only, capped at 0.4 and fully invested at every rebalance (1e-9); a report is written")
    func naiveControl() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metafolio-forecast-report-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = try jsonObject(["backtest", "--dataset", "factor-etfs", "--strategy", "forecast", "--forecaster", "ar1",
                                     "--allocation", "black-litterman", "--fee", "0.001", "--json", "--report", directory.path])
        let result = try #require(object["result"] as? [String: Any])
        #expect((result["strategy"] as? String) == "forecast ar1 (black-litterman)")
        let decisions = try #require(result["decisions"] as? [[String: Any]])
        #expect(decisions.count > 12)
        for decision in decisions {
            let weights = try #require(decision["weightsAfter"] as? [Double])
            #expect(weights.allSatisfy { $0 >= -1e-9 && $0 <= 0.4 + 1e-9 })
            #expect(abs(weights.reduce(0, +) - 1) <= 1e-9)
        }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("report.json").path))
    }

    @Test("a network run gives identical output for the same seed (exact)")
    func sameSeedSameOutput() throws {
        let arguments = ["backtest", "--dataset", "factor-etfs", "--strategy", "forecast", "--forecaster", "tcn", "--seed", "3",
                         "--refit-every", "6", "--json"]
        let first = try runMetafolio(arguments), second = try runMetafolio(arguments)
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output == second.output)
        #expect(first.output.contains("forecast tcn (mean-variance)"))
    }

    @Test("usage errors exit 2, input errors 1, each with a message")
    func errors() throws {
        let short = try temporaryCSV("Date,A,B\n" + (0..<200).map { day in
            let date = Calendar(identifier: .gregorian).date(byAdding: .day, value: day, to: Date(timeIntervalSince1970: 1_500_000_000))!
            let text = ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
            return "\(text),\(100 + Double(day % 7)),\(50 + Double(day % 5))"
        }.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: short) }
        let base = ["backtest", "--dataset", "factor-etfs", "--strategy", "forecast"]
        let cases: [([String], Int32, String)] = [
            (base + ["--horizon", "0"], 2, "--horizon"),
            (base + ["--forecaster", "oracle"], 2, "--forecaster"),
            (base + ["--allocation", "risk-parity"], 2, "--allocation"),
            (base + ["--max-weight", "1.5"], 2, "--max-weight"),
            (base + ["--refit-every", "0"], 2, "--refit-every"),
            (base + ["--forecaster", "ar1", "--seed", "2"], 2, "--seed"),
            (["backtest", "--dataset", "factor-etfs", "--strategy", "equal", "--horizon", "5"], 2, "--horizon"),
            (["backtest", "--prices", short, "--strategy", "forecast"], 1, "rows of prices"),
            (base + ["--forecaster", "ar1", "--max-weight", "0.1"], 1, "cannot be fully invested"),
        ]
        for (arguments, status, fragment) in cases {
            let result = try runMetafolio(arguments)
            #expect(result.status == status, "\(arguments): \(result.error)")
            #expect(result.error.contains(fragment), "\(arguments): \(result.error)")
        }
    }
}
