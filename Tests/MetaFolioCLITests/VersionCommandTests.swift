import Foundation
import Testing

/// Runs the built `metafolio` executable and captures its standard output and exit status.
func runMetafolio(_ arguments: [String]) throws -> (status: Int32, output: String) {
    // The test runner lives in the build products folder, beside the `metafolio` executable.
    let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let executable = runner.deletingLastPathComponent().appendingPathComponent("metafolio")
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        Issue.record("metafolio executable not found at \(executable.path)")
        return (-1, "")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("metafolio CLI")
struct VersionCommandTests {
    @Test("version prints the semantic version")
    func versionText() throws {
        let result = try runMetafolio(["version"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("metafolio "))
        let version = result.output.dropFirst("metafolio ".count).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.split(separator: ".").count == 3)
    }

    @Test("version --json prints a parsable object")
    func versionJSON() throws {
        let result = try runMetafolio(["version", "--json"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String]
        #expect(object?["name"] == "metafolio")
        #expect(object?["version"]?.isEmpty == false)
    }

    @Test("an unknown subcommand fails with a non-zero status")
    func unknownSubcommand() throws {
        let result = try runMetafolio(["no-such-command"])
        #expect(result.status != 0)
    }
}
