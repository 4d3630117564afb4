import Testing
@testable import Signals

struct ScalerFixture: Decodable {
    let train, test, standard, minmax, robust: [[Double]]
}

@Suite struct NormalizerAndLabelTests {
    /// Scalers fitted on a training block and applied to a test block vs scikit-learn; tolerance 1e-12 relative (floor 1).
    @Test func scalersMatchScikitLearn() throws {
        let f: ScalerFixture = try fixtures.load("scalers")
        let cases: [(String, any FittedScaler, [[Double]])] = [
            ("standard", try StandardScaler(fitting: f.train), f.standard),
            ("minmax", try MinMaxScaler(fitting: f.train), f.minmax),
            ("robust", try RobustScaler(fitting: f.train), f.robust),
        ]
        for (name, scaler, expected) in cases {
            let out = try scaler.transform(f.test)
            expectSeries(out.flatMap { $0 }, expected.flatMap { $0 }, tolerance: 1e-12, name)
            let back = try scaler.inverseTransform(out)
            expectSeries(back.flatMap { $0 }, f.test.flatMap { $0 }, tolerance: 1e-12, "\(name) inverse")
        }
        #expect(throws: SignalsError.columnMismatch(operation: "Scaler.transform", fitted: 3, found: 2)) {
            try StandardScaler(fitting: f.train).transform([[1, 2]])
        }
        #expect(throws: SignalsError.nonFinite(operation: "RobustScaler.fit", position: 1)) {
            try RobustScaler(fitting: [[1.0], [.nan]])
        }
        // Constant training column: scale 1 (scikit-learn's convention), so the output is finite.
        #expect(try StandardScaler(fitting: [[2.0], [2.0]]).transform([[3.0]]) == [[1.0]])
    }

    @Test func forwardAndSlopeLabels() throws {
        let prices: [Double] = [100, 101, 103, 102.9, 99, 99.5]
        let r = try Labels.forwardReturns(prices, horizon: 1)
        #expect(Swift.abs(r[0] - 0.01) < 1e-15 && r[5].isNaN)
        let labels = try Labels.slope(prices, horizon: 1, strong: 0.015)
        #expect(labels == [.up, .upStrong, .down, .downStrong, .up, nil])
        let two = try Labels.slope(prices, horizon: 2, strong: 0.01)
        #expect(two == [.upStrong, .up, .downStrong, .downStrong, nil, nil])
        #expect(throws: SignalsError.invalidParameter(operation: "Labels.slope", parameter: "strongUp", value: "0.0", reason: "must be finite and > 0")) {
            try Labels.slope(prices, strong: 0)
        }
        // Asymmetric: a 0.5 % strong-down threshold turns the −0.1 % day into down, the −3.8 % day into down++.
        #expect(try Labels.slope(prices, strongUp: 0.05, strongDown: 0.005) == [.up, .up, .down, .downStrong, .up, nil])
    }

    @Test func tripleBarrier() throws {
        let prices: [Double] = [100, 101, 103, 102, 97, 98, 98.5, 99]
        let events = try Labels.tripleBarrier(prices, upper: 0.025, lower: 0.03, horizon: 3)
        #expect(events[0]?.label == 1 && events[0]?.exitIndex == 2 && Swift.abs((events[0]?.realizedReturn ?? 0) - 0.03) < 1e-12)
        #expect(events[1]?.label == -1 && events[1]?.exitIndex == 4)
        #expect(events[4]?.label == 0 && events[4]?.exitIndex == 7)
        #expect(events[5] == nil)
    }
}
