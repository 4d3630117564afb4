import ArgumentParser
import Foundation
import MetaFolio
#if canImport(Glibc)
import Glibc
#endif

/// The release of MetaFolio this tool was built from.
enum MetaFolioVersion {
    /// Semantic version string.
    static let string = "0.1.0"
}

/// The `metafolio` command-line tool.
@main
struct MetaFolioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metafolio",
        abstract: "Meta-learning multi-asset portfolio management.",
        discussion: """
        Exit status: 0 on success; 1 when the input data, a file or a computation fails (the message \
        names what and where); 2 for a usage error (an unknown command or option, a bad or \
        conflicting option value, also in a --config file).
        """,
        version: MetaFolioVersion.string,
        subcommands: [VersionCommand.self, DatasetsCommand.self, RegimesCommand.self, DecomposeCommand.self,
                      OLPSCommand.self, OptimizeCommand.self, BacktestCommand.self, RunCommand.self, EIIECommand.self, ForecastCommand.self]
    )

    /// Exit status of a usage error (argument-parser's own is 64, EX_USAGE).
    static let usageExitCode: Int32 = 2

    /// Parses, runs, and exits with the documented status (0, 1, 2).
    static func main() {
        // The optimizer drops releases on a path that ends in `exit`, which LeakSanitizer then reports as
        // leaks; the run's objects (the command, an error and its message) are released in a function
        // that returns first.
        Glibc.exit(runAndReport())
    }

    /// Parses and runs the command, prints the outcome, and maps it to the documented exit status in
    /// one place; standard output is flushed and checked, so a failed write (a full disk) is an error.
    @inline(never)
    static func runAndReport() -> Int32 {
        do {
            try checkHelpTopic(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot()
            try command.run()
            try flushStandardOutput()
            return 0
        } catch {
            let code = exitCode(for: error)
            let text = fullMessage(for: error)
            if code == .success {
                // Help and version requests print to standard output.
                if !text.isEmpty { print(text) }
                do { try flushStandardOutput() } catch {
                    standardError("Error: \(error)\n")
                    return 1
                }
                return 0
            }
            _ = fflush(nil)
            if !text.isEmpty { standardError(text + "\n") }
            return code == .validationFailure ? usageExitCode : code.rawValue
        }
    }

    /// `metafolio help NAME …` must name commands: argument-parser would print the root help and
    /// exit 0 for an unknown one.
    static func checkHelpTopic(_ arguments: [String]) throws {
        guard arguments.first == "help" else { return }
        var subcommands = MetaFolioCommand.configuration.subcommands
        for name in arguments.dropFirst() where !name.hasPrefix("-") {
            let names = subcommands.map { $0.configuration.commandName ?? "" }
            guard let position = names.firstIndex(of: name) else {
                throw ValidationError("no command \"\(name)\" to describe; commands: \(names.joined(separator: ", "))")
            }
            subcommands = subcommands[position].configuration.subcommands
        }
    }

    /// Flushes standard output and reports a write error (`print` alone drops it).
    static func flushStandardOutput() throws {
        // fflush(NULL) flushes every output stream (Swift 6 forbids naming the global `stdout`);
        // glibc keeps unwritten bytes buffered, so an earlier failed write fails here again.
        if fflush(nil) != 0 {
            throw CommandFailure(description: "cannot write to standard output: \(String(cString: strerror(errno)))")
        }
    }
}

/// `metafolio version`: prints the library version.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the MetaFolio version."
    )

    @Flag(name: .long, help: "Print a JSON object instead of plain text.")
    var json = false

    func run() throws {
        if json {
            print("{\"name\":\"metafolio\",\"version\":\"\(MetaFolioVersion.string)\"}")
        } else {
            print("metafolio \(MetaFolioVersion.string)")
        }
    }
}
