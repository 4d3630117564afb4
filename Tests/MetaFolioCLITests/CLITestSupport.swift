import Foundation
import Testing

/// What a `metafolio` run printed and how it exited.
struct CommandResult {
    /// The exit status.
    let status: Int32
    /// Standard output.
    let output: String
    /// Standard error.
    let error: String
}

/// Runs the built `metafolio` executable, capturing standard output and standard error. Standard
/// error goes through a temporary file so a chatty command cannot block on a full pipe. With
/// `standardOutputPath` (for example `/dev/full`) standard output goes to that file instead.
func runMetafolio(_ arguments: [String], standardOutputPath: String? = nil) throws -> CommandResult {
    // The test runner lives in the build products folder, beside the `metafolio` executable.
    let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let executable = runner.deletingLastPathComponent().appendingPathComponent("metafolio")
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        Issue.record("metafolio executable not found at \(executable.path)")
        return CommandResult(status: -1, output: "", error: "")
    }
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("metafolio-stderr-\(UUID().uuidString)")
    guard FileManager.default.createFile(atPath: errorFile.path, contents: nil) else {
        Issue.record("cannot create \(errorFile.path)")
        return CommandResult(status: -1, output: "", error: "")
    }
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let errorHandle = try FileHandle(forWritingTo: errorFile)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let output = Pipe()
    let outputFile = try standardOutputPath.map { path in
        try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }
    process.standardOutput = outputFile ?? output
    process.standardError = errorHandle
    try process.run()
    let data = outputFile == nil ? output.fileHandleForReading.readDataToEndOfFile() : Data()
    process.waitUntilExit()
    try errorHandle.close()
    try outputFile?.close()
    return CommandResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self),
                         error: String(decoding: try Data(contentsOf: errorFile), as: UTF8.self))
}

/// The JSON object printed by a successful `metafolio` run.
func jsonObject(_ arguments: [String]) throws -> [String: Any] {
    let result = try runMetafolio(arguments)
    #expect(result.status == 0, "metafolio \(arguments.joined(separator: " ")) failed: \(result.error)")
    return try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
}

/// A CSV file with `contents` in the temporary directory, under a unique name; the caller removes it.
func temporaryCSV(_ contents: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("metafolio-\(UUID().uuidString).csv").path
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
