import Foundation
import Testing
@testable import Linalg

/// One case of Fixtures/eigh.json (`numpy.linalg.eigh`, lower triangle).
struct EighCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let a: [[Double]]
    let eigenvalues: [Double]
    let compareVectors: Bool
    /// Present when eigenvectors are well determined (well-separated eigenvalues).
    let eigenvectors: [[Double]]?
    /// `V·diag(λ)·Vᵀ` from NumPy, present for the nearly-repeated case instead of the vectors.
    let reconstruction: [[Double]]?

    var testDescription: String { name }
    var order: Int { a.count }
    var spectralRadius: Double { eigenvalues.map { abs($0) }.max() ?? 0 }

    /// The smallest distance between neighbouring eigenvalues (infinite for 1×1).
    var smallestGap: Double {
        zip(eigenvalues.dropFirst(), eigenvalues).map { $0 - $1 }.min() ?? .infinity
    }

    /// The symmetric matrix `eigh` actually decomposes: the lower triangle mirrored.
    func lowerMirrored() throws -> Matrix {
        let a = try fixtureMatrix(self.a)
        return Matrix(rows: order, columns: order) { i, j in i >= j ? a[i, j] : a[j, i] }
    }
}

private struct EighFixture: Decodable { let cases: [EighCase] }

private func eighCases() throws -> [EighCase] { try fixtures.load("eigh", as: EighFixture.self).cases }

@Suite("Symmetric eigendecomposition vs numpy.linalg.eigh")
struct SymmetricEigenTests {
    @Test("fixture covers general, lower-triangle-only, SPD, 1×1 and nearly repeated spectra")
    func fixtureCoverage() throws {
        // Tolerance: none — checks which cases the fixture holds; no numerics.
        let cases = try eighCases()
        #expect(cases.map(\.name) == ["symmetric6", "lowerTriangleOnly6", "spd5", "one", "nearlyRepeated5"])
        #expect(cases.last?.compareVectors == false)
        // The clustered case really is clustered: gaps of 1e-10 relative to ‖A‖ = 3.
        #expect(try #require(cases.last).smallestGap < 1e-9)
    }

    @Test("eigenvalues are ascending and match NumPy", arguments: try eighCases())
    func eigenvaluesMatch(_ fixture: EighCase) throws {
        // Weyl: each computed eigenvalue is within (backward error) ≈ c·n·ε·‖A‖₂ of the exact one,
        // whatever the gaps, for both implementations. Relative to max|λ| = ‖A‖₂.
        let tolerance = 8 * Double(fixture.order) * eps // normwise relative to ‖A‖₂
        let a = try fixtureMatrix(fixture.a)
        let decomposition = try SymmetricEigendecomposition(a)
        expectWithin(relativeError(decomposition.eigenvalues, fixture.eigenvalues), tolerance, "λ")
        #expect(zip(decomposition.eigenvalues, decomposition.eigenvalues.dropFirst()).allSatisfy { $0 <= $1 }, "ascending")
        // The values-only path (jobz = 'N') is a different LAPACK code path; it obeys the same bound.
        expectWithin(relativeError(try a.symmetricEigenvalues(), fixture.eigenvalues), tolerance, "λ without vectors")
    }

    @Test("eigenvectors match NumPy up to sign", arguments: try eighCases().filter(\.compareVectors))
    func eigenvectorsMatch(_ fixture: EighCase) throws {
        // Davis–Kahan: an eigenvector's error is ≲ (backward error)/gap ≈ c·n·ε·‖A‖/gap.
        let tolerance = 8 * Double(fixture.order) * eps * fixture.spectralRadius / min(fixture.smallestGap, fixture.spectralRadius)
        let decomposition = try SymmetricEigendecomposition(fixtureMatrix(fixture.a))
        let expected = try fixtureMatrix(try #require(fixture.eigenvectors))
        let (aligned, _) = aligningColumnSigns(of: decomposition.eigenvectors, to: expected, count: fixture.order)
        expectWithin(relativeError(aligned, expected), tolerance, "V (up to column signs)")
    }

    @Test("V is orthonormal and V·diag(λ)·Vᵀ rebuilds the lower-mirrored matrix", arguments: try eighCases())
    func reconstruction(_ fixture: EighCase) throws {
        // Both are backward-error statements (dsyevd is backward stable), independent of gaps,
        // so they hold for the clustered case too: c·n·ε of ‖A‖ and of I.
        let tolerance = 8 * Double(fixture.order) * eps // relative to ‖A‖_max; absolute for VᵀV − I
        let decomposition = try SymmetricEigendecomposition(fixtureMatrix(fixture.a))
        expectWithin(orthonormalityDefect(decomposition.eigenvectors), tolerance, "‖VᵀV − I‖")
        let rebuilt = decomposition.reconstructed()
        #expect(rebuilt.isSymmetric(tolerance: 0), "reconstructed() symmetrizes exactly")
        expectWithin(relativeError(rebuilt, try fixture.lowerMirrored()), tolerance, "‖VΛVᵀ − A‖")
        if let reference = fixture.reconstruction {
            expectWithin(relativeError(rebuilt, try fixtureMatrix(reference)), 2 * tolerance, "vs NumPy's VΛVᵀ")
        }
    }

    @Test("reconstructed(mappingEigenvalues:) applies a spectral function: exp(log A) = A for SPD A")
    func spectralFunction() throws {
        // log then exp of an SPD matrix with κ ≈ 17: each step is backward stable, so the
        // round trip loses a few n·ε of ‖A‖, amplified at most by κ through the log.
        let fixture = try #require(try eighCases().first { $0.name == "spd5" })
        let a = try fixtureMatrix(fixture.a)
        let kappa = fixture.eigenvalues.last! / fixture.eigenvalues.first!
        let tolerance = 16 * Double(fixture.order) * kappa * eps // relative
        let logarithm = try SymmetricEigendecomposition(a).reconstructed { log($0) }
        let roundTrip = try SymmetricEigendecomposition(logarithm).reconstructed { exp($0) }
        expectWithin(relativeError(roundTrip, a), tolerance, "exp(log A)")
    }

    @Test("errors: not square, empty, non-finite")
    func invalidInput() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        let operation = "SymmetricEigendecomposition"
        #expect(throws: LinalgError.notSquare(operation: operation, shape: Shape(2, 4))) {
            try SymmetricEigendecomposition(Matrix(rows: 2, columns: 4))
        }
        #expect(throws: LinalgError.empty(operation: operation)) { try Matrix(rows: 0, columns: 0).symmetricEigenvalues() }
        var a = Matrix.identity(3)
        a[0, 2] = .nan // above the diagonal: not read by LAPACK, but still rejected as input
        #expect(throws: LinalgError.nonFinite(operation: operation, row: 0, column: 2)) { try SymmetricEigendecomposition(a) }
    }
}
