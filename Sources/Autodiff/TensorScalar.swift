import COpenBLAS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The element type of a ``Tensor``: `Float` or `Double`.
///
/// The protocol exists so that `Tensor` is written once and its kernels are
/// concrete per type. Every requirement is a *scalar* function whose
/// implementation for `Float` and `Double` calls the C math library (or BLAS)
/// directly. The element loops that call these functions live in internal
/// generic functions that are pre-specialized (`@_specialize`) for `Float` and
/// `Double`, so inside a loop each call resolves statically to `exp`/`expf` and
/// so on: there is no per-element dynamic dispatch, and the arithmetic loops
/// (`+ − × ÷`, comparisons, reductions) are auto-vectorized.
///
/// Only `Float` and `Double` conform; other conformances are not supported.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
    /// `eˣ`.
    static func _exp(_ x: Self) -> Self
    /// Natural logarithm.
    static func _log(_ x: Self) -> Self
    /// `log(1 + x)`, accurate for small `x`.
    static func _log1p(_ x: Self) -> Self
    /// Hyperbolic tangent.
    static func _tanh(_ x: Self) -> Self
    /// The error function `erf(x) = 2/√π ∫₀ˣ e^{−t²} dt`.
    static func _erf(_ x: Self) -> Self
    /// `xʸ` as C `pow` defines it.
    static func _pow(_ x: Self, _ y: Self) -> Self
    /// Row-major general matrix product `C ← α·op(A)·op(B) + β·C` (BLAS `sgemm`/`dgemm`).
    ///
    /// `op(X)` is `Xᵀ` when the matching flag is set; `m × n` is the shape of `C`
    /// and `k` the inner dimension. Leading dimensions are row strides.
    static func _gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                      alpha: Self, a: UnsafePointer<Self>, lda: Int,
                      b: UnsafePointer<Self>, ldb: Int,
                      beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: TensorScalar {
    /// `expf`.
    @inlinable @inline(__always) public static func _exp(_ x: Float) -> Float { expf(x) }
    /// `logf`.
    @inlinable @inline(__always) public static func _log(_ x: Float) -> Float { logf(x) }
    /// `log1pf`.
    @inlinable @inline(__always) public static func _log1p(_ x: Float) -> Float { log1pf(x) }
    /// `tanhf`.
    @inlinable @inline(__always) public static func _tanh(_ x: Float) -> Float { tanhf(x) }
    /// `erff`.
    @inlinable @inline(__always) public static func _erf(_ x: Float) -> Float { erff(x) }
    /// `powf`.
    @inlinable @inline(__always) public static func _pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    /// `cblas_sgemm` in row-major order.
    public static func _gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }
}

extension Double: TensorScalar {
    /// `exp`.
    @inlinable @inline(__always) public static func _exp(_ x: Double) -> Double { libm_exp(x) }
    /// `log`.
    @inlinable @inline(__always) public static func _log(_ x: Double) -> Double { libm_log(x) }
    /// `log1p`.
    @inlinable @inline(__always) public static func _log1p(_ x: Double) -> Double { libm_log1p(x) }
    /// `tanh`.
    @inlinable @inline(__always) public static func _tanh(_ x: Double) -> Double { libm_tanh(x) }
    /// `erf`.
    @inlinable @inline(__always) public static func _erf(_ x: Double) -> Double { libm_erf(x) }
    /// `pow`.
    @inlinable @inline(__always) public static func _pow(_ x: Double, _ y: Double) -> Double { libm_pow(x, y) }
    /// `cblas_dgemm` in row-major order.
    public static func _gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                             alpha: Double, a: UnsafePointer<Double>, lda: Int,
                             b: UnsafePointer<Double>, ldb: Int,
                             beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }
}

/// Converts a dimension to OpenBLAS's 32-bit integer, trapping with a message when it does not fit.
@usableFromInline
func blasInt(_ value: Int) -> Int32 {
    guard let v = Int32(exactly: value) else {
        fatalError("matmul: dimension \(value) exceeds the 32-bit BLAS integer range")
    }
    return v
}

// File-scope wrappers: inside `extension Double`, `exp(x)` would resolve to a
// static method that another module (RealModule) adds to Double.
@usableFromInline @inline(__always) func libm_exp(_ x: Double) -> Double { exp(x) }
@usableFromInline @inline(__always) func libm_log(_ x: Double) -> Double { log(x) }
@usableFromInline @inline(__always) func libm_log1p(_ x: Double) -> Double { log1p(x) }
@usableFromInline @inline(__always) func libm_tanh(_ x: Double) -> Double { tanh(x) }
@usableFromInline @inline(__always) func libm_erf(_ x: Double) -> Double { erf(x) }
@usableFromInline @inline(__always) func libm_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
