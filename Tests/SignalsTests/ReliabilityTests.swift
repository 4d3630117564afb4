import Testing
@testable import Signals

/// A decomposition that overflows throws naming the component instead of returning NaN.
@Suite("MODWT overflow")
struct MODWTReliabilityTests {
    @Test("values near the top of the Double range throw overflow; negative series decompose")
    func overflow() throws {
        let huge = [Double](repeating: 1.7e308, count: 16).enumerated().map { $0.offset % 2 == 0 ? $0.element : -$0.element }
        // Whether these overflow depends on the filter's partial sums: either every value is finite or it throws.
        do {
            let mra = try MultiresolutionAnalysis(huge, filter: WaveletFilter("la8"), levels: 2)
            #expect((mra.details + [mra.smooth]).allSatisfy { $0.allSatisfy(\.isFinite) })
        } catch let error as SignalsError {
            guard case .overflow = error else { Issue.record("unexpected \(error)"); return }
        }
        #expect(throws: SignalsError.overflow(operation: "t", component: "D2")) {
            try checkComponents([[1], [.infinity]], smooth: [1], "t")
        }
        #expect(throws: SignalsError.overflow(operation: "t", component: "S2")) {
            try checkComponents([[1], [2]], smooth: [.nan], "t")
        }
        let returns = (0..<32).map { Double($0 % 5) - 2.5 }
        let mra = try MultiresolutionAnalysis(returns, filter: WaveletFilter("haar"), levels: 3)
        #expect(zip(mra.reconstruction, returns).allSatisfy { abs($0 - $1) < 1e-12 })
    }
}
