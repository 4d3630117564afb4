import COpenBLAS
import RealModule

/// Thin, checked wrappers around the CBLAS routines of OpenBLAS.
///
/// Every wrapper validates shapes and throws ``LinalgError`` rather than letting
/// BLAS read out of bounds. Level-3 routines write into caller-owned storage so
/// hot loops can reuse one output buffer without allocating. BLAS propagates NaN
/// and infinity as IEEE arithmetic does; these wrappers do not scan for them.
///
/// OpenBLAS uses 32-bit integers on Debian, so a dimension above `Int32.max`
/// throws ``LinalgError/invalidArgument(operation:message:)``.
public enum BLAS {
    /// General matrix product `C ← alpha·op(A)·op(B) + beta·C` (`dgemm`).
    ///
    /// `op(X)` is `Xᵀ` when the matching `transpose` flag is set. `c` must already
    /// have the shape of the product; with `beta == 0` its old contents are ignored
    /// (NaN included, as BLAS specifies). Cost `2·m·n·k` flops.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when the inner
    ///   dimensions differ or `c` has the wrong shape.
    public static func gemm(_ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Double = 1, beta: Double = 0, into c: inout Matrix) throws {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        guard k == kb else {
            throw LinalgError.dimensionMismatch(operation: "gemm", lhs: Shape(m, k), rhs: Shape(kb, n))
        }
        guard c.rows == m, c.columns == n else {
            throw LinalgError.dimensionMismatch(operation: "gemm (output)", lhs: Shape(m, n), rhs: c.shape)
        }
        let (m32, n32, k32) = (try blasInt("gemm", m), try blasInt("gemm", n), try blasInt("gemm", k))
        let (lda, ldb) = (try blasInt("gemm", a.columns), try blasInt("gemm", b.columns))
        guard m > 0, n > 0 else { return }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    if k == 0 {
                        // BLAS leaves C untouched when k == 0 only if beta == 1; scale explicitly.
                        for index in pc.indices { pc[index] = beta == 0 ? 0 : beta * pc[index] }
                        return
                    }
                    cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                m32, n32, k32, alpha,
                                pa.baseAddress, lda, pb.baseAddress, ldb,
                                beta, pc.baseAddress, n32)
                }
            }
        }
    }

    /// Matrix–vector product `y ← alpha·op(A)·x + beta·y` (`dgemv`).
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when `x` or `y`
    ///   has the wrong length.
    public static func gemv(_ a: Matrix, _ x: [Double], transpose: Bool = false,
                            alpha: Double = 1, beta: Double = 0, into y: inout [Double]) throws {
        let outLength = transpose ? a.columns : a.rows
        let inLength = transpose ? a.rows : a.columns
        guard x.count == inLength else {
            throw LinalgError.dimensionMismatch(operation: "gemv", lhs: transpose ? Shape(a.columns, a.rows) : a.shape,
                                                rhs: Shape(x.count, 1))
        }
        guard y.count == outLength else {
            throw LinalgError.dimensionMismatch(operation: "gemv (output)", lhs: Shape(outLength, 1), rhs: Shape(y.count, 1))
        }
        let (rows32, columns32) = (try blasInt("gemv", a.rows), try blasInt("gemv", a.columns))
        guard outLength > 0 else { return }
        if inLength == 0 {
            for index in y.indices { y[index] = beta == 0 ? 0 : beta * y[index] }
            return
        }
        a.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    cblas_dgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, rows32, columns32, alpha,
                                pa.baseAddress, columns32, px.baseAddress, 1, beta, py.baseAddress, 1)
                }
            }
        }
    }

    /// Symmetric rank-k update `C ← alpha·A·Aᵀ + beta·C`, or `alpha·Aᵀ·A + beta·C`
    /// when `transpose` is set (`dsyrk`). About half the flops of the equivalent gemm.
    ///
    /// BLAS writes one triangle; with `fillBothTriangles` (the default) the other is
    /// mirrored so `c` is a full symmetric matrix.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when `c` is not `n × n`.
    public static func syrk(_ a: Matrix, transpose: Bool = false, alpha: Double = 1, beta: Double = 0,
                            into c: inout Matrix, fillBothTriangles: Bool = true) throws {
        let n = transpose ? a.columns : a.rows
        let k = transpose ? a.rows : a.columns
        guard c.rows == n, c.columns == n else {
            throw LinalgError.dimensionMismatch(operation: "syrk (output)", lhs: Shape(n, n), rhs: c.shape)
        }
        let (n32, k32, lda) = (try blasInt("syrk", n), try blasInt("syrk", k), try blasInt("syrk", a.columns))
        guard n > 0 else { return }
        a.withUnsafeBufferPointer { pa in
            c.withUnsafeMutableBufferPointer { pc in
                if k == 0 {
                    for index in pc.indices { pc[index] = beta == 0 ? 0 : beta * pc[index] }
                    return
                }
                cblas_dsyrk(CblasRowMajor, CblasUpper, transpose ? CblasTrans : CblasNoTrans,
                            n32, k32, alpha, pa.baseAddress, lda, beta, pc.baseAddress, n32)
                if fillBothTriangles {
                    for i in 1..<n {
                        for j in 0..<i { pc[i * n + j] = pc[j * n + i] }
                    }
                }
            }
        }
    }

    /// Dot product `xᵀy` (`ddot`).
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when the lengths differ.
    public static func dot(_ x: [Double], _ y: [Double]) throws -> Double {
        guard x.count == y.count else {
            throw LinalgError.dimensionMismatch(operation: "dot", lhs: Shape(x.count, 1), rhs: Shape(y.count, 1))
        }
        let n = try blasInt("dot", x.count)
        return x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in cblas_ddot(n, px.baseAddress, 1, py.baseAddress, 1) }
        }
    }

    /// `y ← alpha·x + y` (`daxpy`).
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when the lengths differ.
    public static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) throws {
        guard x.count == y.count else {
            throw LinalgError.dimensionMismatch(operation: "axpy", lhs: Shape(x.count, 1), rhs: Shape(y.count, 1))
        }
        let n = try blasInt("axpy", x.count)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in cblas_daxpy(n, alpha, px.baseAddress, 1, py.baseAddress, 1) }
        }
    }

    /// `x ← alpha·x` (`dscal`).
    public static func scal(_ alpha: Double, _ x: inout [Double]) {
        x.withUnsafeMutableBufferPointer { px in
            // BLAS counts are 32-bit: longer arrays are scaled in chunks.
            for start in stride(from: 0, to: px.count, by: Int(Int32.max)) {
                let length = Swift.min(Int(Int32.max), px.count - start)
                cblas_dscal(Int32(length), alpha, px.baseAddress! + start, 1)
            }
        }
    }

    /// Euclidean norm `‖x‖₂`, computed without intermediate overflow (`dnrm2`).
    public static func nrm2(_ x: [Double]) -> Double {
        x.withUnsafeBufferPointer { px in
            // BLAS counts are 32-bit: longer arrays are normed in chunks combined without overflow.
            var norm = 0.0
            for start in stride(from: 0, to: px.count, by: Int(Int32.max)) {
                let length = Swift.min(Int(Int32.max), px.count - start)
                let chunk = cblas_dnrm2(Int32(length), px.baseAddress! + start, 1)
                norm = start == 0 ? chunk : Double.hypot(norm, chunk)
            }
            return norm
        }
    }

    /// Converts a dimension to BLAS's 32-bit integer, throwing when it does not fit.
    @inline(__always)
    static func blasInt(_ operation: String, _ value: Int) throws -> Int32 {
        guard let converted = Int32(exactly: value) else {
            throw LinalgError.invalidArgument(operation: operation,
                                              message: "dimension \(value) exceeds the 32-bit BLAS integer range")
        }
        return converted
    }
}
