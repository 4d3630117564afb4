import COpenBLAS

/// The eigendecomposition `A = V·diag(λ)·Vᵀ` of a symmetric matrix (`dsyevd`, divide and conquer).
///
/// Only the lower triangle is read, as in `numpy.linalg.eigh` with `UPLO='L'`.
/// Eigenvalues are in ascending order; column `j` of ``eigenvectors`` is the unit
/// eigenvector of `eigenvalues[j]`. An eigenvector's sign is arbitrary. Costs about `9n³` flops.
public struct SymmetricEigendecomposition: Sendable {
    /// Eigenvalues in ascending order.
    public let eigenvalues: [Double]
    /// Orthonormal eigenvectors as columns.
    public let eigenvectors: Matrix

    /// Decomposes `matrix`.
    ///
    /// - Throws: ``LinalgError/notSquare(operation:shape:)``, ``LinalgError/empty(operation:)``,
    ///   ``LinalgError/nonFinite(operation:row:column:)``, or
    ///   ``LinalgError/notConverged(operation:iterations:residual:)`` if LAPACK fails to converge.
    public init(_ matrix: Matrix) throws {
        var work = matrix
        eigenvalues = try Self.run(&work, vectors: true)
        // Column-major eigenvectors read row-major are Vᵀ.
        eigenvectors = work.transposed()
    }

    /// Calls `dsyevd` on the lower triangle (the column-major upper triangle) of `matrix`.
    static func run(_ matrix: inout Matrix, vectors: Bool) throws -> [Double] {
        // The checks of `validateForFactorization`, in its order, with the vectorized finite scan.
        let operation = "SymmetricEigendecomposition"
        guard matrix.isSquare else { throw LinalgError.notSquare(operation: operation, shape: matrix.shape) }
        guard !matrix.isEmpty else { throw LinalgError.empty(operation: operation) }
        try matrix.validateFiniteQuickly(operation)
        let n = Int32(matrix.rows)
        var values = [Double](repeating: 0, count: matrix.rows)
        let info = matrix.withUnsafeMutableBufferPointer { p in
            LAPACKE_dsyevd(LAPACK_COL_MAJOR, vectors ? LAPACKFlag.vectors : LAPACKFlag.none,
                           LAPACKFlag.upper, n, p.baseAddress, n, &values)
        }
        try checkArgumentInfo(info, routine: "dsyevd")
        if info > 0 {
            throw LinalgError.notConverged(operation: "SymmetricEigendecomposition", iterations: Int(info), residual: .nan)
        }
        return values
    }

    /// Rebuilds `V·diag(f(λ))·Vᵀ`, the spectral function `f(A)`, exactly symmetric.
    public func reconstructed(mappingEigenvalues transform: (Double) -> Double = { $0 }) -> Matrix {
        let n = eigenvalues.count
        var scaled = eigenvectors
        let mapped = eigenvalues.map(transform)
        scaled.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                for j in 0..<n { p[i * n + j] *= mapped[j] }
            }
        }
        var result = Matrix(rows: n, columns: n)
        // Shapes are n×n by construction.
        try! BLAS.gemm(scaled, eigenvectors, transposeB: true, into: &result)
        result.symmetrize()
        return result
    }
}

extension Matrix {
    /// The eigenvalues of the symmetric matrix (lower triangle read), ascending, without eigenvectors.
    ///
    /// - Throws: as ``SymmetricEigendecomposition/init(_:)``.
    public func symmetricEigenvalues() throws -> [Double] {
        var work = self
        return try SymmetricEigendecomposition.run(&work, vectors: false)
    }

    /// Replaces the matrix by `(A + Aᵀ)/2`. Requires a square matrix.
    public mutating func symmetrize() {
        precondition(isSquare, "symmetrize: requires a square matrix, got \(shape)")
        let n = rows
        withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                for j in (i + 1)..<Swift.max(i + 1, n) {
                    let mean = 0.5 * (p[i * n + j] + p[j * n + i])
                    p[i * n + j] = mean
                    p[j * n + i] = mean
                }
            }
        }
    }
}
