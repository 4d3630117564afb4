#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Autodiff

/// Distance of `value` from the exactly rounded `reference` in units of the reference's last place
/// (the smallest subnormal's spacing below the normal range); 0 when both are the same NaN or infinity.
func ulpDistance<S: BinaryFloatingPoint>(_ value: S, _ reference: S) -> Double {
    if value.isNaN || reference.isNaN { return value.isNaN && reference.isNaN ? 0 : .infinity }
    if value.isInfinite || reference.isInfinite { return value == reference ? 0 : .infinity }
    let spacing = Swift.max(reference.ulp, S.leastNonzeroMagnitude)
    return Double(Swift.abs(value - reference) / spacing)
}

/// Dense points on `[-bound, bound]` plus the edge cases: ±0, ±∞, NaN, subnormals, the extremes.
func sweep<S: BinaryFloatingPoint>(bound: S, count: Int) -> [S] {
    var points = (0...count).map { -bound + 2 * bound * S($0) / S(count) }
    points += [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
               .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.5, -0.5,
               S(0.5).nextDown, (-S(0.5)).nextUp, 1e-30, -1e-30]
    return points
}

#if arch(x86_64)
/// Checks one kernel against a Float80 reference over `points`; returns the largest ulp distance.
func maxUlpError<S: BinaryFloatingPoint>(_ points: [S], kernel: (UnsafePointer<S>, UnsafeMutablePointer<S>, Int) -> Void,
                                         reference: (Float80) -> Float80) -> (error: Double, at: S) {
    var out = [S](repeating: 0, count: points.count)
    points.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { y in kernel(x.baseAddress!, y.baseAddress!, points.count) } }
    var worst: (error: Double, at: S) = (0, 0)
    for (x, y) in zip(points, out) {
        let e = ulpDistance(y, S(reference(Float80(x))))
        if e > worst.error || e.isNaN { worst = (e, x) }
    }
    return worst
}

@Suite("Vectorized exp, tanh and sigmoid against the Float80 C library")
struct VectorMathTests {
    static let sigmoid80: @Sendable (Float80) -> Float80 = { x in x >= 0 ? 1 / (1 + expl(-x)) : expl(x) / (1 + expl(x)) }

    /// Bounds (max ulp, measured on 400 001 points of [−bound, bound] plus edge cases): exp 2, tanh 3
    /// (Float) and 4 (Double), sigmoid 3. ±0 keep their sign in tanh; NaN propagates; ±∞ give the limits.
    @Test func float() {
        let points: [Float] = sweep(bound: 105, count: 400_000)
        let exp = maxUlpError(points, kernel: { VectorMath.exp($0, $1, count: $2) }, reference: expl)
        let tanh = maxUlpError(points, kernel: { VectorMath.tanh($0, $1, count: $2) }, reference: tanhl)
        let sigmoid = maxUlpError(points, kernel: { VectorMath.sigmoid($0, $1, count: $2) }, reference: Self.sigmoid80)
        #expect(exp.error <= 2, "exp: \(exp)")
        #expect(tanh.error <= 3, "tanh: \(tanh)")
        #expect(sigmoid.error <= 3, "sigmoid: \(sigmoid)")
        // Near zero tanh is exact enough to matter for small-signal gradients: the dense ±0.5 region.
        let small = maxUlpError(sweep(bound: Float(0.5), count: 100_000), kernel: { VectorMath.tanh($0, $1, count: $2) }, reference: tanhl)
        #expect(small.error <= 2, "tanh near 0: \(small)")
    }

    @Test func double() {
        let points: [Double] = sweep(bound: 750, count: 400_000) + sweep(bound: 20, count: 400_000)
        let exp = maxUlpError(points, kernel: { VectorMath.exp($0, $1, count: $2) }, reference: expl)
        let tanh = maxUlpError(points, kernel: { VectorMath.tanh($0, $1, count: $2) }, reference: tanhl)
        let sigmoid = maxUlpError(points, kernel: { VectorMath.sigmoid($0, $1, count: $2) }, reference: Self.sigmoid80)
        #expect(exp.error <= 2, "exp: \(exp)")
        #expect(tanh.error <= 4, "tanh: \(tanh)")
        #expect(sigmoid.error <= 3, "sigmoid: \(sigmoid)")
    }

    @Test func signsOfZeroAndSpecialValues() {
        var x: [Double] = [0, -0.0, .nan, .infinity, -.infinity]
        var y = x
        x.withUnsafeMutableBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
            VectorMath.tanh(xb.baseAddress!, yb.baseAddress!, count: 5)
        } }
        #expect(y[0] == 0 && y[0].sign == .plus && y[1] == 0 && y[1].sign == .minus)
        #expect(y[2].isNaN && y[3] == 1 && y[4] == -1)
        // In place.
        x.withUnsafeMutableBufferPointer { VectorMath.sigmoid($0.baseAddress!, $0.baseAddress!, count: 5) }
        #expect(x[0] == 0.5 && x[1] == 0.5 && x[2].isNaN && x[3] == 1 && x[4] == 0)
    }
}
#endif
