import Foundation
import Testing

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
