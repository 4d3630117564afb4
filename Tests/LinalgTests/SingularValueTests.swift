import Testing
@testable import Linalg

/// One case of Fixtures/svd.json (`numpy.linalg.svd`, thin and full).
struct SVDCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let singularValues: [Double]
    let thinU: [[Double]]
    let thinVt: [[Double]]
    let fullU: [[Double]]
    let fullVt: [[Double]]

    var testDescription: String { name }
    var rows: Int { a.count }
    var columns: Int { a.first?.count ?? 0 }
    var rank: Int { min(rows, columns) }
    var largerDimension: Double { Double(max(rows, columns)) }

    /// Wedin's gap for the singular vectors: the smallest distance between singular values,
    /// and to zero when the matrix is not square (the vectors must also separate from the null space).
    var vectorGap: Double {
        var gaps = zip(singularValues, singularValues.dropFirst()).map { $0 - $1 }
        if rows != columns, let smallest = singularValues.last { gaps.append(smallest) }
        return gaps.min() ?? singularValues[0]
    }
}

/// Fixtures/least_squares.json, the parts about SVD-based quantities.
struct PseudoInverseCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    /// NumPy's `rcond`; `nil` means the default (1e-15), exercised through the default argument.
    let relativeCutoff: Double?
    let pseudoInverse: [[Double]]
    let singularValues: [Double]
    /// How many singular values lie above the cutoff, i.e. the rank of the inverted part.
    let retained: Int
    let rank: Int
    var testDescription: String { name }

    /// First-order error of the (truncated) pseudo-inverse under a backward error δ = c·max(m,n)·ε·σ₁:
    /// δ/σ_k from inverting σ_k, plus δ/(σ_k − σ_{k+1}) from the retained subspace turning
    /// (Wedin 1973), both relative to ‖A_k⁺‖ = 1/σ_k. The factor 8 covers c for both sides.
    var tolerance: Double {
        let k = retained
        let next = k < singularValues.count ? singularValues[k] : 0
        let sigma1 = singularValues[0], sigmaK = singularValues[k - 1]
        return 8 * Double(max(a.count, a[0].count)) * eps * (sigma1 / sigmaK + sigma1 / (sigmaK - next))
    }
}

struct ConditionCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let conditionNumber: Double
    let singularValues: [Double]
    var testDescription: String { name }
}

struct RankCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let rank: Int
    var testDescription: String { name }
}

private struct SVDFixture: Decodable { let cases: [SVDCase] }
private struct SVDQuantitiesFixture: Decodable {
    let pinv: [PseudoInverseCase]
    let cond: [ConditionCase]
    let rank: [RankCase]
}

private func svdCases() throws -> [SVDCase] { try fixtures.load("svd", as: SVDFixture.self).cases }
private func quantities() throws -> SVDQuantitiesFixture { try fixtures.load("least_squares", as: SVDQuantitiesFixture.self) }

@Suite("SVD vs numpy.linalg.svd")
struct SingularValueDecompositionTests {
    @Test("fixture covers tall, wide, square, 1×1 and single row/column")
    func fixtureCoverage() throws {
        // Tolerance: none — checks which cases the fixture holds; no numerics.
        #expect(try svdCases().map(\.name) == ["tall7x4", "wide4x7", "square5", "one", "row1x5", "column5x1"])
    }

    @Test("singular values match NumPy (thin, full and values-only)", arguments: try svdCases())
    func singularValuesMatch(_ fixture: SVDCase) throws {
        // Weyl for singular values: |σ̂ᵢ − σᵢ| ≤ ‖δA‖₂ ≈ c·max(m,n)·ε·σ₁ for a backward-stable SVD.
        let tolerance = 8 * fixture.largerDimension * eps // normwise relative to σ₁
        let a = try fixtureMatrix(fixture.a)
        expectWithin(relativeError(try SingularValueDecomposition(a).singularValues, fixture.singularValues), tolerance, "σ thin")
        expectWithin(relativeError(try SingularValueDecomposition(a, full: true).singularValues, fixture.singularValues),
                     tolerance, "σ full")
        let valuesOnly = try a.singularValues()
        expectWithin(relativeError(valuesOnly, fixture.singularValues), tolerance, "σ values only")
        #expect(zip(valuesOnly, valuesOnly.dropFirst()).allSatisfy { $0 >= $1 } && valuesOnly.allSatisfy { $0 >= 0 })
        expectWithin(relativeError(try a.spectralNorm(), fixture.singularValues[0]), tolerance, "‖A‖₂")
    }

    @Test("thin SVD: shapes, orthonormality, U·diag(s)·Vᵀ = A, vectors match NumPy up to paired signs",
          arguments: try svdCases())
    func thinFactors(_ fixture: SVDCase) throws {
        let backwardTolerance = 8 * fixture.largerDimension * eps // relative to ‖A‖; κ-independent
        // Wedin: singular-vector error ≲ c·max(m,n)·ε·σ₁/gap.
        let vectorTolerance = backwardTolerance * fixture.singularValues[0] / fixture.vectorGap
        let a = try fixtureMatrix(fixture.a)
        let svd = try SingularValueDecomposition(a)
        let k = fixture.rank
        #expect(svd.u.shape == Shape(fixture.rows, k) && svd.vt.shape == Shape(k, fixture.columns))
        expectWithin(orthonormalityDefect(svd.u), backwardTolerance, "‖UᵀU − I‖")
        expectWithin(orthonormalityDefect(svd.vt.transposed()), backwardTolerance, "‖VᵀV − I‖")
        let rebuilt = svd.u * Matrix.diagonal(svd.singularValues) * svd.vt
        expectWithin(relativeError(rebuilt, a), backwardTolerance, "‖U·S·Vᵀ − A‖")

        // Each pair (uᵢ, vᵢ) may flip sign together, never separately: align U, reuse its signs for Vᵀ.
        let expectedU = try fixtureMatrix(fixture.thinU), expectedVt = try fixtureMatrix(fixture.thinVt)
        let (alignedU, signs) = aligningColumnSigns(of: svd.u, to: expectedU, count: k)
        expectWithin(relativeError(alignedU, expectedU), vectorTolerance, "U up to sign")
        let alignedVt = Matrix.diagonal(signs) * svd.vt
        expectWithin(relativeError(alignedVt, expectedVt), vectorTolerance, "Vᵀ with U's signs")
    }

    @Test("full SVD: square orthogonal U and Vᵀ whose leading vectors match NumPy", arguments: try svdCases())
    func fullFactors(_ fixture: SVDCase) throws {
        let backwardTolerance = 8 * fixture.largerDimension * eps // relative to ‖A‖ and to I
        let vectorTolerance = backwardTolerance * fixture.singularValues[0] / fixture.vectorGap // Wedin, as above
        let a = try fixtureMatrix(fixture.a)
        let svd = try SingularValueDecomposition(a, full: true)
        let (m, n, k) = (fixture.rows, fixture.columns, fixture.rank)
        #expect(svd.u.shape == Shape(m, m) && svd.vt.shape == Shape(n, n))
        expectWithin(orthonormalityDefect(svd.u), backwardTolerance, "‖UᵀU − I‖ (full)")
        expectWithin(orthonormalityDefect(svd.vt.transposed()), backwardTolerance, "‖VᵀV − I‖ (full)")
        // Σ is m×n: only the leading k columns of U and rows of Vᵀ carry singular values; the
        // rest is some orthonormal basis of the complement, which need not match NumPy's.
        var sigma = Matrix(rows: m, columns: n)
        for i in 0..<k { sigma[i, i] = svd.singularValues[i] }
        expectWithin(relativeError(svd.u * sigma * svd.vt, a), backwardTolerance, "‖U·Σ·Vᵀ − A‖ (full)")

        let expectedU = try fixtureMatrix(fixture.fullU).submatrix(rows: 0..<m, columns: 0..<k)
        let expectedVt = try fixtureMatrix(fixture.fullVt).submatrix(rows: 0..<k, columns: 0..<n)
        let leadingU = svd.u.submatrix(rows: 0..<m, columns: 0..<k)
        let (alignedU, signs) = aligningColumnSigns(of: leadingU, to: expectedU, count: k)
        expectWithin(relativeError(alignedU, expectedU), vectorTolerance, "leading U up to sign")
        let alignedVt = Matrix.diagonal(signs) * svd.vt.submatrix(rows: 0..<k, columns: 0..<n)
        expectWithin(relativeError(alignedVt, expectedVt), vectorTolerance, "leading Vᵀ with U's signs")
    }

    @Test("errors: empty and non-finite input")
    func invalidInput() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        #expect(throws: LinalgError.empty(operation: "SVD")) { try SingularValueDecomposition(Matrix(rows: 0, columns: 3)) }
        #expect(throws: LinalgError.empty(operation: "singularValues")) { try Matrix(rows: 2, columns: 0).singularValues() }
        var a = Matrix(rows: 3, columns: 5, repeating: 1)
        a[1, 4] = .infinity
        #expect(throws: LinalgError.nonFinite(operation: "SVD", row: 1, column: 4)) { try SingularValueDecomposition(a, full: true) }
        #expect(throws: LinalgError.nonFinite(operation: "singularValues", row: 1, column: 4)) { try a.conditionNumber() }
        #expect(throws: LinalgError.nonFinite(operation: "SVD", row: 1, column: 4)) { try a.pseudoInverse() }
    }
}

@Suite("pinv, cond and matrix_rank vs NumPy")
struct SingularValueQuantityTests {
    @Test("pseudoInverse matches numpy.linalg.pinv, default and truncating cutoffs", arguments: try quantities().pinv)
    func pseudoInverseMatches(_ fixture: PseudoInverseCase) throws {
        // Relative (max norm), from the singular values: see PseudoInverseCase.tolerance.
        // ≈ 1e-13 for the full-rank and rank-deficient cases, ≈ 3e-11 for Hilbert(8) truncated at σ₄.
        let tolerance = fixture.tolerance
        let a = try fixtureMatrix(fixture.a)
        let pinv: Matrix
        if let cutoff = fixture.relativeCutoff {
            pinv = try a.pseudoInverse(relativeCutoff: cutoff)
        } else {
            pinv = try a.pseudoInverse()
        }
        #expect(pinv.shape == Shape(a.columns, a.rows))
        expectWithin(relativeError(pinv, try fixtureMatrix(fixture.pseudoInverse)), tolerance, "A⁺")
        // Moore–Penrose condition A⁺·A·A⁺ = A⁺ holds for the truncated pseudo-inverse too.
        expectWithin(relativeError(pinv * a * pinv, pinv), tolerance, "A⁺·A·A⁺ − A⁺")
        if fixture.retained == fixture.rank {
            // A·A⁺·A = A only when nothing above the numerical rank was discarded.
            expectWithin(relativeError(a * pinv * a, a), tolerance, "A·A⁺·A − A")
        }
        #expect(try a.rank() == fixture.rank)
    }

    @Test("conditionNumber matches numpy.linalg.cond, loosely only where σ_min is ill-determined",
          arguments: try quantities().cond)
    func conditionNumberMatches(_ fixture: ConditionCase) throws {
        // σ_min carries an absolute error ≈ c·n·ε·σ₁, i.e. a relative error ≈ c·n·ε·κ, so κ
        // itself is only good to that: ≈ 1.5e-13 for κ ≈ 7, ≈ 2e-4 for Hilbert(8) with κ ≈ 1.5e10.
        let n = Double(fixture.a.count)
        let tolerance = 8 * n * fixture.conditionNumber * eps // relative
        let a = try fixtureMatrix(fixture.a)
        expectWithin(relativeError(try a.conditionNumber(), fixture.conditionNumber), tolerance, "cond")
        // The singular values themselves are normwise accurate regardless of κ (Weyl).
        expectWithin(relativeError(try a.singularValues(), fixture.singularValues), 8 * n * eps, "σ")
    }

    @Test("rank matches numpy.linalg.matrix_rank exactly", arguments: try quantities().rank)
    func rankMatches(_ fixture: RankCase) throws {
        // Tolerance: none; the rank is an integer and every case keeps its singular values far
        // from NumPy's cutoff σ₁·max(m,n)·ε (the fixture covers full, deficient, rank-1, zero and Hilbert).
        #expect(try fixtureMatrix(fixture.a).rank() == fixture.rank)
    }

    @Test("hand-derived: the zero matrix has rank 0, cond ∞, norm 0, pseudo-inverse 0 and least-squares solution 0")
    func zeroMatrix() throws {
        // Tolerance: none — every singular value is exactly 0, so nothing is inverted and all results are exact zeros.
        let zero = Matrix(rows: 3, columns: 2)
        #expect(try zero.singularValues() == [0, 0])
        #expect(try zero.rank() == 0)
        #expect(try zero.conditionNumber() == .infinity)
        #expect(try zero.spectralNorm() == 0)
        #expect(try zero.pseudoInverse() == Matrix(rows: 2, columns: 3))
        let result = try LeastSquaresSolution(zero, Matrix([[1], [2], [3]]))
        #expect(result.solution == Matrix(rows: 2, columns: 1), "minimum norm: nothing to fit with")
        #expect(result.rank == 0)
        #expect(result.residualSumsOfSquares.isEmpty, "NumPy reports residuals only when rank == n")
    }

    @Test("hand-derived: diag(3, −2, 0) has cond = ∞, rank 2, pinv diag(1/3, −1/2, 0)")
    func diagonalByHand() throws {
        // Tolerance: exact comparisons are safe; the SVD of a diagonal matrix performs no rounding
        // (LAPACK only permutes and flips signs), and 1/3, −1/2 are then single correctly rounded divisions.
        let a = Matrix.diagonal([3, -2, 0])
        #expect(try a.singularValues() == [3, 2, 0])
        #expect(try a.conditionNumber() == .infinity)
        #expect(try a.rank() == 2)
        #expect(try a.rank(tolerance: 2.5) == 1)
        #expect(try a.spectralNorm() == 3)
        let tolerance = 2 * eps // relative; pinv is assembled by a gemm of exact values with zeros
        expectWithin(relativeError(try a.pseudoInverse(), Matrix.diagonal([1.0 / 3, -0.5, 0])), tolerance, "pinv(diag)")
    }
}
