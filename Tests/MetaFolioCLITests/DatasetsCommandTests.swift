import Foundation
import Market
import Testing

@Suite("metafolio datasets")
struct DatasetsCommandTests {
    @Test("the table lists every embedded dataset once, with its row count")
    func table() throws {
        let result = try runMetafolio(["datasets"])
        #expect(result.status == 0)
        let lines = result.output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("name") == true)
        for dataset in Dataset.allCases {
            let matching = lines.filter { $0.hasPrefix(dataset.info.name + " ") }
            #expect(matching.count == 1, "\(dataset.info.name) should appear exactly once")
            #expect(matching.first?.contains(" \(dataset.info.rows) ") == true)
        }
        #expect(lines.count == Dataset.allCases.count + 1)
    }

    @Test("--json prints one object per dataset with the documented fields")
    func json() throws {
        let result = try runMetafolio(["datasets", "--json"])
        #expect(result.status == 0)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        #expect(objects.map { $0["name"] as? String } == Dataset.allCases.map(\.info.name))
        let stocks = try #require(objects.first { $0["name"] as? String == "sp500-stocks" })
        #expect((stocks["assets"] as? [String])?.count == 20)
        #expect(stocks["start"] as? String == "1990-01-02")
        #expect(stocks["end"] as? String == "2022-12-28")
        #expect(stocks["frequency"] as? String == "daily")
        for object in objects {
            #expect((object["source"] as? String)?.isEmpty == false, "\(object["name"] ?? "?") needs a source")
            #expect((object["licence"] as? String)?.isEmpty == false, "\(object["name"] ?? "?") needs a licence")
        }
    }
}
