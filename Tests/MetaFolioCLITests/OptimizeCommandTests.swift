import Foundation
import Testing

/// The `"weights"` object of a successful `metafolio optimize --json` run.
private func optimizedWeights(_ arguments: [String]) throws -> [String: Double] {
    let object = try jsonObject(["optimize"] + arguments + ["--json"])
    return try #require(object["weights"] as? [String: Double])
}

@Suite("metafolio optimize")
struct OptimizeCommandTests {
    @Test("--json weights sum to 1 (1e-9) and respect --max-weight", arguments: [
        ["--method", "min-variance", "--dataset", "sp500-stocks"],
        ["--method", "max-sharpe", "--dataset", "sp500-stocks", "--max-weight", "0.1", "--risk-free", "0.02"],
        ["--method", "min-variance", "--dataset", "sp500-stocks", "--covariance", "ledoit-wolf", "--max-weight", "0.1"],
        ["--method", "inverse-volatility", "--dataset", "sp500-stocks"],
        ["--method", "equal", "--dataset", "factor-etfs"],
        ["--method", "hrp", "--dataset", "sp500-stocks", "--linkage", "ward"],
        ["--method", "herc", "--dataset", "sp500-stocks"],
        ["--method", "risk-parity", "--dataset", "sp500-stocks", "--covariance", "oas"],
        ["--method", "black-litterman", "--dataset", "sp500-stocks", "--view", "AAPL=0.10", "--view", "MSFT-AMD=0.02",
         "--confidence", "0.6", "--confidence", "0.3"],
    ])
    func weightsSumToOne(arguments: [String]) throws {
        let weights = try optimizedWeights(arguments)
        #expect(!weights.isEmpty)
        #expect(abs(weights.values.reduce(0, +) - 1) <= 1e-9)
        if let k = arguments.firstIndex(of: "--max-weight"), let cap = Double(arguments[k + 1]) {
            #expect(weights.values.allSatisfy { $0 <= cap + 1e-9 && $0 >= -1e-12 })
        }
    }

    /// The design note's split: stocks 40 %, bonds 30 %, ETFs 20 %, derivatives 10 %.
    @Test("hierarchical on the multi-asset universe: stocks 40, bonds 30, ETFs 20, derivatives 10 (1e-12)")
    func hierarchical() throws {
        let weights = try optimizedWeights(["--method", "hierarchical", "--dataset", "multi-asset", "--inner-method", "min-variance"])
        #expect(weights.count == 29)
        #expect(abs(["AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO", "LLY", "MRK", "MSFT", "PEP", "PFE", "PG",
                     "RRC", "UNH", "WMT", "XOM"].reduce(0) { $0 + weights[$1]! } - 0.4) <= 1e-12)
        #expect(abs(weights["AAA-TR"]! + weights["BAA-TR"]! - 0.3) <= 1e-12)
        #expect(abs(weights["SP500-PPUT"]! + weights["SP500-CCALL"]! - 0.1) <= 1e-12)
        #expect(abs(["MTUM", "QUAL", "SIZE", "USMV", "VLUE"].reduce(0) { $0 + weights[$1]! } - 0.2) <= 1e-12)
        let repeated = try runMetafolio(["optimize", "--method", "hierarchical", "--dataset", "multi-asset", "--budget", "equity=0.5",
                                         "--budget", "equity=0.4"])
        #expect(repeated.status != 0 && repeated.error.contains("equity twice"))
        let custom = try optimizedWeights(["--method", "hierarchical", "--dataset", "multi-asset", "--budget", "equity=0.5",
                                           "--budget", "etf=0.2", "--budget", "bond=0.2", "--budget", "derivative=0.1",
                                           "--inner-method", "equal-weight"])
        #expect(abs(custom["AAA-TR"]! - 0.1) <= 1e-12, "equal weight inside the two-asset bond class")
    }

    @Test("the text table lists every asset and the volatility")
    func table() throws {
        let result = try runMetafolio(["optimize", "--method", "min-variance", "--dataset", "factor-etfs"])
        #expect(result.status == 0)
        #expect(result.output.contains("USMV") && result.output.contains("volatility"))
    }

    @Test("a NaN in the price file is reported with a non-zero exit")
    func nanInCSV() throws {
        let path = try temporaryCSV("Date,A,B\n2020-01-01,1,2\n2020-01-02,1.1,NaN\n2020-01-03,1.2,2.1\n2020-01-06,1.1,2.2\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try runMetafolio(["optimize", "--method", "min-variance", "--prices", path])
        #expect(result.status != 0)
    }

    @Test("bad input exits non-zero", arguments: [
        ["optimize", "--method", "no-such-method", "--dataset", "sp500-stocks"],
        ["optimize", "--method", "min-variance", "--prices", "/no/such/file.csv"],
        ["optimize", "--method", "min-variance"],
        ["optimize", "--method", "min-variance", "--dataset", "sp500-stocks", "--max-weight", "0.01"],
        ["optimize", "--method", "black-litterman", "--dataset", "sp500-stocks", "--view", "TSLA=0.1"],
        ["optimize", "--method", "black-litterman", "--dataset", "sp500-stocks", "--view", "AAPL=0.1", "--confidence", "2"],
        ["optimize", "--method", "hierarchical", "--dataset", "multi-asset", "--budget", "equity=0.9"],
        ["optimize", "--method", "equal-weight", "--dataset", "sp500-stocks", "--max-weight", "0.1"],
        ["optimize", "--method", "hrp", "--dataset", "sp500-stocks", "--linkage", "centroid"],
    ])
    func badInput(arguments: [String]) throws {
        #expect(try runMetafolio(arguments).status != 0)
    }
}
