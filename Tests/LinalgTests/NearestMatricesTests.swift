import Testing
@testable import Linalg

/// One case of Fixtures/nearest.json: NumPy reference of symmetrize → eigh → clip at 0 → rebuild.
struct NearestPSDCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let nearest: [[Double]]
    let minimumInputEigenvalue: Double
    var testDescription: String { name }
}

/// One case of Fixtures/nearest.json: NumPy implementation of Higham (2002) with Dykstra's
/// correction, iterated to a relative change of 1e-15.
struct NearestCorrelationCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let nearest: [[Double]]
    let referenceIterations: Int
    let distance: Double
    var testDescription: String { name }
}

private struct NearestFixture: Decodable {
    let psd: [NearestPSDCase]
    let correlation: [NearestCorrelationCase]
}

private func nearestFixture() throws -> NearestFixture { try fixtures.load("nearest", as: NearestFixture.self) }

@Suite("Nearest PSD and nearest correlation matrices")
struct NearestMatricesTests {
    @Test("fixture inputs really are indefinite (otherwise the projection is the identity)")
    func fixtureCoverage() throws {
        // Tolerance: none — checks which cases the fixture holds; no numerics.
        let fixture = try nearestFixture()
        #expect(fixture.psd.map(\.name) == ["indefinite6", "nonsymmetric5"])
        #expect(fixture.psd.allSatisfy { $0.minimumInputEigenvalue < -1 })
        #expect(fixture.correlation.map(\.name) == ["higham2002", "brokenCorrelation6"])
    }

    @Test("nearestPositiveSemidefinite matches the NumPy eigen-clipping reference", arguments: try nearestFixture().psd)
    func nearestPSDMatches(_ fixture: NearestPSDCase) throws {
        // The projection onto the PSD cone is 1-Lipschitz in the Frobenius norm, so the rounding
        // of two backward-stable eigendecompositions (c·n·ε‖A‖ each) passes through unamplified.
        let n = Double(fixture.a.count)
        let tolerance = 16 * n * eps // relative (max norm)
        let a = try fixtureMatrix(fixture.a)
        let nearest = try a.nearestPositiveSemidefinite()
        expectWithin(relativeError(nearest, try fixtureMatrix(fixture.nearest)), tolerance, "P_S(A)")
        #expect(nearest.isSymmetric(tolerance: 0))
        // Clipping leaves eigenvalues ≥ 0 up to the rounding of rebuilding V·Λ₊·Vᵀ.
        let smallest = try #require(try nearest.symmetricEigenvalues().first)
        expectWithin(max(0, -smallest) / nearest.frobeniusNorm, tolerance, "negative eigenvalue left")
    }

    @Test("a positive minimumEigenvalue yields a matrix Cholesky accepts")
    func minimumEigenvalueFloor() throws {
        let fixture = try #require(try nearestFixture().psd.first)
        let floor = 1e-3
        let tolerance = 16 * 6 * eps * 3 // absolute on the smallest eigenvalue, relative to ‖A‖₂ ≈ 3
        let lifted = try fixtureMatrix(fixture.a).nearestPositiveSemidefinite(minimumEigenvalue: floor)
        let smallest = try #require(try lifted.symmetricEigenvalues().first)
        expectWithin(abs(smallest - floor), tolerance, "λ_min = floor")
        _ = try Cholesky(lifted)
    }

    @Test("Higham (2002) published example: off-diagonals 0.7607 and 0.1573")
    func highamPublishedExample() throws {
        // N. J. Higham, "Computing the nearest correlation matrix — a problem from finance",
        // IMA J. Numer. Anal. 22 (2002) 329–343: for A = [[1,1,0],[1,1,1],[0,1,1]] (W = I) the
        // nearest correlation matrix has X₁₂ = X₂₃ ≈ 0.7607 and X₁₃ ≈ 0.1573, printed to 4 decimals.
        let tolerance = 5e-5 // absolute: half a unit in the 4th decimal the paper prints
        let a = try Matrix([[1, 1, 0], [1, 1, 1], [0, 1, 1]])
        let x = try a.nearestCorrelation().matrix
        expectWithin(abs(x[0, 1] - 0.7607), tolerance, "X₁₂")
        expectWithin(abs(x[1, 2] - 0.7607), tolerance, "X₂₃")
        expectWithin(abs(x[0, 2] - 0.1573), tolerance, "X₁₃")
    }

    @Test("nearestCorrelation matches the NumPy Dykstra reference", arguments: try nearestFixture().correlation)
    func nearestCorrelationMatches(_ fixture: NearestCorrelationCase) throws {
        // The Swift iteration stops at a relative change ≤ 1e-12 (default). Alternating projections
        // converge linearly; the fixture reference needed ~40 sweeps from O(1) to 1e-15, a rate of
        // ≈ 0.5, so the distance left to the limit is ≈ change·ρ/(1 − ρ) ≲ 1e-12. The reference sits
        // within 1e-15 of the limit. 1e-10 leaves two orders of margin for the rate estimate.
        let tolerance = 1e-10 // relative (max norm)
        let a = try fixtureMatrix(fixture.a)
        let result = try a.nearestCorrelation()
        expectWithin(relativeError(result.matrix, try fixtureMatrix(fixture.nearest)), tolerance, "X vs reference")
        expectWithin(relativeError(result.distance, fixture.distance), tolerance, "‖X − A‖_F")
        #expect(result.iterations > 1 && result.residual <= 1e-12)

        // Defining properties, independent of the reference: exact unit diagonal, exact symmetry, PSD.
        #expect(result.matrix.diagonalElements.allSatisfy { $0 == 1 })
        #expect(result.matrix.isSymmetric(tolerance: 0))
        let smallest = try #require(try result.matrix.symmetricEigenvalues().first)
        // Dykstra's final iterate is the unit-diagonal projection, so PSD only holds to the residual.
        expectWithin(max(0, -smallest), 1e-11, "negative eigenvalue (absolute; ≤ 10 × the 1e-12 stopping residual)")
    }

    @Test("a tighter tolerance moves the result closer to the reference")
    func tighterTolerance() throws {
        let fixture = try #require(try nearestFixture().correlation.last)
        // With tolerance 1e-14 the remaining distance to the limit is ≈ 1e-14 (same rate argument);
        // 1e-12 leaves margin and is still two orders tighter than the default-tolerance test.
        let tolerance = 1e-12 // relative (max norm)
        let result = try fixtureMatrix(fixture.a).nearestCorrelation(tolerance: 1e-14)
        expectWithin(relativeError(result.matrix, try fixtureMatrix(fixture.nearest)), tolerance, "X vs reference")
    }

    @Test("minimumEigenvalue > 0 in nearestCorrelation yields a positive-definite correlation matrix")
    func correlationWithEigenvalueFloor() throws {
        let fixture = try #require(try nearestFixture().correlation.last)
        let floor = 1e-3
        let result = try fixtureMatrix(fixture.a).nearestCorrelation(minimumEigenvalue: floor)
        // At the stop ‖Y − X‖_F ≤ 1e-12·‖Y‖_F with λ_min(X) ≥ floor, so by Weyl
        // λ_min(Y) ≥ floor − 1e-12·‖Y‖_F (‖Y‖_F ≤ n = 6); 1e-11 leaves rounding margin.
        let tolerance = 1e-11 // absolute on λ_min
        let smallest = try #require(try result.matrix.symmetricEigenvalues().first)
        expectWithin(max(0, floor - smallest), tolerance, "λ_min below the floor")
        #expect(result.matrix.diagonalElements.allSatisfy { $0 == 1 })
        _ = try Cholesky(result.matrix)
        // Raising the floor moves the answer away from A: the unconstrained nearest matrix is closer.
        #expect(result.distance > fixture.distance)
    }

    @Test("a valid correlation matrix is its own nearest correlation matrix")
    func fixedPoint() throws {
        // [[1, .5], [.5, 1]] has eigenvalues 0.5 and 1.5: already PSD with unit diagonal, so both
        // projections return it up to eigendecomposition rounding (c·n·ε).
        let tolerance = 16 * 2 * eps // relative
        let a = try Matrix([[1, 0.5], [0.5, 1]])
        let result = try a.nearestCorrelation()
        expectWithin(relativeError(result.matrix, a), tolerance, "X = A")
        #expect(result.iterations <= 2)
    }

    @Test("errors: bad settings, shape, emptiness, non-finite input, non-convergence")
    func invalidInput() throws {
        let a = Matrix.identity(2)
        #expect(throws: LinalgError.invalidArgument(operation: "nearestPositiveSemidefinite",
                                                    message: "minimumEigenvalue must be finite and ≥ 0, got -1.0")) {
            try a.nearestPositiveSemidefinite(minimumEigenvalue: -1)
        }
        #expect(throws: LinalgError.notSquare(operation: "nearestPositiveSemidefinite", shape: Shape(2, 3))) {
            try Matrix(rows: 2, columns: 3).nearestPositiveSemidefinite()
        }
        #expect(throws: LinalgError.notSquare(operation: "nearestCorrelation", shape: Shape(3, 2))) {
            try Matrix(rows: 3, columns: 2).nearestCorrelation()
        }
        #expect(throws: LinalgError.empty(operation: "nearestCorrelation")) { try Matrix(rows: 0, columns: 0).nearestCorrelation() }
        var bad = Matrix.identity(3)
        bad[1, 0] = .nan
        #expect(throws: LinalgError.nonFinite(operation: "nearestCorrelation", row: 1, column: 0)) { try bad.nearestCorrelation() }
        #expect(throws: LinalgError.nonFinite(operation: "nearestPositiveSemidefinite", row: 1, column: 0)) {
            try bad.nearestPositiveSemidefinite()
        }
        #expect(throws: LinalgError.invalidArgument(
            operation: "nearestCorrelation",
            message: "need tolerance > 0, maxIterations > 0 and 0 ≤ minimumEigenvalue < 1; got 0.0, 10000, 0.0")) {
            try a.nearestCorrelation(tolerance: 0)
        }
        #expect(throws: LinalgError.invalidArgument(
            operation: "nearestCorrelation",
            message: "need tolerance > 0, maxIterations > 0 and 0 ≤ minimumEigenvalue < 1; got 1e-12, 10000, 1.0")) {
            try a.nearestCorrelation(minimumEigenvalue: 1)
        }

        // One sweep cannot reach 1e-12 on Higham's example; the residual reported is the last one measured.
        let higham = try Matrix([[1, 1, 0], [1, 1, 1], [0, 1, 1]])
        let error = #expect(throws: LinalgError.self) { try higham.nearestCorrelation(maxIterations: 1) }
        guard case let .notConverged(operation, iterations, residual)? = error else {
            Issue.record("expected .notConverged, got \(String(describing: error))")
            return
        }
        #expect(operation == "nearestCorrelation" && iterations == 1)
        #expect(residual > 1e-12 && residual.isFinite)
    }
}
