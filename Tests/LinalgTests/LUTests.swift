import Testing
@testable import Linalg

/// One case of Fixtures/lu.json (NumPy `solve`, `det`, `slogdet`, `inv`, `cond`).
struct LUCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let rhsVector: [Double]
    let solutionVector: [Double]
    let rhsMatrix: [[Double]]
    let solutionMatrix: [[Double]]
    let determinant: Double
    let logDeterminantSign: Double
    let logAbsoluteDeterminant: Double
    let inverse: [[Double]]
    let conditionNumber: Double

    var testDescription: String { name }
    var order: Double { Double(a.count) }

    /// Forward-error tolerance: with partial pivoting (modest growth factor) the backward error
    /// is a small multiple of `n·ε`, so solutions, the inverse and each pivot of `U` carry a
    /// relative error ≲ `n·κ(A)·ε`; 8 covers NumPy's error as well as ours and the max norm.
    /// For the 9×9 Vandermonde matrix (κ ≈ 1.1e10) this is ≈ 2e-4.
    var forwardTolerance: Double { 8 * order * conditionNumber * eps }
}

/// The exactly singular case of Fixtures/lu.json.
struct SingularLUCase: Decodable, Sendable {
    let a: [[Double]]
    let determinant: Double
    let logDeterminantSign: Double
    let logAbsoluteDeterminant: FixtureDouble
    let firstZeroPivot: Int
}

private struct LUFixture: Decodable {
    let cases: [LUCase]
    let singular: SingularLUCase
}

private func luFixture() throws -> LUFixture { try fixtures.load("lu", as: LUFixture.self) }
private func luCases() throws -> [LUCase] { try luFixture().cases }

@Suite("LU vs NumPy")
struct LUTests {
    @Test("fixture covers negative and positive determinants, Vandermonde and 1×1")
    func fixtureCoverage() throws {
        // Tolerance: none — checks which cases the fixture holds; no numerics.
        let cases = try luCases()
        #expect(cases.map(\.name) == ["wellNegativeDeterminant", "wellPositiveDeterminant", "vandermonde9", "one"])
        #expect(cases[0].logDeterminantSign == -1 && cases[1].logDeterminantSign == 1)
    }

    @Test("solve with vector and matrix right-hand sides matches numpy.linalg.solve", arguments: try luCases())
    func solveMatches(_ fixture: LUCase) throws {
        let tolerance = fixture.forwardTolerance // relative, κ-scaled (see LUCase)
        let backwardTolerance = 8 * fixture.order * eps // GEPP is backward stable; growth is tiny for these sizes
        let a = try fixtureMatrix(fixture.a)
        let lu = try LUDecomposition(a)

        let x = try lu.solve(fixture.rhsVector)
        expectWithin(relativeError(x, fixture.solutionVector), tolerance, "x")
        expectWithin(backwardError(a, try columnMatrix(x), try columnMatrix(fixture.rhsVector)), backwardTolerance, "η(x)")
        #expect(try a.solve(fixture.rhsVector) == x, "Matrix.solve is the same computation")

        let b = try fixtureMatrix(fixture.rhsMatrix)
        let xMatrix = try lu.solve(b)
        expectWithin(relativeError(xMatrix, try fixtureMatrix(fixture.solutionMatrix)), tolerance, "X")
        expectWithin(backwardError(a, xMatrix, b), backwardTolerance, "η(X)")
        #expect(try a.solve(b) == xMatrix)
    }

    @Test("det and slogdet match NumPy, including the sign", arguments: try luCases())
    func determinantMatches(_ fixture: LUCase) throws {
        // det is the product of the pivots, each with relative error ≲ n·κ·ε; the log of
        // |det| then has that as absolute error. The sign is exact.
        let tolerance = fixture.forwardTolerance // relative for det, absolute for log|det|
        let a = try fixtureMatrix(fixture.a)
        expectWithin(relativeError(try a.determinant(), fixture.determinant), tolerance, "det")
        let (sign, logAbsolute) = try a.logDeterminant()
        #expect(sign == fixture.logDeterminantSign)
        expectWithin(abs(logAbsolute - fixture.logAbsoluteDeterminant), tolerance, "log|det|")
    }

    @Test("inverse matches numpy.linalg.inv", arguments: try luCases())
    func inverseMatches(_ fixture: LUCase) throws {
        let tolerance = fixture.forwardTolerance // relative, κ-scaled
        let a = try fixtureMatrix(fixture.a)
        let inverse = try a.inverse()
        expectWithin(relativeError(inverse, try fixtureMatrix(fixture.inverse)), tolerance, "A⁻¹")
        // dgetri solves X·L = U⁻¹ ("method B", Higham ASNA §14.3), whose left residual is bounded
        // independently of κ: |X·A − I| ≤ cₙ·ε·|X||L||U|, with |L||U| ≈ |A| for partial pivoting.
        let residualTolerance = 8 * fixture.order * eps // relative to ‖A⁻¹‖∞·‖A‖∞
        let residual = infinityNorm(inverse * a - Matrix.identity(a.rows)) / (infinityNorm(a) * infinityNorm(inverse))
        expectWithin(residual, residualTolerance, "‖A⁻¹·A − I‖ / (‖A⁻¹‖‖A‖)")
    }

    @Test("P·A = L·U with unit-lower L and upper U", arguments: try luCases())
    func factorsReproduceMatrix(_ fixture: LUCase) throws {
        // Backward error of GEPP: |P·A − L·U| ≤ γₙ|L||U|; with |L| ≤ 1 and no growth, 4·n·ε of ‖A‖.
        let tolerance = 4 * fixture.order * eps // relative to ‖A‖_max
        let a = try fixtureMatrix(fixture.a)
        let lu = try LUDecomposition(a)
        expectWithin(relativeError(lu.lower * lu.upper, lu.permutation * a), tolerance, "‖LU − PA‖/‖PA‖")
        for i in 0..<lu.order {
            #expect(lu.lower[i, i] == 1)
            for j in 0..<lu.order where j > i { #expect(lu.lower[i, j] == 0 && lu.upper[j, i] == 0) }
            for j in 0..<i { #expect(abs(lu.lower[i, j]) <= 1, "partial pivoting bounds |L| by 1") }
        }
    }

    @Test("a 2×2 permutation by hand: pivots, P, det and slogdet")
    func swapByHand() throws {
        // Tolerance: none; all values are exact. A = [[0,1],[1,0]]: the first pivot is row 2,
        // after the swap A is already I, so U = I, L = I, P = A, det = −1, log|det| = 0.
        let a = try Matrix([[0, 1], [1, 0]])
        let lu = try LUDecomposition(a)
        #expect(lu.pivots == [2, 2])
        #expect(lu.permutation == a)
        #expect(lu.upper == Matrix.identity(2) && lu.lower == Matrix.identity(2))
        #expect(lu.determinant == -1)
        #expect(lu.logAbsoluteDeterminant == (sign: -1, logAbsolute: 0))
        #expect(try lu.inverse() == a)
    }

    // MARK: Singular

    @Test("an exactly singular matrix: det 0, slogdet (0, −inf), solve and inverse throw with the pivot")
    func exactlySingular() throws {
        let fixture = try luFixture().singular
        let a = try fixtureMatrix(fixture.a)
        let lu = try LUDecomposition(a)
        // Tolerance: none. Partial pivoting cancels row 0 against row 1 exactly (the fixture
        // script asserts NumPy also gets exactly 0), so every value below is exact.
        #expect(lu.firstZeroPivot == fixture.firstZeroPivot)
        #expect(fixture.firstZeroPivot == 3)
        #expect(try a.determinant() == fixture.determinant)
        let (sign, logAbsolute) = try a.logDeterminant()
        #expect(sign == fixture.logDeterminantSign)
        #expect(logAbsolute == fixture.logAbsoluteDeterminant.value && logAbsolute == -.infinity)

        let pivot = fixture.firstZeroPivot
        #expect(throws: LinalgError.singular(operation: "LU.solve", pivot: pivot)) { try lu.solve([1, 2, 3]) }
        #expect(throws: LinalgError.singular(operation: "LU.solve", pivot: pivot)) { try a.solve(Matrix.identity(3)) }
        #expect(throws: LinalgError.singular(operation: "inverse", pivot: pivot)) { try a.inverse() }
    }

    @Test("a zero 1×1 matrix is singular at pivot 1")
    func zeroOneByOne() throws {
        // Tolerance: none — U = [0] exactly; det is the product of pivots, 0.
        let zero = try Matrix([[0]])
        #expect(try zero.determinant() == 0)
        #expect(throws: LinalgError.singular(operation: "inverse", pivot: 1)) { try zero.inverse() }
    }

    // MARK: Errors

    @Test("shape, emptiness and non-finite input are rejected")
    func invalidInput() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        #expect(throws: LinalgError.notSquare(operation: "LU", shape: Shape(3, 2))) { try LUDecomposition(Matrix(rows: 3, columns: 2)) }
        #expect(throws: LinalgError.notSquare(operation: "LU", shape: Shape(2, 3))) { try Matrix(rows: 2, columns: 3).determinant() }
        #expect(throws: LinalgError.empty(operation: "LU")) { try Matrix(rows: 0, columns: 0).inverse() }
        var a = Matrix.identity(4)
        a[3, 0] = -.infinity
        #expect(throws: LinalgError.nonFinite(operation: "LU", row: 3, column: 0)) { try a.solve([1, 2, 3, 4]) }
    }

    @Test("solve rejects a right-hand side of the wrong height (both shapes reported) or with NaN")
    func solveErrors() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        let lu = try LUDecomposition(Matrix.identity(3))
        #expect(throws: LinalgError.dimensionMismatch(operation: "LU.solve", lhs: Shape(3, 3), rhs: Shape(2, 1))) {
            try lu.solve([1, 2])
        }
        #expect(throws: LinalgError.dimensionMismatch(operation: "LU.solve", lhs: Shape(3, 3), rhs: Shape(4, 2))) {
            try Matrix.identity(3).solve(Matrix(rows: 4, columns: 2))
        }
        #expect(throws: LinalgError.nonFinite(operation: "LU.solve", row: 2, column: 1)) {
            try lu.solve(Matrix([[0, 0], [0, 0], [0, .nan]]))
        }
    }
}
