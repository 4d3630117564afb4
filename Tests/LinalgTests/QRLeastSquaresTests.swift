import Testing
@testable import Linalg

/// One case of Fixtures/qr.json (`numpy.linalg.qr(mode='reduced')`, dgeqrf + dorgqr).
struct QRCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let q: [[Double]]
    let r: [[Double]]
    var testDescription: String { name }
}

/// One case of Fixtures/least_squares.json (`numpy.linalg.lstsq(rcond=None)`, dgelsd).
struct LeastSquaresCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let b: [[Double]]
    /// NumPy's `rcond`; `nil` means the default ε·max(m, n), exercised through the default argument.
    let relativeCutoff: Double?
    let solution: [[Double]]
    let residualSumsOfSquares: [Double]
    let rank: Int
    let singularValues: [Double]
    var testDescription: String { name }

    /// First-order forward error of the (truncated) least-squares solution under a backward error
    /// δ = c·max(m,n)·ε·σ₁ (Wedin 1973): `(σ₁/σ_k)·(1 + σ₁/(σ_k − σ_{k+1}))·‖B‖/‖A·X‖`. The second
    /// factor carries the κ²‖r‖ term of full-rank problems and the turning of the retained subspace
    /// of truncated ones; ‖B‖/‖AX‖ accounts for the part of B that the solution does not fit.
    func tolerance(fitted: Matrix) throws -> Double {
        let k = rank
        let next = k < singularValues.count ? singularValues[k] : 0
        let sigma1 = singularValues[0], sigmaK = singularValues[k - 1]
        let rhs = try fixtureMatrix(b)
        let unfitted = rhs.frobeniusNorm / fitted.frobeniusNorm
        return 8 * Double(max(a.count, a[0].count)) * eps * (sigma1 / sigmaK) * (1 + sigma1 / (sigmaK - next)) * unfitted
    }
}

private struct QRFixture: Decodable { let cases: [QRCase] }
private struct LeastSquaresFixture: Decodable {
    struct VectorCase: Decodable {
        let a: [[Double]]
        let b: [Double]
        let solution: [Double]
    }
    let lstsq: [LeastSquaresCase]
    let lstsqVector: VectorCase
}

private func qrCases() throws -> [QRCase] { try fixtures.load("qr", as: QRFixture.self).cases }
private func leastSquaresFixture() throws -> LeastSquaresFixture { try fixtures.load("least_squares", as: LeastSquaresFixture.self) }

@Suite("QR vs numpy.linalg.qr")
struct QRTests {
    @Test("fixture covers tall, wide, square, a single column and a single row")
    func fixtureCoverage() throws {
        // Tolerance: none — checks which cases the fixture holds; no numerics.
        #expect(try qrCases().map(\.name) == ["tall6x4", "wide3x5", "square4", "column5x1", "row1x4"])
    }

    @Test("Q and R match NumPy (up to a sign per column of Q / row of R)", arguments: try qrCases())
    func factorsMatch(_ fixture: QRCase) throws {
        // Same LAPACK algorithm on both sides, so the signs should agree; allowing a flip keeps
        // the test about the mathematics. Q and R are determined by A with forward error
        // ≲ c·max(m,n)·κ₂(A)·ε (QR perturbation theory, Higham ASNA §19.10); κ < 10 for these Gaussian matrices.
        let a = try fixtureMatrix(fixture.a)
        let tolerance = 8 * Double(max(a.rows, a.columns)) * (try a.conditionNumber()) * eps // relative (max norm)
        let qr = try QRDecomposition(a)
        let k = min(a.rows, a.columns)
        #expect(qr.q.shape == Shape(a.rows, k) && qr.r.shape == Shape(k, a.columns))
        let expectedQ = try fixtureMatrix(fixture.q), expectedR = try fixtureMatrix(fixture.r)
        let (alignedQ, signs) = aligningColumnSigns(of: qr.q, to: expectedQ, count: k)
        expectWithin(relativeError(alignedQ, expectedQ), tolerance, "Q")
        expectWithin(relativeError(Matrix.diagonal(signs) * qr.r, expectedR), tolerance, "R with Q's signs")
    }

    @Test("Q·R = A, QᵀQ = I and R is exactly upper triangular", arguments: try qrCases())
    func backwardStable(_ fixture: QRCase) throws {
        // Householder QR is backward stable: ‖QR − A‖ ≤ c·m·n·ε‖A‖ (Higham, ASNA Thm 19.4).
        let a = try fixtureMatrix(fixture.a)
        let tolerance = 4 * Double(max(a.rows, a.columns)) * eps // relative to ‖A‖; absolute for QᵀQ − I
        let qr = try QRDecomposition(a)
        expectWithin(relativeError(qr.q * qr.r, a), tolerance, "‖QR − A‖")
        expectWithin(orthonormalityDefect(qr.q), tolerance, "‖QᵀQ − I‖")
        for i in 0..<qr.r.rows { for j in 0..<min(i, qr.r.columns) { #expect(qr.r[i, j] == 0) } }
    }

    @Test("1×1 and errors")
    func edgeCases() throws {
        // Tolerance: none. For a 1×1 matrix dlarfg returns τ = 0 (nothing to annihilate): Q = [1], R = A.
        let qr = try QRDecomposition(Matrix([[-2.5]]))
        #expect(try qr.q == Matrix([[1]]) && qr.r == Matrix([[-2.5]]))
        #expect(throws: LinalgError.empty(operation: "QR")) { try QRDecomposition(Matrix(rows: 0, columns: 2)) }
        var a = Matrix(rows: 4, columns: 2)
        a[3, 1] = .nan
        #expect(throws: LinalgError.nonFinite(operation: "QR", row: 3, column: 1)) { try QRDecomposition(a) }
    }
}

@Suite("Least squares vs numpy.linalg.lstsq")
struct LeastSquaresTests {
    @Test("fixture covers over-, under-determined and rank-deficient systems")
    func fixtureCoverage() throws {
        // Tolerance: none — checks which cases the fixture holds; no numerics.
        let cases = try leastSquaresFixture().lstsq
        #expect(cases.map(\.name) == ["overdetermined8x3", "underdetermined3x6", "rankDeficient6x4", "truncatedOverdetermined8x3"])
        #expect(cases.map(\.rank) == [3, 3, 3, 2])
        #expect(cases.map(\.residualSumsOfSquares.isEmpty) == [false, true, true, true],
                "NumPy reports residuals only for full-rank m > n")
    }

    @Test("solution, residuals, rank and singular values match NumPy", arguments: try leastSquaresFixture().lstsq)
    func solutionMatches(_ fixture: LeastSquaresCase) throws {
        let a = try fixtureMatrix(fixture.a), b = try fixtureMatrix(fixture.b)
        let result = try LeastSquaresSolution(a, b, relativeCutoff: fixture.relativeCutoff)
        let fitted = a * result.solution
        // Relative (max norm), from σ and the fit: see LeastSquaresCase.tolerance; 1e-13 to 5e-13 here.
        let tolerance = try fixture.tolerance(fitted: fitted)
        expectWithin(relativeError(result.solution, try fixtureMatrix(fixture.solution)), tolerance, "X")
        #expect(result.rank == fixture.rank)
        #expect(result.residualSumsOfSquares.count == fixture.residualSumsOfSquares.count)
        if !fixture.residualSumsOfSquares.isEmpty {
            // ‖r‖ moves by at most ‖δ(AX)‖ ≈ tolerance·‖AX‖; squaring doubles the relative error.
            let residualTolerance = 2 * tolerance * fitted.frobeniusNorm / (fitted - b).frobeniusNorm
            expectWithin(relativeError(result.residualSumsOfSquares, fixture.residualSumsOfSquares), residualTolerance, "‖r‖²")
        }
        expectWithin(relativeError(result.singularValues, fixture.singularValues), 8 * Double(max(a.rows, a.columns)) * eps,
                     "σ (Weyl: normwise c·max(m,n)·ε)")
        if fixture.relativeCutoff == nil {
            // Optimality: the residual is orthogonal to range(A), Aᵀ(AX − B) = 0. Forming r = AX − B
            // in floating point costs c·n·ε·(‖A‖‖X‖ + ‖B‖), which Aᵀ then scales by ‖Aᵀ‖.
            let normalTolerance = 8 * Double(max(a.rows, a.columns)) * eps // relative to ‖Aᵀ‖(‖A‖‖X‖ + ‖B‖), ∞-norms
            let normalResidual = infinityNorm(a.transposed() * (fitted - b))
            let scale = infinityNorm(a.transposed()) * (infinityNorm(a) * infinityNorm(result.solution) + infinityNorm(b))
            expectWithin(normalResidual / scale, normalTolerance, "‖Aᵀ(AX − B)‖ (normal equations)")
        } else {
            // Truncated: only the retained left singular vectors are orthogonal to the residual,
            // U_kᵀ(AX − B) = 0, up to the same subspace error as X (relative to ‖B‖).
            let u = try SingularValueDecomposition(a).u.submatrix(rows: 0..<a.rows, columns: 0..<result.rank)
            expectWithin((u.transposed() * (fitted - b)).maxAbs / b.maxAbs, tolerance, "‖U_kᵀ(AX − B)‖")
        }
    }

    @Test("a right-hand side with no columns still reports the rank and singular values")
    func noRightHandSides() throws {
        let fixture = try #require(try leastSquaresFixture().lstsq.first { $0.name == "rankDeficient6x4" })
        // Rank is an integer far from the cutoff (σ₄ ≈ 1e-16 vs cutoff 6ε·σ₁ ≈ 5e-15): exact.
        // σ: Weyl, normwise c·max(m,n)·ε.
        let tolerance = 8 * 6 * eps // relative to σ₁
        let a = try fixtureMatrix(fixture.a)
        let result = try LeastSquaresSolution(a, Matrix(rows: a.rows, columns: 0))
        #expect(result.solution.shape == Shape(a.columns, 0) && result.residualSumsOfSquares.isEmpty)
        #expect(result.rank == fixture.rank)
        expectWithin(relativeError(result.singularValues, fixture.singularValues), tolerance, "σ")
    }

    @Test("residual sums of squares equal ‖A·x − b‖² when reported")
    func residualDefinition() throws {
        let fixture = try #require(try leastSquaresFixture().lstsq.first { $0.name == "overdetermined8x3" })
        // Two ways to compute ‖r‖² from the same solution: the tail of Qᵀb from dgelsd, and the
        // residual recomputed; they agree to c·m·ε relative.
        let tolerance = 8 * 8 * eps // relative; m = 8
        let a = try fixtureMatrix(fixture.a), b = try fixtureMatrix(fixture.b)
        let result = try LeastSquaresSolution(a, b)
        let residual = a * result.solution - b
        for j in 0..<b.columns {
            let direct = residual.column(j).reduce(0) { $0 + $1 * $1 }
            expectWithin(relativeError(result.residualSumsOfSquares[j], direct), tolerance, "‖r_\(j)‖²")
        }
    }

    @Test("the underdetermined solution is the minimum-norm one: it lies in the row space of A")
    func minimumNorm() throws {
        let fixture = try #require(try leastSquaresFixture().lstsq.first { $0.name == "underdetermined3x6" })
        // x = A⁺b lies in range(Aᵀ); projecting onto that space (with A's own pinv) must not move it.
        let tolerance = 1e-13 // relative; σ₁/σ₃ ≈ 3
        let a = try fixtureMatrix(fixture.a), b = try fixtureMatrix(fixture.b)
        let x = try LeastSquaresSolution(a, b).solution
        let projected = try a.pseudoInverse() * (a * x)
        expectWithin(relativeError(projected, x), tolerance, "x − P_row(A)·x")
        expectWithin(backwardError(a, x, b), 8 * 6 * eps, "A·x = b exactly solvable (backward error)")
    }

    @Test("vector form Matrix.leastSquares matches NumPy")
    func vectorForm() throws {
        let fixture = try leastSquaresFixture().lstsqVector
        let tolerance = 1e-13 // relative; same 8×3 matrix as overdetermined8x3 (κ ≈ 1.8)
        let x = try fixtureMatrix(fixture.a).leastSquares(fixture.b)
        expectWithin(relativeError(x, fixture.solution), tolerance, "x")
    }

    @Test("errors: shape mismatch reports both shapes; empty and non-finite input")
    func invalidInput() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        let a = Matrix(rows: 5, columns: 2, repeating: 1)
        #expect(throws: LinalgError.dimensionMismatch(operation: "leastSquares", lhs: Shape(5, 2), rhs: Shape(4, 1))) {
            try a.leastSquares([1, 2, 3, 4])
        }
        #expect(throws: LinalgError.empty(operation: "leastSquares")) {
            try LeastSquaresSolution(Matrix(rows: 0, columns: 2), Matrix(rows: 0, columns: 1))
        }
        #expect(throws: LinalgError.nonFinite(operation: "leastSquares", row: 2, column: 0)) {
            try a.leastSquares([0, 0, .nan, 0, 0])
        }
    }
}
