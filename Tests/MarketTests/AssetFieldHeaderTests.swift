import Foundation
import Linalg
import Testing
@testable import Market

/// Tolerance 0: values are parsed from decimal text correctly rounded.
@Suite("Wide files with ASSET:field headers")
struct AssetFieldHeaderTests {
    @Test("columns group into assets with their fields; empty cells before a listing are unavailable")
    func grouping() throws {
        let text = """
        ,BTC:open,BTC:close,BTC:volume,LTC:open,LTC:close,LTC:volume
        2017-06-24,2685.05,2557.66,13341.43,,,
        2017-06-25,2557.66,2502.03,10339.57,43.03,40.9,0.0

        """
        let panel = try PanelCSVReader().read(text: text, name: "w.csv")
        #expect(panel.assets == ["BTC", "LTC"] && panel.fieldNames == [.open, .close, .volume])
        #expect(panel.field(.open)!.column(0) == [2685.05, 2557.66] && panel.close.column(0) == [2557.66, 2502.03])
        #expect(panel.field(.volume)!.row(1) == [10339.57, 0])
        #expect(panel.close[0, 1].isNaN && !panel.mask[0, 1] && panel.mask[1, 1])
        // Zero volume is valid; a zero price is not, even in a volume file.
        #expect(throws: MarketError.nonPositivePrice(file: "w.csv", line: 3, column: 6, value: 0)) {
            try PanelCSVReader().read(text: text.replacingOccurrences(of: ",40.9,", with: ",0,"), name: "w.csv")
        }
        #expect(throws: MarketError.negativeVolume(file: "w.csv", line: 3, column: 7, value: -1)) {
            try PanelCSVReader().read(text: text.replacingOccurrences(of: ",0.0", with: ",-1"), name: "w.csv")
        }
    }

    @Test("headers that are not all ASSET:field keep one asset per column; bad groupings throw")
    func fallbackAndErrors() throws {
        let mixed = try PanelCSVReader().read(text: "date,BTC:close,ETH\n2020-01-01,1,2\n", name: "m.csv")
        #expect(mixed.assets == ["BTC:close", "ETH"] && mixed.fieldNames == [.close])
        let unknownField = try PanelCSVReader().read(text: "date,A:foo,B:close\n2020-01-01,1,2\n", name: "u.csv")
        #expect(unknownField.assets == ["A:foo", "B:close"])
        #expect(throws: MarketError.missingColumn(file: "n.csv", name: "A:close")) {
            try PanelCSVReader().read(text: "date,A:open,B:close\n2020-01-01,1,2\n", name: "n.csv")
        }
        #expect(throws: MarketError.duplicateColumn(file: "d.csv", line: 1, column: 3, name: "A:Close")) {
            try PanelCSVReader().read(text: "date,A:close,A:Close\n2020-01-01,1,2\n", name: "d.csv")
        }
    }
}
