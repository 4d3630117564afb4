import COpenBLAS

/// The singular value decomposition `A = U·diag(s)·Vᵀ` (`dgesdd`, falling back to `dgesvd`).
///
/// For an `m × n` matrix with `k = min(m, n)`, the thin form has `U` of `m × k` and
/// `Vᵀ` of `k × n`; the full form has square `U` (`m × m`) and `Vᵀ` (`n × n`), as
/// `numpy.linalg.svd(full_matrices=...)`. Singular values are in descending order;
/// the signs of singular-vector pairs are arbitrary.
public struct SingularValueDecomposition: Sendable {
    /// Left singular vectors as columns.
    public let u: Matrix
    /// Singular values, descending, all `≥ 0`.
    public let singularValues: [Double]
    /// Right singular vectors as rows.
    public let vt: Matrix

    /// Decomposes `matrix`.
    ///
    /// - Parameters:
    ///   - matrix: the `m × n` matrix to decompose.
    ///   - full: compute square `U` and `Vᵀ` instead of the thin factors.
    /// - Throws: ``LinalgError/empty(operation:)``, ``LinalgError/nonFinite(operation:row:column:)``,
    ///   or ``LinalgError/notConverged(operation:iterations:residual:)`` if both LAPACK drivers fail.
    public init(_ matrix: Matrix, full: Bool = false) throws {
        try matrix.validateForFactorization("SVD", requireSquare: false)
        let m = matrix.rows, n = matrix.columns, k = Swift.min(m, n)
        // The row-major buffer is Aᵀ in column-major order. Decomposing Aᵀ = U'·S·V'ᵀ gives
        // A = V'·S·U'ᵀ, and each column-major factor read row-major is the factor of A we want.
        let uColumns = full ? m : k
        let vtRows = full ? n : k
        var leftOfTranspose = [Double](repeating: 0, count: n * vtRows)   // U', column-major n × vtRows
        var rightOfTranspose = [Double](repeating: 0, count: uColumns * m) // V'ᵀ, column-major uColumns × m
        var values = [Double](repeating: 0, count: k)
        func decompose(divideAndConquer: Bool) -> Int32 {
            var work = matrix
            return work.withUnsafeMutableBufferPointer { a in
                if divideAndConquer {
                    return LAPACKE_dgesdd(LAPACK_COL_MAJOR, full ? LAPACKFlag.all : LAPACKFlag.thin,
                                          Int32(n), Int32(m), a.baseAddress, Int32(n), &values,
                                          &leftOfTranspose, Int32(n), &rightOfTranspose, Int32(uColumns))
                }
                var superb = [Double](repeating: 0, count: Swift.max(1, k - 1))
                let job = full ? LAPACKFlag.all : LAPACKFlag.thin
                return LAPACKE_dgesvd(LAPACK_COL_MAJOR, job, job, Int32(n), Int32(m), a.baseAddress, Int32(n),
                                      &values, &leftOfTranspose, Int32(n), &rightOfTranspose, Int32(uColumns), &superb)
            }
        }
        var info = decompose(divideAndConquer: true)
        try checkArgumentInfo(info, routine: "dgesdd")
        if info > 0 {
            info = decompose(divideAndConquer: false)
            try checkArgumentInfo(info, routine: "dgesvd")
            if info > 0 {
                throw LinalgError.notConverged(operation: "SVD", iterations: Int(info), residual: .nan)
            }
        }
        u = try Matrix(rows: m, columns: uColumns, elements: rightOfTranspose)
        vt = try Matrix(rows: vtRows, columns: n, elements: leftOfTranspose)
        singularValues = values
    }
}

extension Matrix {
    /// The singular values, descending, without singular vectors (`dgesdd` with `jobz = 'N'`).
    ///
    /// - Throws: ``LinalgError/empty(operation:)``, ``LinalgError/nonFinite(operation:row:column:)``
    ///   or ``LinalgError/notConverged(operation:iterations:residual:)``.
    public func singularValues() throws -> [Double] {
        try validateForFactorization("singularValues", requireSquare: false)
        var work = self
        var values = [Double](repeating: 0, count: Swift.min(rows, columns))
        var unusedU = [Double](repeating: 0, count: 1), unusedVt = [Double](repeating: 0, count: 1)
        let info = work.withUnsafeMutableBufferPointer { a in
            LAPACKE_dgesdd(LAPACK_COL_MAJOR, LAPACKFlag.none, Int32(columns), Int32(rows), a.baseAddress,
                           Int32(columns), &values, &unusedU, 1, &unusedVt, 1)
        }
        try checkArgumentInfo(info, routine: "dgesdd")
        if info > 0 { throw LinalgError.notConverged(operation: "singularValues", iterations: Int(info), residual: .nan) }
        return values
    }

    /// The 2-norm condition number `σ_max / σ_min`, as `numpy.linalg.cond(A)`.
    ///
    /// Returns `+∞` for a rank-deficient matrix (that is the exact answer, not a failure).
    ///
    /// - Throws: the errors of ``singularValues()``.
    public func conditionNumber() throws -> Double {
        let values = try singularValues()
        guard let smallest = values.last, let largest = values.first else { return .infinity }
        return smallest == 0 ? .infinity : largest / smallest
    }

    /// The 2-norm (largest singular value).
    ///
    /// - Throws: the errors of ``singularValues()``.
    public func spectralNorm() throws -> Double { try singularValues().first ?? 0 }

    /// The numerical rank: singular values above `tolerance`, by default
    /// `σ_max · max(m, n) · ε` as `numpy.linalg.matrix_rank`.
    ///
    /// - Throws: the errors of ``singularValues()``.
    public func rank(tolerance: Double? = nil) throws -> Int {
        let values = try singularValues()
        let cutoff = tolerance ?? (values.first ?? 0) * Double(Swift.max(rows, columns)) * Double.ulpOfOne
        return values.filter { $0 > cutoff }.count
    }

    /// The Moore–Penrose pseudo-inverse by SVD, as `numpy.linalg.pinv`.
    ///
    /// Singular values `≤ relativeCutoff · σ_max` are treated as zero
    /// (NumPy's default `rcond = 1e-15`).
    ///
    /// - Throws: the errors of ``SingularValueDecomposition/init(_:full:)``.
    public func pseudoInverse(relativeCutoff: Double = 1e-15) throws -> Matrix {
        let svd = try SingularValueDecomposition(self)
        let cutoff = relativeCutoff * (svd.singularValues.first ?? 0)
        // A⁺ = V·diag(1/s)·Uᵀ: scale the rows of Vᵀ, then multiply by Uᵀ.
        var scaledVt = svd.vt
        let k = svd.singularValues.count
        scaledVt.withUnsafeMutableBufferPointer { p in
            for i in 0..<k {
                let s = svd.singularValues[i]
                let factor = s > cutoff ? 1 / s : 0
                for j in 0..<columns { p[i * columns + j] *= factor }
            }
        }
        var result = Matrix(rows: columns, columns: rows)
        try BLAS.gemm(scaledVt, svd.u, transposeA: true, transposeB: true, into: &result)
        return result
    }
}
