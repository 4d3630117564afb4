import Foundation

/// An error of the test helpers themselves: a missing or malformed fixture, an unknown case name.
public struct FixtureError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// An error saying `description`.
    public init(description: String) {
        self.description = description
    }
}

/// The `Fixtures/` folder of one test target's resource bundle: peer outputs as small JSON files,
/// written by the scripts in `Scripts/fixtures/`.
public struct FixtureBundle: Sendable {
    private let bundle: Bundle

    /// The fixtures of `bundle` (a test target passes its `Bundle.module`).
    public init(_ bundle: Bundle) {
        self.bundle = bundle
    }

    /// The URL of `Fixtures/<name>.<ext>`.
    ///
    /// - Throws: ``FixtureError`` naming the file when the bundle lacks it.
    public func url(_ name: String, withExtension ext: String = "json") throws -> URL {
        guard let url = bundle.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") else {
            throw FixtureError(description: "fixture \(name).\(ext) not found in the test bundle; run its script in Scripts/fixtures/")
        }
        return url
    }

    /// Decodes `Fixtures/<name>.json`.
    ///
    /// - Throws: ``FixtureError`` for a missing file, and `DecodingError` for one that does not decode.
    public func load<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }
}
