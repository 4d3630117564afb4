import Foundation
import Testing
@testable import Linalg

/// One case of Fixtures/cholesky.json (NumPy `cholesky`, SciPy `cho_solve`, NumPy `slogdet`/`inv`/`cond`).
struct CholeskyCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let lower: [[Double]]
    let rhsMatrix: [[Double]]
    let solutionMatrix: [[Double]]
    let rhsVector: [Double]
    let solutionVector: [Double]
    let logDeterminant: Double
    let inverse: [[Double]]
    let conditionNumber: Double

    var testDescription: String { name }

    /// Forward-error tolerance for anything computed from the factor: a first-order perturbation
    /// bound is `n·κ₂(A)·ε` per implementation (Sun 1991 for L; the usual `κ·backward error` for
    /// solves and the inverse); the factor 8 covers both the reference's error and ours and the
    /// change from 2-norm to max norm. For the Hilbert matrix (κ ≈ 1.5e10) this is ≈ 2e-4.
    var forwardTolerance: Double { 8 * Double(a.count) * conditionNumber * eps }
}

private struct CholeskyFixture: Decodable { let cases: [CholeskyCase] }

/// All cases; a missing or malformed fixture throws, which fails every test that uses it.
private func choleskyCases() throws -> [CholeskyCase] { try fixtures.load("cholesky", as: CholeskyFixture.self).cases }

@Suite("Cholesky vs NumPy/SciPy")
struct CholeskyTests {
    @Test("fixture is present and covers 5×5, 30×30, Hilbert 8×8 and 1×1")
    func fixtureCoverage() throws {
        // Tolerance: none — checks which cases the fixture holds; no numerics.
        #expect(try choleskyCases().map(\.name) == ["spd5", "spd30", "hilbert8", "one"])
    }

    @Test("the factor L matches numpy.linalg.cholesky", arguments: try choleskyCases())
    func factorMatches(_ fixture: CholeskyCase) throws {
        let tolerance = fixture.forwardTolerance // relative (max norm), κ-scaled; see CholeskyCase
        let chol = try Cholesky(fixtureMatrix(fixture.a))
        expectWithin(relativeError(chol.lower, try fixtureMatrix(fixture.lower)), tolerance, "L")
        // Zeros above the diagonal are part of the contract, not rounding.
        for i in 0..<chol.order { for j in (i + 1)..<max(i + 1, chol.order) { #expect(chol.lower[i, j] == 0) } }
    }

    @Test("L·Lᵀ reproduces A to working precision (backward stability)", arguments: try choleskyCases())
    func factorReproducesMatrix(_ fixture: CholeskyCase) throws {
        // Backward error of dpotrf is ≤ (n+1)ε‖|L||Lᵀ|‖ ≤ (n+1)·n·ε‖A‖ (Higham, ASNA Thm 10.3);
        // in practice it is a few ε, so 2·n·ε already gives margin while staying independent of κ.
        let a = try fixtureMatrix(fixture.a)
        let tolerance = 2 * Double(a.rows) * eps // relative to ‖A‖_max, independent of conditioning
        let chol = try Cholesky(a)
        let rebuilt = chol.lower * chol.lower.transposed()
        expectWithin(relativeError(rebuilt, a), tolerance, "‖LLᵀ − A‖/‖A‖")
    }

    @Test("solve with matrix and vector right-hand sides matches scipy cho_solve", arguments: try choleskyCases())
    func solveMatches(_ fixture: CholeskyCase) throws {
        let tolerance = fixture.forwardTolerance // relative forward error ≤ κ·backward error
        let backwardTolerance = 4 * Double(fixture.a.count) * eps // two triangular solves, each backward stable
        let a = try fixtureMatrix(fixture.a)
        let chol = try Cholesky(a)

        let b = try fixtureMatrix(fixture.rhsMatrix)
        let x = try chol.solve(b)
        expectWithin(relativeError(x, try fixtureMatrix(fixture.solutionMatrix)), tolerance, "X vs cho_solve")
        expectWithin(backwardError(a, x, b), backwardTolerance, "backward error of A·X = B")

        let xVector = try chol.solve(fixture.rhsVector)
        expectWithin(relativeError(xVector, fixture.solutionVector), tolerance, "x vs cho_solve")
        expectWithin(backwardError(a, try columnMatrix(xVector), try columnMatrix(fixture.rhsVector)),
                     backwardTolerance, "backward error of A·x = b")
    }

    @Test("logDeterminant matches numpy slogdet; determinant is its exponential", arguments: try choleskyCases())
    func logDeterminantMatches(_ fixture: CholeskyCase) throws {
        // Absolute: δ(log det A) = tr(A⁻¹·δA) ≤ n·κ·‖δA‖/‖A‖, the same κ-scaled bound as the solves.
        let tolerance = fixture.forwardTolerance // absolute, in log units
        let chol = try Cholesky(fixtureMatrix(fixture.a))
        expectWithin(abs(chol.logDeterminant - fixture.logDeterminant), tolerance, "log det")
        // det = exp(log det) up to the rounding of exp and of the product of n squares.
        let determinantTolerance = 4 * Double(fixture.a.count) * eps + tolerance // relative
        expectWithin(relativeError(chol.determinant, Foundation.exp(fixture.logDeterminant)), determinantTolerance, "det")
    }

    @Test("inverse (dpotri) matches numpy.linalg.inv and is exactly symmetric", arguments: try choleskyCases())
    func inverseMatches(_ fixture: CholeskyCase) throws {
        let tolerance = fixture.forwardTolerance // relative, κ-scaled: inversion error ≈ κ·ε
        let inverse = try Cholesky(fixtureMatrix(fixture.a)).inverse()
        expectWithin(relativeError(inverse, try fixtureMatrix(fixture.inverse)), tolerance, "A⁻¹")
        #expect(inverse.isSymmetric(tolerance: 0))
    }

    @Test("only the lower triangle is read")
    func readsLowerTriangleOnly() throws {
        // Tolerance: none. LAPACK never touches the upper triangle, so the factor must be bit-identical.
        let fixture = try #require(choleskyCases().first { $0.name == "spd5" })
        let a = try fixtureMatrix(fixture.a)
        var scrambled = a
        for i in 0..<a.rows { for j in (i + 1)..<a.columns { scrambled[i, j] = -1e6 * Double(i + j + 1) } }
        #expect(try Cholesky(scrambled).lower == Cholesky(a).lower)
    }

    @Test("1×1: L = √a by hand")
    func oneByOne() throws {
        // L: no tolerance; √2.25 = 1.5 exactly and dpotrf takes one correctly rounded square root.
        // Solve: 3/2.25 = 4/3 after two triangular solves, each one rounding (a division, or a
        // multiplication by a rounded reciprocal in OpenBLAS's kernels): a few ε.
        let tolerance = 4 * eps // relative
        let chol = try Cholesky(Matrix([[2.25]]))
        #expect(chol.lower == (try Matrix([[1.5]])))
        let x = try chol.solve([3])
        #expect(x.count == 1)
        expectWithin(relativeError(x, [4.0 / 3]), tolerance, "x = 4/3")
    }

    // MARK: Errors

    @Test("a matrix that is not positive definite names the failing leading minor")
    func notPositiveDefinite() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        // [[4,2,0],[2,1,0],[0,0,1]]: L₁₁ = 2, L₂₁ = 1, L₂₂² = 1 − 1 = 0 exactly → minor of order 2.
        #expect(throws: LinalgError.notPositiveDefinite(operation: "Cholesky", pivot: 2)) {
            try Cholesky(Matrix([[4, 2, 0], [2, 1, 0], [0, 0, 1]]))
        }
        // diag(1, 2, −3): the first two minors are positive, the third is −6.
        #expect(throws: LinalgError.notPositiveDefinite(operation: "Cholesky", pivot: 3)) {
            try Cholesky(Matrix.diagonal([1, 2, -3]))
        }
        #expect(throws: LinalgError.notPositiveDefinite(operation: "Cholesky", pivot: 1)) {
            try Cholesky(Matrix([[-1]]))
        }
    }

    @Test("shape, emptiness and non-finite input are rejected")
    func invalidInput() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        #expect(throws: LinalgError.notSquare(operation: "Cholesky", shape: Shape(2, 3))) {
            try Cholesky(Matrix(rows: 2, columns: 3))
        }
        #expect(throws: LinalgError.empty(operation: "Cholesky")) { try Cholesky(Matrix(rows: 0, columns: 0)) }
        var a = Matrix.identity(3)
        a[2, 1] = .nan
        #expect(throws: LinalgError.nonFinite(operation: "Cholesky", row: 2, column: 1)) { try Cholesky(a) }
    }

    @Test("solve rejects a right-hand side of the wrong height or with non-finite entries")
    func solveErrors() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        let chol = try Cholesky(Matrix.identity(5))
        #expect(throws: LinalgError.dimensionMismatch(operation: "Cholesky.solve", lhs: Shape(5, 5), rhs: Shape(4, 2))) {
            try chol.solve(Matrix(rows: 4, columns: 2))
        }
        #expect(throws: LinalgError.dimensionMismatch(operation: "Cholesky.solve", lhs: Shape(5, 5), rhs: Shape(4, 1))) {
            try chol.solve([1, 2, 3, 4])
        }
        #expect(throws: LinalgError.nonFinite(operation: "Cholesky.solve", row: 1, column: 0)) {
            try chol.solve([1, .infinity, 0, 0, 0])
        }
    }
}
