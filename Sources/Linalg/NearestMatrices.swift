/// The outcome of Higham's alternating-projections method for the nearest correlation matrix.
public struct NearestCorrelationResult: Sendable {
    /// The nearest correlation matrix: symmetric, unit diagonal, eigenvalues `≥ minimumEigenvalue`
    /// up to the stated tolerance.
    public let matrix: Matrix
    /// Projection sweeps performed.
    public let iterations: Int
    /// Final relative change `‖Yₖ − Xₖ‖_F / ‖Yₖ‖_F` between the two projections.
    public let residual: Double
    /// Frobenius distance from the (symmetrized) input.
    public let distance: Double
}

extension Matrix {
    /// The nearest symmetric positive-semidefinite matrix in the Frobenius norm (Higham, 1988).
    ///
    /// Symmetrizes `(A + Aᵀ)/2`, then clips its eigenvalues below at `minimumEigenvalue`.
    /// A positive `minimumEigenvalue` gives a positive-definite result, which Cholesky accepts.
    ///
    /// Reference: N. J. Higham, "Computing a nearest symmetric positive semidefinite matrix",
    /// Linear Algebra Appl. 103 (1988) 103–118.
    ///
    /// - Throws: ``LinalgError/notSquare(operation:shape:)``, ``LinalgError/empty(operation:)``,
    ///   ``LinalgError/nonFinite(operation:row:column:)``, or
    ///   ``LinalgError/invalidArgument(operation:message:)`` for a negative or non-finite `minimumEigenvalue`.
    public func nearestPositiveSemidefinite(minimumEigenvalue: Double = 0) throws -> Matrix {
        guard minimumEigenvalue >= 0, minimumEigenvalue.isFinite else {
            throw LinalgError.invalidArgument(operation: "nearestPositiveSemidefinite",
                                              message: "minimumEigenvalue must be finite and ≥ 0, got \(minimumEigenvalue)")
        }
        try validateForFactorization("nearestPositiveSemidefinite", requireSquare: true)
        var symmetric = self
        symmetric.symmetrize()
        return try SymmetricEigendecomposition(symmetric)
            .reconstructed { Swift.max($0, minimumEigenvalue) }
    }

    /// The nearest correlation matrix in the Frobenius norm, by alternating projections
    /// with Dykstra's correction (Higham, 2002).
    ///
    /// Alternates the projection onto the PSD cone (eigenvalues clipped at
    /// `minimumEigenvalue`) and onto unit-diagonal matrices until the relative change
    /// falls below `tolerance`. Each sweep costs one symmetric eigendecomposition.
    ///
    /// Reference: N. J. Higham, "Computing the nearest correlation matrix — a problem from
    /// finance", IMA J. Numer. Anal. 22 (2002) 329–343.
    ///
    /// - Throws: ``LinalgError/notSquare(operation:shape:)``, ``LinalgError/empty(operation:)``,
    ///   ``LinalgError/nonFinite(operation:row:column:)``, ``LinalgError/invalidArgument(operation:message:)``
    ///   for bad settings, or ``LinalgError/notConverged(operation:iterations:residual:)``.
    public func nearestCorrelation(tolerance: Double = 1e-12, maxIterations: Int = 10_000,
                                   minimumEigenvalue: Double = 0) throws -> NearestCorrelationResult {
        let operation = "nearestCorrelation"
        guard tolerance > 0, maxIterations > 0, minimumEigenvalue >= 0, minimumEigenvalue < 1 else {
            throw LinalgError.invalidArgument(
                operation: operation,
                message: "need tolerance > 0, maxIterations > 0 and 0 ≤ minimumEigenvalue < 1; got \(tolerance), \(maxIterations), \(minimumEigenvalue)")
        }
        try validateForFactorization(operation, requireSquare: true)
        var start = self
        start.symmetrize()
        let n = rows
        var y = start
        var correction = Matrix(rows: n, columns: n)
        var residual = Double.infinity
        for iteration in 1...maxIterations {
            let r = y - correction
            let x = try SymmetricEigendecomposition(r).reconstructed { Swift.max($0, minimumEigenvalue) }
            correction = x - r
            var next = x
            for i in 0..<n { next[i, i] = 1 }
            residual = (next - x).frobeniusNorm / Swift.max(next.frobeniusNorm, .leastNormalMagnitude)
            let change = (next - y).frobeniusNorm / Swift.max(next.frobeniusNorm, .leastNormalMagnitude)
            y = next
            if Swift.max(residual, change) <= tolerance {
                return NearestCorrelationResult(matrix: y, iterations: iteration, residual: residual,
                                                distance: (y - start).frobeniusNorm)
            }
        }
        throw LinalgError.notConverged(operation: operation, iterations: maxIterations, residual: residual)
    }
}
