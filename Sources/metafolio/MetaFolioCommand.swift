import ArgumentParser
import MetaFolio

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
        version: MetaFolioVersion.string,
        subcommands: [VersionCommand.self, DatasetsCommand.self, RegimesCommand.self, DecomposeCommand.self,
                      OLPSCommand.self, OptimizeCommand.self, BacktestCommand.self, RunCommand.self, EIIECommand.self]
    )
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
