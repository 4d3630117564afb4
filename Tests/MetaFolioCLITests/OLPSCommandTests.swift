import Foundation
import Market
import Testing

@Suite("metafolio olps")
struct OLPSCommandTests {
    /// UBAH on DJIA (full history): the mean of the 30 assets' final relative prices, which is the mean
    /// of the file's last row (the day-0 price is 1). The file's last row is read here with Foundation
    /// only. Tolerance 1e-12 relative.
    @Test("olps --json reports finalWealth, periods and the dataset")
    func ubahJSON() throws {
        let result = try runMetafolio(["olps", "--algorithm", "ubah", "--dataset", "olps-djia", "--json"])
        #expect(result.status == 0, "\(result.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["periods"] as? Int == 507)
        #expect(object["dataset"] as? String == "olps-djia")
        #expect(object["algorithm"] as? String == "ubah")
        let wealth = try #require(object["finalWealth"] as? Double)
        let text = try String(contentsOfFile: Dataset.olpsDJIA.resourcePath(), encoding: .utf8)
        let lastRow = try #require(text.split(separator: "\n").last).split(separator: ",").compactMap { Double($0) }
        #expect(lastRow.count == 30)
        let expected = lastRow.reduce(0, +) / Double(lastRow.count)
        #expect(abs(wealth - expected) <= 1e-12 * expected, "\(wealth) vs \(expected)")
    }

    @Test("olps on a price file: UCRP earns the hand-computed wealth")
    func pricesFile() throws {
        // Prices: A 1 → 2 → 2, B 1 → 1 → 2. UCRP: (1.5)·(1.5) = 2.25; tolerance 1e-12 relative.
        let path = try temporaryCSV("date,A,B\n2024-01-02,1,1\n2024-01-03,2,1\n2024-01-04,2,2\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try runMetafolio(["olps", "--algorithm", "ucrp", "--prices", path, "--json"])
        #expect(result.status == 0, "\(result.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let wealth = try #require(object["finalWealth"] as? Double)
        #expect(abs(wealth - 2.25) <= 1e-12 * 2.25)
        #expect(object["periods"] as? Int == 2)
    }

    /// UCRP on prices A 1 → 2 → 2, B 1 → 1 → 2 with fee 0.02. Toolbox convention (default): tc/2 per
    /// unit traded and the drifted portfolio divided by the net return, so period 0 nets 1.5 · 0.99 and
    /// period 1 trades Σ|½ − b_o| with b_o = (1, ½)/1.485. Paper convention: 0.02 per unit traded and the
    /// gross drift (⅓ traded in period 1). Tolerance 1e-12 relative.
    @Test("olps --convention: the toolbox's and the paper's fee, by hand")
    func conventions() throws {
        let path = try temporaryCSV("date,A,B\n2024-01-02,1,1\n2024-01-03,2,1\n2024-01-04,2,2\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        func run(_ extra: [String]) throws -> [String: Any] {
            let result = try runMetafolio(["olps", "--algorithm", "ucrp", "--prices", path, "--fee", "0.02", "--json"] + extra)
            #expect(result.status == 0, "\(result.error)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        }
        let toolbox = try run([])
        #expect(toolbox["convention"] as? String == "toolbox")
        let net0 = 1.5 * 0.99
        let traded = abs(0.5 - 1 / net0) + abs(0.5 - 0.5 / net0)
        let expectedToolbox = net0 * 1.5 * (1 - 0.01 * traded)
        let wealthToolbox = try #require(toolbox["finalWealth"] as? Double)
        #expect(abs(wealthToolbox - expectedToolbox) <= 1e-12 * expectedToolbox, "\(wealthToolbox) vs \(expectedToolbox)")
        let paper = try run(["--convention", "paper"])
        #expect(paper["convention"] as? String == "paper")
        let expectedPaper = 1.5 * 0.98 * 1.5 * (1 - 0.02 / 3)
        let wealthPaper = try #require(paper["finalWealth"] as? Double)
        #expect(abs(wealthPaper - expectedPaper) <= 1e-12 * expectedPaper, "\(wealthPaper) vs \(expectedPaper)")
        let bad = try runMetafolio(["olps", "--algorithm", "ucrp", "--prices", path, "--convention", "matlab"])
        #expect(bad.status != 0)
        #expect(bad.error.contains("--convention"))
    }

    @Test("a fee lowers the wealth")
    func fee() throws {
        func wealth(_ fee: String) throws -> Double {
            let object = try jsonObject(["olps", "--algorithm", "olmar", "--dataset", "olps-msci", "--fee", fee, "--json"])
            return try #require(object["finalWealth"] as? Double)
        }
        #expect(try wealth("0.001") < wealth("0"))
    }

    @Test("an unknown algorithm is rejected with the list of known ones")
    func badAlgorithm() throws {
        let result = try runMetafolio(["olps", "--algorithm", "olmr", "--dataset", "olps-djia"])
        #expect(result.status != 0)
        #expect(result.error.contains("unknown OLPS algorithm \"olmr\""))
        #expect(result.error.contains("olmar"))
    }

    @Test("a missing price file is reported")
    func missingFile() throws {
        let result = try runMetafolio(["olps", "--algorithm", "eg", "--prices", "/nonexistent/prices.csv"])
        #expect(result.status != 0)
        #expect(result.error.contains("/nonexistent/prices.csv"))
    }

    @Test("a non-positive price is reported with its place")
    func nonPositivePrice() throws {
        let path = try temporaryCSV("date,A,B\n2024-01-02,1,1\n2024-01-03,0,1\n2024-01-04,2,2\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try runMetafolio(["olps", "--algorithm", "eg", "--prices", path])
        #expect(result.status != 0)
        #expect(result.error.contains("0"))
        #expect(result.error.lowercased().contains("price"))
    }

    @Test("a bad fee and a bad variant are rejected")
    func badOptions() throws {
        let fee = try runMetafolio(["olps", "--algorithm", "eg", "--dataset", "olps-djia", "--fee", "-0.1"])
        #expect(fee.status != 0)
        #expect(fee.error.contains("--fee"))
        let variant = try runMetafolio(["olps", "--algorithm", "pamr", "--variant", "9", "--dataset", "olps-djia"])
        #expect(variant.status != 0)
        #expect(variant.error.contains("variant 9"))
    }
}
