import Foundation
@testable import Strategies
import Testing

/// The portfolio-vector memory and the cash-position conversion, against hand-written values.
@Suite struct PortfolioVectorMemoryTests {
    @Test func cashPositionConvertsBothWays() {
        #expect(CashPosition.cashLast(fromCashFirst: [0.1, 0.2, 0.7]) == [0.2, 0.7, 0.1])
        #expect(CashPosition.cashFirst(fromCashLast: [0.2, 0.7, 0.1]) == [0.1, 0.2, 0.7])
        #expect(CashPosition.cashLast(fromCashFirst: []) == [])
        #expect(CashPosition.engineTarget(fromCashFirst: [0.1, 0.2, 0.7]) == [0.2, 0.7])
        let v = [0.3, 0.05, 0.4, 0.25]
        #expect(CashPosition.cashFirst(fromCashLast: CashPosition.cashLast(fromCashFirst: v)) == v)
    }

    @Test func startsUniformOverCashAndAssets() throws {
        let memory = try PortfolioVectorMemory(assetCount: 3, periods: 5)
        #expect(memory.periodCount == 5 && memory.rowWidth == 4)
        for t in 0..<5 { #expect(Array(memory[t]) == [0.25, 0.25, 0.25, 0.25]) }
        #expect(Array(memory.assetWeights(at: 2)) == [0.25, 0.25, 0.25])
    }

    @Test func writesRowsAndBlocksAndGrows() throws {
        var memory = try PortfolioVectorMemory(assetCount: 2, periods: 4)
        try memory.write([0.5, 0.25, 0.25], at: 1)
        #expect(Array(memory[1]) == [0.5, 0.25, 0.25])
        let third: [Double] = [1.0 / 3, 1.0 / 3, 1.0 / 3]
        #expect(Array(memory[0]) == third)
        try memory.write(block: [0, 1, 0, 0.2, 0.3, 0.5], startingAt: 2)
        #expect(Array(memory[2]) == [0, 1, 0] && Array(memory[3]) == [0.2, 0.3, 0.5])
        memory.grow(by: 2)
        #expect(memory.periodCount == 6 && Array(memory[5]) == third)
        #expect(Array(memory.assetWeights(at: 3)) == [0.3, 0.5])
    }

    @Test func rejectsBadRowsWithoutWriting() throws {
        var memory = try PortfolioVectorMemory(assetCount: 2, periods: 3)
        let before = memory
        #expect(throws: StrategiesError.self) { try memory.write([0.5, 0.5], at: 0) }             // too short
        #expect(throws: StrategiesError.self) { try memory.write([0.5, 0.6, -0.1], at: 0) }      // negative
        #expect(throws: StrategiesError.self) { try memory.write([0.5, 0.2, 0.2], at: 0) }       // sums to 0.9
        #expect(throws: StrategiesError.self) { try memory.write([.nan, 0.5, 0.5], at: 0) }
        #expect(throws: StrategiesError.self) { try memory.write([0.2, 0.3, 0.5], at: 3) }       // past the end
        // A block whose second row is bad writes nothing, not its first row.
        #expect(throws: StrategiesError.self) { try memory.write(block: [0, 1, 0, 0.5, 0.5, 0.5], startingAt: 0) }
        #expect(memory == before)
        #expect(throws: StrategiesError.self) { try PortfolioVectorMemory(assetCount: 0, periods: 3) }
        do {
            try memory.write([0.5, 0.25, 0.125], at: 1)
        } catch let error as StrategiesError {
            #expect(error.description.contains("period 1") && error.description.contains("sum to 0.875"))
        }
    }

    @Test func jsonRoundTripIsBitExactAndDamageThrows() throws {
        var memory = try PortfolioVectorMemory(assetCount: 2, periods: 3)
        try memory.write([0.1, 0.2, 0.7000000000000001], at: 0)
        try memory.write([1.0 / 3 + 1e-12, 1.0 / 7, 1 - 1.0 / 3 - 1e-12 - 1.0 / 7], at: 2)
        let data = try JSONEncoder().encode(memory)
        let decoded = try JSONDecoder().decode(PortfolioVectorMemory.self, from: data)
        #expect(decoded.storage.map(\.bitPattern) == memory.storage.map(\.bitPattern))
        let damaged = #"{"assetCount":2,"weights":[[0.5,0.5,0.5]]}"#
        #expect(throws: StrategiesError.self) { try JSONDecoder().decode(PortfolioVectorMemory.self, from: Data(damaged.utf8)) }
        let ragged = #"{"assetCount":2,"weights":[[0.5,0.5]]}"#
        #expect(throws: StrategiesError.self) { try JSONDecoder().decode(PortfolioVectorMemory.self, from: Data(ragged.utf8)) }
    }
}
