import Foundation
import Testing

/// One bad-input run of `metafolio`: the arguments, an optional input file, and what must happen.
///
/// In `arguments`, `$CSV` stands for the input file (written from `file`), `$DIR` for a fresh
/// scratch directory and `$FILE` for a regular file inside it (where a directory is expected).
struct BadInput: Sendable, CustomTestStringConvertible {
    let name: String
    let arguments: [String]
    let file: [UInt8]?
    /// The expected exit status: 1 for bad data or output, 2 for a usage error.
    let status: Int32
    /// Substrings standard error must contain (what was wrong and where).
    let message: [String]
    /// Where standard output goes (`/dev/full` for write-error cases); `nil` captures it.
    let standardOutput: String?

    init(_ name: String, _ arguments: [String], csv: String? = nil, bytes: [UInt8]? = nil, status: Int32,
         _ message: String..., standardOutput: String? = nil) {
        self.name = name
        self.arguments = arguments
        self.file = bytes ?? csv.map { Array($0.utf8) }
        self.status = status
        self.message = message
        self.standardOutput = standardOutput
    }

    var testDescription: String { name }
}

/// Prices of two assets over `rows` days from 2020-01-01, with `cell` in place of row `at`'s second value.
private func prices(rows: Int = 6, at: Int? = nil, cell: String = "") -> String {
    var lines = ["date,A,B"]
    for t in 0..<rows {
        let day = String(format: "2020-01-%02d", t + 1)
        let b = t == at ? cell : String(50 + t % 3)
        lines.append("\(day),\(100 + t),\(b)")
    }
    return lines.joined(separator: "\n") + "\n"
}

/// `text` as UTF-16 code units, little-endian.
private func utf16(_ text: String) -> [UInt8] { Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

/// A one-column wide CSV with `values` on consecutive days.
private func series(_ values: [String]) -> String {
    "date,A\n" + values.enumerated().map { String(format: "2020-01-%02d,", $0.offset + 1) + $0.element }.joined(separator: "\n") + "\n"
}

private let wide = "date," + (0...10_000).map { "C\($0)" }.joined(separator: ",") + "\n"
private let fiveThousand = (0...5_000).map { "C\($0)" }
/// 5 001 assets over three days.
private func manyAssetsCSV() -> String {
    var lines = ["date," + fiveThousand.joined(separator: ",")]
    for day in 1...3 {
        let row: [String] = fiveThousand.map { _ in String(100 + day) }
        lines.append("2020-01-0\(day)," + row.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
}

private let manyAssets = manyAssetsCSV()

/// CSV shape.
private let shapeCases: [BadInput] = [
    BadInput("empty file", ["backtest", "--prices", "$CSV"], csv: "", status: 1, "the file is empty"),
    BadInput("header only", ["backtest", "--prices", "$CSV"], csv: "date,A\n", status: 1, "header but no data rows"),
    BadInput("date column only: regimes", ["regimes", "--prices", "$CSV"], csv: "date\n2020-01-01\n2020-01-02\n", status: 1, ":1: the header has no value column"),
    BadInput("date column only: decompose", ["decompose", "--series", "$CSV"], csv: "date\n2020-01-01\n", status: 1, "no value column"),
    BadInput("date column only: optimize", ["optimize", "--method", "hrp", "--prices", "$CSV"], csv: "date\n2020-01-01\n", status: 1, "no value column"),
    BadInput("date column only: backtest", ["backtest", "--prices", "$CSV"], csv: "date\n2020-01-01\n", status: 1, "no value column"),
    BadInput("ragged row", ["backtest", "--prices", "$CSV"], csv: "date,A\n2020-01-01,1\n2020-01-02,1,2\n", status: 1, ":3: row has 3 fields, the header has 2"),
    BadInput("duplicate column", ["optimize", "--method", "hrp", "--prices", "$CSV"], csv: "date,A,A\n2020-01-01,1,2\n", status: 1, ":1:3: duplicate column \"A\""),
    BadInput("empty column name", ["backtest", "--prices", "$CSV"], csv: "date,,B\n2020-01-01,1,2\n", status: 1, ":1:2: empty column name"),
    BadInput("missing header", ["backtest", "--prices", "$CSV"], csv: "2020-01-01,1\n2020-01-02,2\n", status: 1, ":1: missing header line"),
    BadInput("an impossible date", ["backtest", "--prices", "$CSV"], csv: series(["1", "2"]).replacingOccurrences(of: "01-02", with: "01-00"), status: 1, ":3:1: cannot parse \"2020-01-00\" as a date"),
    BadInput("dates out of order", ["backtest", "--prices", "$CSV"], csv: "date,A\n2020-01-02,1\n2020-01-01,2\n", status: 1, ":3:1: date 2020-01-01 comes after 2020-01-02"),
    BadInput("duplicate date", ["regimes", "--prices", "$CSV"], csv: "date,A\n2020-01-01,1\n2020-01-01,2\n", status: 1, ":3:1: duplicate date"),
    BadInput("unparsable date", ["decompose", "--series", "$CSV"], csv: "date,A\n2020-01-01,1\nyesterday,2\n", status: 1, ":3:1: cannot parse \"yesterday\" as a date"),
    BadInput("unclosed quote", ["backtest", "--prices", "$CSV"], csv: "date,A\n2020-01-01,\"1\n", status: 1, ":2:2: malformed quoted field"),
    BadInput("unknown column", ["regimes", "--prices", "$CSV", "--column", "NOPE"], csv: prices(), status: 1, "column \"NOPE\" is not in", "available: \"A\", \"B\""),
    BadInput("too few rows for the states", ["regimes", "--prices", "$CSV", "--states", "5"], csv: prices(rows: 3), status: 1, "3 observations are too few for 5 states"),
    BadInput("no such file", ["backtest", "--prices", "/nonexistent/p.csv"], status: 1, "/nonexistent/p.csv", "cannot"),
    BadInput("a directory as the prices file", ["regimes", "--prices", "$DIR"], status: 1, "cannot read"),
]

/// Values.
private let valueCases: [BadInput] = [
    BadInput("zero price", ["backtest", "--prices", "$CSV"], csv: prices(at: 2, cell: "0"), status: 1, ":4:3: price 0.0 is not positive"),
    BadInput("negative price", ["optimize", "--method", "hrp", "--prices", "$CSV"], csv: prices(at: 1, cell: "-5"), status: 1, ":3:3: price -5.0 is not positive"),
    BadInput("subnormal price", ["backtest", "--prices", "$CSV"], csv: prices(at: 3, cell: "1e-320"), status: 1, ":5:3: price", "below the smallest accepted price"),
    BadInput("text in a price cell", ["backtest", "--prices", "$CSV"], csv: prices(at: 0, cell: "abc"), status: 1, ":2:3: cannot parse \"abc\" as a number"),
    BadInput("infinite price", ["regimes", "--prices", "$CSV", "--column", "B"], csv: prices(at: 0, cell: "inf"), status: 1, ":2:3: cannot parse \"inf\""),
    BadInput("price beyond Double", ["backtest", "--prices", "$CSV"], csv: prices(at: 1, cell: "1e400"), status: 1, ":3:3: cannot parse \"1e400\""),
    BadInput("k-means on values beyond 1e150", ["regimes", "--model", "kmeans", "--prices", "$CSV"], csv: series(["1", "2", "1e200", "3"]), status: 1, "A at 2020-01-03 is 1e+200", "beyond ±1e+150"),
    BadInput("GMM on values beyond 1e150", ["regimes", "--model", "gmm", "--prices", "$CSV"], csv: series(["1", "2", "1e200", "3"]), status: 1, "A at 2020-01-03 is 1e+200"),
    BadInput("HMM on values beyond 1e150", ["regimes", "--model", "hmm", "--prices", "$CSV"], csv: series(["1", "2", "1e200", "3"]), status: 1, "A at 2020-01-03 is 1e+200"),
    BadInput("annual return beyond Double", ["backtest", "--prices", "$CSV"], csv: series(["1", "1e300", "1e300", "1e300"]), status: 1, "annual return is inf"),
    BadInput("price relative beyond Double", ["backtest", "--prices", "$CSV"], csv: series(["1e-300", "1e300", "1e300"]), status: 1, "2020-01-02", "leaves the range of a Double"),
    BadInput("a negative price for regimes", ["regimes", "--prices", "$CSV", "--log-returns"], csv: series(["1", "2", "3"]).replacingOccurrences(of: ",2\n", with: ",-2\n"), status: 1, ":3:2: price -2.0 is not positive"),
]

/// Sizes.
private let sizeCases: [BadInput] = [
    BadInput("a 5000-byte cell", ["backtest", "--prices", "$CSV"], csv: prices(at: 1, cell: String(repeating: "9", count: 5_000)), status: 1, ":3:3: the field is longer than 4096 bytes"),
    BadInput("a record with no line end", ["regimes", "--prices", "$CSV"], csv: "date,A\n2020-01-01," + String(repeating: "1", count: 10_000), status: 1, ":2:2: the field is longer than 4096 bytes"),
    BadInput("10 001 columns", ["optimize", "--method", "hrp", "--prices", "$CSV"], csv: wide, status: 1, ":1: the record has more than 10000 fields"),
    BadInput("5 001 assets for a covariance", ["optimize", "--method", "min-variance", "--prices", "$CSV"], csv: manyAssets, status: 1, "5001 assets exceed the limit of 5000"),
    BadInput("/dev/zero as prices", ["backtest", "--prices", "/dev/zero"], status: 1, "/dev/zero: not UTF-8 text (NUL bytes in the first line)"),
    BadInput("--states above the limit", ["regimes", "--dataset", "sp500-stocks", "--states", "101"], status: 2, "--states must be in 1…100"),
    BadInput("--states 0", ["regimes", "--dataset", "sp500-stocks", "--states", "0"], status: 2, "--states must be in 1…100"),
    BadInput("--levels 31", ["decompose", "--dataset", "sp500-stocks", "--levels", "31"], status: 2, "--levels must be in 1…30"),
    BadInput("--lookback Int.max", ["backtest", "--dataset", "sp500-stocks", "--strategy", "min-variance", "--lookback", "9223372036854775807"], status: 2, "--lookback must be in 2…1000000"),
    BadInput("--lookback Int.max in a config", ["backtest", "--config", "$CSV"], csv: #"{"dataset": "sp500-stocks", "strategy": "min-variance", "lookback": 9223372036854775807}"#, status: 2, "--lookback must be in 2…1000000"),
    BadInput("--lookback 1", ["backtest", "--dataset", "sp500-stocks", "--strategy", "min-variance", "--lookback", "1"], status: 2, "--lookback must be in 2…1000000"),
    BadInput("run --lookback 346", ["run", "--lookback", "346", "--report", "$DIR/r"], status: 2, "--lookback must be in 12…100", "not 346"),
    BadInput("run --lookback Int.max", ["run", "--lookback", "9223372036854775807", "--report", "$DIR/r"], status: 2, "--lookback must be in 12…100"),
    BadInput("run --lookback overflowing Int", ["run", "--lookback", "99999999999999999999"], status: 2, "--lookback"),
]

/// Encodings.
private let encodingCases: [BadInput] = [
    BadInput("UTF-16 little-endian with a mark", ["backtest", "--prices", "$CSV"], bytes: [0xFF, 0xFE] + utf16(prices()), status: 1, "not UTF-8 text (a UTF-16 byte-order mark)"),
    BadInput("UTF-16 big-endian with a mark", ["regimes", "--prices", "$CSV"], bytes: [0xFE, 0xFF, 0, 0x64], status: 1, "a UTF-16 byte-order mark"),
    BadInput("UTF-16 without a mark", ["decompose", "--series", "$CSV"], bytes: utf16(prices()), status: 1, "NUL bytes in the first line"),
    BadInput("UTF-32 with a mark", ["optimize", "--method", "hrp", "--prices", "$CSV"], bytes: [0xFF, 0xFE, 0, 0] + Array("d".utf8), status: 1, "a UTF-32 byte-order mark"),
    BadInput("a NUL byte in a cell", ["backtest", "--prices", "$CSV"], csv: prices(at: 2, cell: "5\u{0}0"), status: 1, ":4:3: cannot parse \"5\\u{0}0\" as a number"),
    BadInput("a control byte in a cell", ["backtest", "--prices", "$CSV"], csv: prices(at: 2, cell: "\u{1B}[31m"), status: 1, ":4:3: cannot parse \"\\u{1b}[31m\""),
    BadInput("invalid UTF-8 in a cell", ["backtest", "--prices", "$CSV"], bytes: Array(prices().utf8) + [0x32, 0x30, 0x32, 0x30, 0x2D, 0x30, 0x31, 0x2D, 0x31, 0x30, 0x2C, 0xFF, 0x2C, 0x31, 0x0A], status: 1, ":8:2: cannot parse \"\\u{FFFD}\""),
    BadInput("a mark and CRLF keep line numbers", ["backtest", "--prices", "$CSV"], bytes: [0xEF, 0xBB, 0xBF] + Array(prices(at: 3, cell: "x").replacingOccurrences(of: "\n", with: "\r\n").utf8), status: 1, ":5:3: cannot parse \"x\""),
    BadInput("CR line ends keep line numbers", ["backtest", "--prices", "$CSV"], csv: prices(at: 4, cell: "y").replacingOccurrences(of: "\n", with: "\r"), status: 1, ":6:3: cannot parse \"y\""),
    BadInput("a long cell is quoted short", ["backtest", "--prices", "$CSV"], csv: prices(at: 0, cell: "\"" + String(repeating: "z", count: 1_000) + "\""), status: 1, ":2:3: cannot parse \"zzzz", "…\""),
]

/// Numeric options.
private let optionCases: [BadInput] = [
    BadInput("--risk-free nan", ["optimize", "--method", "min-variance", "--dataset", "sp500-stocks", "--risk-free", "nan"], status: 2, "--risk-free must be a finite number"),
    BadInput("--risk-free inf", ["optimize", "--method", "hrp", "--dataset", "sp500-stocks", "--risk-free", "inf"], status: 2, "--risk-free must be a finite number"),
    BadInput("--risk-free -inf", ["optimize", "--method", "equal", "--dataset", "sp500-stocks", "--risk-free=-inf"], status: 2, "--risk-free must be a finite number"),
    BadInput("--max-weight nan", ["optimize", "--method", "min-variance", "--dataset", "sp500-stocks", "--max-weight", "nan"], status: 2, "--max-weight must be a finite number"),
    BadInput("--tau nan", ["optimize", "--method", "black-litterman", "--dataset", "sp500-stocks", "--tau", "nan"], status: 2, "--tau must be a finite number"),
    BadInput("--periods-per-year 0", ["optimize", "--method", "hrp", "--dataset", "sp500-stocks", "--periods-per-year", "0"], status: 2, "--periods-per-year must be a positive number"),
    BadInput("--periods-per-year -inf", ["optimize", "--method", "hrp", "--dataset", "sp500-stocks", "--periods-per-year=-inf"], status: 2, "--periods-per-year must be a positive number"),
    BadInput("--confidence 2", ["optimize", "--method", "black-litterman", "--dataset", "sp500-stocks", "--view", "AAPL=0.1", "--confidence", "2"], status: 2, "--confidence must be in [0, 1]"),
    BadInput("--view AAPL=nan", ["optimize", "--method", "black-litterman", "--dataset", "sp500-stocks", "--view", "AAPL=nan"], status: 2, "--view AAPL=nan"),
    BadInput("--view AAPL-AAPL", ["optimize", "--method", "black-litterman", "--dataset", "sp500-stocks", "--view", "AAPL-AAPL=0.02"], status: 1, "view 0", "picks no asset"),
    BadInput("--view on an unknown asset", ["optimize", "--method", "black-litterman", "--dataset", "sp500-stocks", "--view", "NOPE=0.1"], status: 1, "NOPE"),
    BadInput("backtest --fee nan", ["backtest", "--dataset", "sp500-stocks", "--fee", "nan"], status: 2, "--fee must be in [0, 1)"),
    BadInput("backtest --fee -0.1", ["backtest", "--dataset", "sp500-stocks", "--fee=-0.1"], status: 2, "--fee must be in [0, 1)"),
    BadInput("backtest --fee 1.5 in a config", ["backtest", "--config", "$CSV"], csv: #"{"dataset": "sp500-stocks", "fee": 1.5}"#, status: 2, "--fee must be in [0, 1)"),
    BadInput("backtest --threshold -1", ["backtest", "--dataset", "sp500-stocks", "--threshold=-1"], status: 2, "--threshold must be in (0, 1)"),
    BadInput("backtest --threshold inf", ["backtest", "--dataset", "sp500-stocks", "--threshold", "inf"], status: 2, "--threshold must be in (0, 1)"),
    BadInput("backtest --lag 2", ["backtest", "--dataset", "sp500-stocks", "--lag", "2"], status: 2, "--lag must be 0 or 1"),
    BadInput("run --fee nan", ["run", "--fee", "nan"], status: 2, "--fee must be in [0, 1)"),
    BadInput("run --fee -1", ["run", "--fee=-1"], status: 2, "--fee must be in [0, 1)"),
    BadInput("run --floor nan", ["run", "--floor", "nan"], status: 2, "--floor must be in [0, 1)"),
    BadInput("run --multiplier inf", ["run", "--multiplier", "inf"], status: 2, "--multiplier must be positive"),
    BadInput("run --multiplier -1", ["run", "--multiplier=-1"], status: 2, "--multiplier must be positive"),
    BadInput("decompose --levels 0", ["decompose", "--dataset", "sp500-stocks", "--levels", "0"], status: 2, "--levels must be in 1…30"),
    BadInput("decompose levels beyond the series", ["decompose", "--series", "$CSV", "--levels", "3"], csv: series(["1", "2", "3"]), status: 1, "3"),
    BadInput("--json-weights 1", ["backtest", "--dataset", "sp500-stocks", "--report", "$DIR/r", "--json-weights", "1"], status: 2, "--json-weights"),
]

/// Conflicting flags.
private let conflictCases: [BadInput] = [
    BadInput("--threshold with --rebalance", ["backtest", "--dataset", "sp500-stocks", "--threshold", "0.1", "--rebalance", "monthly"], status: 2, "only one of --threshold and --rebalance"),
    BadInput("--weights without fixed", ["backtest", "--dataset", "sp500-stocks", "--weights", "AAPL=1"], status: 2, "--weights applies only to --strategy fixed"),
    BadInput("--weights on an unknown asset", ["backtest", "--dataset", "sp500-stocks", "--strategy", "fixed", "--weights", "NOPE=1"], status: 1, "--weights names \"NOPE\", which is not among the assets"),
    BadInput("--lookback longer than the prices", ["backtest", "--prices", "$CSV", "--strategy", "min-variance", "--lookback", "10"], csv: prices(), status: 1, "--lookback 10 needs at least 12 rows of prices", "have 6"),
    BadInput("--lookback with equal", ["backtest", "--dataset", "sp500-stocks", "--lookback", "50"], status: 2, "--lookback applies only to the estimating strategies"),
    BadInput("--dataset and --prices", ["backtest", "--dataset", "sp500-stocks", "--prices", "$CSV"], csv: prices(), status: 2, "only one of --dataset and --prices"),
    BadInput("--json-weights without --report", ["backtest", "--dataset", "sp500-stocks", "--json-weights", "40"], status: 2, "--json-weights needs --report"),
    BadInput("--view with min-variance", ["optimize", "--method", "min-variance", "--dataset", "sp500-stocks", "--view", "AAPL=0.1"], status: 2, "--view and --confidence apply only"),
    BadInput("--budget with hrp", ["optimize", "--method", "hrp", "--dataset", "sp500-stocks", "--budget", "equity=1"], status: 2, "--budget applies only"),
    BadInput("--min-weight with hrp", ["optimize", "--method", "hrp", "--dataset", "sp500-stocks", "--min-weight", "0.1"], status: 2, "--min-weight applies only"),
    BadInput("regimes with --dataset and --prices", ["regimes", "--dataset", "sp500-stocks", "--prices", "$CSV"], csv: prices(), status: 2, "only one of --dataset and --prices"),
    BadInput("config: unknown key", ["backtest", "--config", "$CSV"], csv: #"{"dataset": "sp500-stocks", "feee": 0.1}"#, status: 2, "unknown key \"feee\""),
    BadInput("config: repeated key", ["backtest", "--config", "$CSV"], csv: #"{"dataset": "sp500-stocks", "fee": 0.1, "fee": 0.2}"#, status: 2, "key \"fee\" appears twice"),
    BadInput("config: mistyped value", ["backtest", "--config", "$CSV"], csv: #"{"dataset": "sp500-stocks", "fee": "high"}"#, status: 2, "\"fee\" must be a number"),
    BadInput("config: not JSON", ["backtest", "--config", "$CSV"], csv: "dataset = sp500", status: 2, "not a JSON object"),
    BadInput("config: conflict with the command line", ["backtest", "--config", "$CSV", "--rebalance", "monthly"], csv: #"{"dataset": "sp500-stocks", "threshold": 0.1}"#, status: 2, "only one of --threshold and --rebalance"),
    BadInput("config: missing file", ["backtest", "--config", "/nonexistent/c.json"], status: 1, "cannot read the config file /nonexistent/c.json"),
    BadInput("help on an unknown command", ["help", "nope"], status: 2, "no command \"nope\""),
    BadInput("an unknown command", ["nope"], status: 2, "nope"),
    BadInput("an unknown option", ["backtest", "--nope"], status: 2, "--nope"),
    BadInput("an option without its value", ["regimes", "--states"], status: 2, "--states"),
]

/// Output paths.
private let outputCases: [BadInput] = [
    BadInput("--report names a file", ["backtest", "--dataset", "sp500-stocks", "--report", "$FILE"], status: 1, "exists and is not a directory"),
    BadInput("--report below a file", ["backtest", "--dataset", "sp500-stocks", "--report", "$FILE/sub"], status: 1, "/plain/sub", "Not a directory"),
    BadInput("run --report names a file", ["run", "--report", "$FILE"], status: 1, "exists and is not a directory"),
    BadInput("backtest --json to /dev/full", ["backtest", "--dataset", "sp500-stocks", "--json"], status: 1, "cannot write to standard output", standardOutput: "/dev/full"),
    BadInput("optimize to /dev/full", ["optimize", "--method", "hrp", "--dataset", "sp500-stocks"], status: 1, "cannot write to standard output", standardOutput: "/dev/full"),
    BadInput("version to /dev/full", ["version"], status: 1, "cannot write to standard output", standardOutput: "/dev/full"),
    BadInput("--help to /dev/full", ["--help"], status: 1, "cannot write to standard output", standardOutput: "/dev/full"),
]

/// Every family of bad input, each case with its exit status and the words of its message.
private let cases: [BadInput] = shapeCases + valueCases + sizeCases + encodingCases + optionCases + conflictCases + outputCases

@Suite("metafolio bad input")
struct BadInputTests {
    /// Runs `input` in a fresh scratch directory: the exit status, the message, nothing on standard
    /// output, and no file left behind besides the input (no partial report, no temporary file).
    @Test("bad input exits 1 or 2 with a message naming what and where, leaving no output", arguments: cases)
    func badInput(_ input: BadInput) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bad-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("input.csv")
        if let bytes = input.file { try Data(bytes).write(to: csv) }
        let plain = directory.appendingPathComponent("plain")
        try Data("x".utf8).write(to: plain)
        let before = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        let arguments = input.arguments.map {
            $0.replacingOccurrences(of: "$CSV", with: csv.path).replacingOccurrences(of: "$FILE", with: plain.path)
                .replacingOccurrences(of: "$DIR", with: directory.path)
        }
        let result = try runMetafolio(arguments, standardOutputPath: input.standardOutput)
        #expect(result.status == input.status, "\(input.name): exit \(result.status), stderr: \(result.error)")
        for part in input.message {
            #expect(result.error.contains(part), "\(input.name): \"\(part)\" missing from: \(result.error)")
        }
        #expect(result.output.isEmpty, "\(input.name) printed: \(result.output.prefix(200))")
        #expect(result.error.count < 2_000, "\(input.name): a \(result.error.count)-character message")
        #expect(!result.error.contains("Fatal error") && !result.error.contains("Stack dump"))
        let after = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(after == before, "\(input.name) left \(Set(after).subtracting(before).sorted())")
    }

    @Test("the suite covers at least 80 cases")
    func count() { #expect(cases.count >= 80) }
}
