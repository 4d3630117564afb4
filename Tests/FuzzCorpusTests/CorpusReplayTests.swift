import Foundation
import FuzzTargets
import Testing

/// Replays every committed fuzz corpus file (`Fuzz/corpus/<target>/`) through its target: none
/// may trap. The fuzz targets themselves run under libFuzzer with `make fuzz`.
@Suite("fuzz corpus replay")
struct CorpusReplayTests {
    /// The package's `Fuzz/corpus` folder, found from this file's path.
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    @Test("every committed input of a target returns", arguments: FuzzTargets.all.map(\.name))
    func replay(target: String) throws {
        let run = try #require(FuzzTargets.all.first { $0.name == target }).run
        let folder = Self.corpus.appendingPathComponent(target)
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        #expect(!files.isEmpty, "no corpus in \(folder.path)")
        for file in files { run(try [UInt8](Data(contentsOf: file))) }
    }
}
