import Foundation

/// The settings of a `metafolio backtest --config` file: a JSON object whose keys are the long
/// option names. Parsed here, outside the command, so that tests and the fuzz targets in `Fuzz/`
/// can reach the parser without running the tool.
package struct BacktestConfigFile: Decodable, Sendable {
    package var dataset: String?
    package var prices: String?
    package var strategy: String?
    package var weights: String?
    package var lookback: Int?
    package var rebalance: String?
    package var threshold: Double?
    package var fee: Double?
    package var costMethod: String?
    package var lag: Int?
    package var cash: Bool?

    /// The JSON keys, in the order the command's help lists them.
    package enum CodingKeys: String, CodingKey, CaseIterable {
        case dataset, prices, strategy, weights, lookback, rebalance, threshold, fee, lag, cash
        case costMethod = "cost-method"
    }

    /// Why a config file was refused; `message` is the text the command prints.
    package enum Failure: Error, Equatable, CustomStringConvertible {
        /// The file could not be read (an input error, exit status 1).
        case unreadable(String)
        /// The file's content is not valid settings (a usage error, exit status 2).
        case invalid(String)

        /// The message, naming the file.
        package var description: String {
            switch self {
            case .unreadable(let message), .invalid(let message): message
            }
        }
    }

    /// No settings: every option at its command-line value or default.
    package init() {}

    /// The settings of the JSON file at `path`.
    /// - Throws: ``Failure/unreadable(_:)`` when the file cannot be read, else the errors of
    ///   ``parse(_:path:)``.
    package static func load(_ path: String) throws(Failure) -> BacktestConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable("cannot read the config file \(path)")
        }
        return try parse(data, path: path)
    }

    /// The settings in `data`; `path` names the file in messages. Unknown and repeated keys are
    /// errors (a decoder would ignore the first and keep one of the second silently), as are
    /// mistyped values.
    /// - Throws: ``Failure/invalid(_:)``.
    package static func parse(_ data: Data, path: String) throws(Failure) -> BacktestConfigFile {
        guard let keys = JSONObjectKeys.topLevel(data) else {
            throw .invalid("config file \(path): not a JSON object")
        }
        let known = CodingKeys.allCases.map(\.stringValue)
        var seen = Set<String>()
        for key in keys {
            guard known.contains(key) else {
                throw .invalid("config file \(path): unknown key \(MarketError.excerpt(key)); known keys: \(known.joined(separator: ", "))")
            }
            guard seen.insert(key).inserted else { throw .invalid("config file \(path): key \"\(key)\" appears twice") }
        }
        do {
            return try JSONDecoder().decode(BacktestConfigFile.self, from: data)
        } catch let DecodingError.typeMismatch(type, context) {
            let key = context.codingPath.first?.stringValue ?? "?"
            throw .invalid("config file \(path): \"\(key)\" must be \(type == Bool.self ? "true or false" : type == String.self ? "a string" : "a number")")
        } catch {
            throw .invalid("config file \(path): not valid JSON settings")
        }
    }
}
