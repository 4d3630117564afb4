import COpenBLAS

/// The reduced QR factorization `A = Q·R` by Householder reflections (`dgeqrf` + `dorgqr`).
///
/// For an `m × n` matrix with `k = min(m, n)`, `Q` is `m × k` with orthonormal
/// columns and `R` is `k × n` upper triangular, as `numpy.linalg.qr(mode='reduced')`.
/// The signs follow LAPACK (the diagonal of `R` may be negative).
public struct QRDecomposition: Sendable {
    /// Orthonormal factor, `m × k`.
    public let q: Matrix
    /// Upper-triangular factor, `k × n`.
    public let r: Matrix

    /// Factors `matrix`.
    ///
    /// - Throws: ``LinalgError/empty(operation:)`` or ``LinalgError/nonFinite(operation:row:column:)``.
    public init(_ matrix: Matrix) throws {
        try matrix.validateForFactorization("QR", requireSquare: false)
        let m = matrix.rows, n = matrix.columns, k = Swift.min(m, n)
        var factors = matrix
        var tau = [Double](repeating: 0, count: k)
        var info = factors.withUnsafeMutableBufferPointer { a in
            LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), a.baseAddress, Int32(n), &tau)
        }
        try checkArgumentInfo(info, routine: "dgeqrf")
        r = Matrix(rows: k, columns: n) { i, j in j >= i ? factors[i, j] : 0 }
        var reflectors = factors.submatrix(rows: 0..<m, columns: 0..<k)
        info = reflectors.withUnsafeMutableBufferPointer { a in
            LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(k), Int32(k), a.baseAddress, Int32(k), tau)
        }
        try checkArgumentInfo(info, routine: "dorgqr")
        q = reflectors
    }
}

/// The minimum-norm least-squares solution of `A·X ≈ B` (`dgelsd`), as `numpy.linalg.lstsq`.
public struct LeastSquaresSolution: Sendable {
    /// The solution `X`, `n × nrhs`.
    public let solution: Matrix
    /// Squared residual norm of each column of `B`; empty unless `rank == n` and `m > n`
    /// (NumPy's convention).
    public let residualSumsOfSquares: [Double]
    /// The effective rank of `A`.
    public let rank: Int
    /// Singular values of `A`, descending.
    public let singularValues: [Double]

    /// Solves `minimize ‖A·X − B‖_F` with the smallest `‖X‖_F`.
    ///
    /// - Parameters:
    ///   - a: the `m × n` design matrix.
    ///   - b: the `m × nrhs` right-hand sides.
    ///   - relativeCutoff: singular values `≤ relativeCutoff · σ_max` count as zero;
    ///     by default `ε · max(m, n)` as NumPy.
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when `b.rows != a.rows`,
    ///   ``LinalgError/empty(operation:)``, ``LinalgError/nonFinite(operation:row:column:)``,
    ///   or ``LinalgError/notConverged(operation:iterations:residual:)``.
    public init(_ a: Matrix, _ b: Matrix, relativeCutoff: Double? = nil) throws {
        try a.validateForFactorization("leastSquares", requireSquare: false)
        guard b.rows == a.rows else {
            throw LinalgError.dimensionMismatch(operation: "leastSquares", lhs: a.shape, rhs: b.shape)
        }
        try b.validateFinite("leastSquares")
        let m = a.rows, n = a.columns, nrhs = b.columns
        let cutoff = relativeCutoff ?? Double.ulpOfOne * Double(Swift.max(m, n))
        var work = a
        var rhs = Matrix(rows: Swift.max(m, n), columns: nrhs)
        for i in 0..<m {
            for j in 0..<nrhs { rhs[i, j] = b[i, j] }
        }
        var values = [Double](repeating: 0, count: Swift.min(m, n))
        var effectiveRank: Int32 = 0
        let info: Int32
        if nrhs == 0 {
            info = 0
            values = try a.singularValues()
        } else {
            info = work.withUnsafeMutableBufferPointer { pa in
                rhs.withUnsafeMutableBufferPointer { pb in
                    LAPACKE_dgelsd(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(nrhs), pa.baseAddress, Int32(n),
                                   pb.baseAddress, Int32(nrhs), &values, cutoff, &effectiveRank)
                }
            }
        }
        try checkArgumentInfo(info, routine: "dgelsd")
        if info > 0 { throw LinalgError.notConverged(operation: "leastSquares", iterations: Int(info), residual: .nan) }
        if nrhs == 0 {
            let threshold = cutoff * (values.first ?? 0)
            effectiveRank = Int32(values.filter { $0 > threshold }.count)
        }
        solution = rhs.submatrix(rows: 0..<n, columns: 0..<nrhs)
        rank = Int(effectiveRank)
        singularValues = values
        if rank == n, m > n {
            residualSumsOfSquares = (0..<nrhs).map { j in
                (n..<m).reduce(0) { $0 + rhs[$1, j] * rhs[$1, j] }
            }
        } else {
            residualSumsOfSquares = []
        }
    }
}

extension Matrix {
    /// The minimum-norm least-squares solution of `self·x ≈ b`.
    ///
    /// - Throws: as ``LeastSquaresSolution/init(_:_:relativeCutoff:)``.
    public func leastSquares(_ b: [Double]) throws -> [Double] {
        try LeastSquaresSolution(self, Matrix(rows: b.count, columns: 1, elements: b)).solution.elements
    }
}
