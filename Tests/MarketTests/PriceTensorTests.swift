import Linalg
import Testing
@testable import Market

@Suite("Price tensors (Jiang, Xu & Liang 2017)")
struct PriceTensorTests {
    /// 6 days × 2 assets with high/low; asset B listed on day 2.
    func panel() throws -> PricePanel {
        let days = ["2022-01-03", "2022-01-04", "2022-01-05", "2022-01-06", "2022-01-07", "2022-01-10"]
        let close = try matrix([[10, nil], [11, nil], [12, 50], [11, 52], [13, 51], [14, 55]])
        let high = try matrix([[10.5, nil], [11.5, nil], [12.5, 51], [12, 53], [13.5, 52], [14.5, 56]])
        let low = try matrix([[9.5, nil], [10.5, nil], [11.5, 49], [10.5, 50], [12, 50], [13, 54]])
        return try PricePanel(index: TimeIndex(dates: dates(days)), assets: ["A", "B"], close: close, high: high, low: low)
    }

    @Test("values are each field divided by the latest close of its asset; layout features × window × assets")
    func normalization() throws {
        let tensor = try panel().priceTensor(at: 5, window: 3)
        #expect(tensor.features == [.close, .high, .low] && tensor.window == 3)
        #expect(tensor.values.count == 3 * 3 * 2)
        // Exact: one IEEE division per cell, same as by hand.
        #expect(tensor[feature: 0, step: 2, asset: 0] == 1 && tensor[feature: 0, step: 2, asset: 1] == 1)
        #expect(tensor[feature: 0, step: 0, asset: 0] == 11.0 / 14)
        #expect(tensor[feature: 1, step: 1, asset: 1] == 52.0 / 55)
        #expect(tensor[feature: 2, step: 0, asset: 1] == 50.0 / 55)
        #expect(tensor.values[(2 * 3 + 0) * 2 + 1] == 50.0 / 55)   // row-major index formula
        #expect(tensor.label == .date(try day("2022-01-10")) && tensor.tradable == [true, true])
    }

    @Test("flat fill before listing: finite flat history, masked until listed")
    func flatFill() throws {
        let filled = try panel().flatFilledBeforeListing()
        let tensor = try filled.priceTensor(at: 2, window: 3, features: [.close])
        #expect(tensor[feature: 0, step: 0, asset: 1] == 1 && tensor[feature: 0, step: 1, asset: 1] == 1)
        #expect(tensor.mask[0, 1] == false && tensor.mask[1, 1] == false && tensor.mask[2, 1] == true)
        #expect(tensor.mask[0, 0] == true)
    }

    @Test("sliding windows cover every decision time once, with stride")
    func windows() throws {
        let filled = try panel().flatFilledBeforeListing()
        let all = try filled.priceTensors(window: 2)
        let tensors = try all.map { try $0.get() }
        #expect(tensors.map(\.time) == [1, 2, 3, 4, 5])
        #expect(all.count == 5)
        let strided = try filled.priceTensors(window: 3, stride: 2).map { try $0.get().time }
        #expect(strided == [2, 4])
        for tensor in tensors {
            let again = try filled.priceTensor(at: tensor.time, window: 2)
            #expect(tensor == again)
        }
    }

    @Test("missing values, bad windows and series panels are rejected")
    func errors() throws {
        let raw = try panel()
        expectMarketError(.invalidValue(field: .close, asset: "B", time: .date(try day("2022-01-04")), value: .infinity, reason: "")) {
            _ = try raw.priceTensor(at: 1, window: 2, features: [.close])
        } verifying: { error in
            if case let .invalidValue(field, asset, time, _, _) = error { return field == .close && asset == "B" && time == .date(try! day("2022-01-04")) }
            return false
        }
        expectMarketError(.invalidArgument(operation: "PricePanel.priceTensor", message: "window 4 ending at row 2 does not fit 6 rows")) {
            try raw.priceTensor(at: 2, window: 4)
        }
        expectMarketError(.missingField(operation: "PricePanel.priceTensor", field: .open)) {
            try raw.priceTensor(at: 5, window: 2, features: [.open])
        }
        expectMarketError(.invalidArgument(operation: "PricePanel.priceTensors", message: "stride 0 must be ≥ 1")) {
            try raw.priceTensors(window: 2, stride: 0)
        }
        let series = try closePanel(["2022-01-03", "2022-01-04"], ["Y"], [[1], [2]], kind: .series)
        expectMarketError(.notPrices(operation: "PricePanel.priceTensor")) { try series.priceTensor(at: 1, window: 1) }
        // A window over the raw panel fails inside the sequence, reported as a failure element.
        let results = Array(try raw.priceTensors(window: 2))
        #expect(results.count == 5)
        if case .success = results[0] { Issue.record("window ending at row 1 contains B's missing prices") }
    }
}

/// Expects `body` to throw a `MarketError` accepted by `verifying` (for cases carrying NaN, which never compare equal).
func expectMarketError<T>(_ example: MarketError, sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: () throws -> T, verifying: (MarketError) -> Bool) {
    do {
        let value = try body()
        Issue.record("expected an error like \(example), got \(value)", sourceLocation: sourceLocation)
    } catch let error as MarketError {
        #expect(verifying(error), "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
