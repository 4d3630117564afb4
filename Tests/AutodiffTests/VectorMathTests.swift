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

/// A vector kernel on one path: `(input, output, count)`.
typealias VectorKernel<S> = (UnsafePointer<S>, UnsafeMutablePointer<S>, Int) -> Void

/// The three functions of ``VectorMath`` on `path`, by name.
func vectorKernels<S: TensorScalar>(_ path: VectorKernelPath, as _: S.Type) -> [(name: String, kernel: VectorKernel<S>)] {
    [("exp", { VectorMath.exp($0, $1, count: $2, path: path) }),
     ("tanh", { VectorMath.tanh($0, $1, count: $2, path: path) }),
     ("sigmoid", { VectorMath.sigmoid($0, $1, count: $2, path: path) })]
}

#if arch(x86_64)
/// Checks one kernel against a Float80 reference over `points`; returns the largest ulp distance.
func maxUlpError<S: BinaryFloatingPoint>(_ points: [S], kernel: VectorKernel<S>,
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

/// Largest ulp errors allowed, per path: the maxima measured on the sweeps below (AVX2+FMA rounds
/// once per fused multiply-add where the portable loops round twice, hence its tighter bounds).
struct UlpBounds {
    var exp: Double, tanhFloat: Double, tanhDouble: Double, sigmoid: Double, tanhNearZeroFloat: Double

    init(_ path: VectorKernelPath) {
        switch path {
        case .avx2FMA: self = UlpBounds(exp: 1, tanhFloat: 1, tanhDouble: 2, sigmoid: 2, tanhNearZeroFloat: 1)
        case .portable: self = UlpBounds(exp: 2, tanhFloat: 3, tanhDouble: 4, sigmoid: 3, tanhNearZeroFloat: 2)
        }
    }

    init(exp: Double, tanhFloat: Double, tanhDouble: Double, sigmoid: Double, tanhNearZeroFloat: Double) {
        (self.exp, self.tanhFloat, self.tanhDouble, self.sigmoid, self.tanhNearZeroFloat) =
            (exp, tanhFloat, tanhDouble, sigmoid, tanhNearZeroFloat)
    }
}

@Suite("Vectorized exp, tanh and sigmoid against the Float80 C library, on every kernel path")
struct VectorMathTests {
    static let sigmoid80: @Sendable (Float80) -> Float80 = { x in x >= 0 ? 1 / (1 + expl(-x)) : expl(x) / (1 + expl(x)) }

    /// Max ulp over 400 001 points of [−105, 105] plus edge cases (bounds in ``UlpBounds``). ±0 keep
    /// their sign in tanh; NaN propagates; ±∞ give the limits.
    @Test(arguments: VectorKernelPath.available)
    func float(path: VectorKernelPath) {
        let bounds = UlpBounds(path)
        let points: [Float] = sweep(bound: 105, count: 400_000)
        let exp = maxUlpError(points, kernel: { VectorMath.exp($0, $1, count: $2, path: path) }, reference: expl)
        let tanh = maxUlpError(points, kernel: { VectorMath.tanh($0, $1, count: $2, path: path) }, reference: tanhl)
        let sigmoid = maxUlpError(points, kernel: { VectorMath.sigmoid($0, $1, count: $2, path: path) }, reference: Self.sigmoid80)
        #expect(exp.error <= bounds.exp, "exp: \(exp)")
        #expect(tanh.error <= bounds.tanhFloat, "tanh: \(tanh)")
        #expect(sigmoid.error <= bounds.sigmoid, "sigmoid: \(sigmoid)")
        // Near zero tanh is exact enough to matter for small-signal gradients: the dense ±0.5 region.
        let small = maxUlpError(sweep(bound: Float(0.5), count: 100_000),
                                kernel: { VectorMath.tanh($0, $1, count: $2, path: path) }, reference: tanhl)
        #expect(small.error <= bounds.tanhNearZeroFloat, "tanh near 0: \(small)")
    }

    /// Max ulp over 400 001 points of [−750, 750] and 400 001 of [−20, 20] plus edge cases.
    @Test(arguments: VectorKernelPath.available)
    func double(path: VectorKernelPath) {
        let bounds = UlpBounds(path)
        let points: [Double] = sweep(bound: 750, count: 400_000) + sweep(bound: 20, count: 400_000)
        let exp = maxUlpError(points, kernel: { VectorMath.exp($0, $1, count: $2, path: path) }, reference: expl)
        let tanh = maxUlpError(points, kernel: { VectorMath.tanh($0, $1, count: $2, path: path) }, reference: tanhl)
        let sigmoid = maxUlpError(points, kernel: { VectorMath.sigmoid($0, $1, count: $2, path: path) }, reference: Self.sigmoid80)
        #expect(exp.error <= bounds.exp, "exp: \(exp)")
        #expect(tanh.error <= bounds.tanhDouble, "tanh: \(tanh)")
        #expect(sigmoid.error <= bounds.sigmoid, "sigmoid: \(sigmoid)")
    }

    /// The CPU check agrees with the kernel's own flags (`/proc/cpuinfo`), so this machine really
    /// tests both paths when it has AVX2 and FMA.
    @Test func availablePathsMatchTheCPUFlags() throws {
        let cpuinfo = try #require(try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))
        let flagsLine = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }).map(String.init))
        let expected: [VectorKernelPath] = flags.contains("avx2") && flags.contains("fma") ? [.avx2FMA, .portable] : [.portable]
        #expect(VectorKernelPath.available == expected)
        let forcedPortable = getenv("METAFOLIO_PORTABLE_VECTOR_KERNELS").map { String(cString: $0) == "1" } ?? false
        #expect(VectorKernelPath.selected == (forcedPortable ? .portable : expected[0]))
    }

    /// The paths really are different code (the fused multiply-adds round differently somewhere on
    /// a dense sweep) that agrees within 2 ulp everywhere: the path argument reaches the C kernels.
    @Test func pathsDifferInRoundingOnly() {
        guard VectorKernelPath.available.count == 2 else { return }
        let points: [Double] = sweep(bound: 30, count: 20_000)
        for (name, kernel) in vectorKernels(.avx2FMA, as: Double.self) {
            let portable = vectorKernels(.portable, as: Double.self).first { $0.name == name }!.kernel
            var fast = points, slow = points
            points.withUnsafeBufferPointer { x in
                fast.withUnsafeMutableBufferPointer { kernel(x.baseAddress!, $0.baseAddress!, points.count) }
                slow.withUnsafeMutableBufferPointer { portable(x.baseAddress!, $0.baseAddress!, points.count) }
            }
            #expect(!sameBits(fast, slow), "\(name): AVX2+FMA and portable results are identical")
            let worst = zip(fast, slow).map { ulpDistance($0, $1) }.max() ?? 0
            #expect(worst <= 2, "\(name): paths differ by \(worst) ulp")
        }
    }
}
#endif

@Suite("Vector kernels: special values, tails, misaligned starts and in-place use, on every path")
struct VectorKernelBufferTests {
    @Test(arguments: VectorKernelPath.available)
    func signsOfZeroAndSpecialValues(path: VectorKernelPath) {
        var x: [Double] = [0, -0.0, .nan, .infinity, -.infinity]
        var y = x
        x.withUnsafeMutableBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
            VectorMath.tanh(xb.baseAddress!, yb.baseAddress!, count: 5, path: path)
        } }
        #expect(y[0] == 0 && y[0].sign == .plus && y[1] == 0 && y[1].sign == .minus)
        #expect(y[2].isNaN && y[3] == 1 && y[4] == -1)
        // In place.
        x.withUnsafeMutableBufferPointer { VectorMath.sigmoid($0.baseAddress!, $0.baseAddress!, count: 5, path: path) }
        #expect(x[0] == 0.5 && x[1] == 0.5 && x[2].isNaN && x[3] == 1 && x[4] == 0)
        var f: [Float] = [0, -0.0, .nan, .infinity, -.infinity, -104, 89]
        f.withUnsafeMutableBufferPointer { VectorMath.exp($0.baseAddress!, $0.baseAddress!, count: 7, path: path) }
        #expect(f[0] == 1 && f[1] == 1 && f[2].isNaN && f[3] == .infinity && f[4] == 0 && f[5] == 0 && f[6] == .infinity)
    }

    /// Lengths 0…17 at starts 0…3 elements past an aligned buffer, out of place and in place: every
    /// element equals (bitwise) the same function computed in one long call, and nothing outside
    /// the range is written. Covers the vector loop, the masked or scalar tails and unaligned starts.
    @Test(arguments: VectorKernelPath.available)
    func tailsAndMisalignedStarts(path: VectorKernelPath) {
        checkTails(Float.self, path)
        checkTails(Double.self, path)
    }

    func checkTails<S: TensorScalar>(_: S.Type, _ path: VectorKernelPath) {
        // Both tanh branches, values that underflow and overflow exp, and the special values.
        var values: [S] = (0..<24).map { S(Double($0 * 37 % 24) * 0.55 - 6.3) }
        values += [0, -0.0, .nan, .infinity, -.infinity, 200, -200, 0.25, -0.25]
        let sentinel: S = 12_345
        for (name, kernel) in vectorKernels(path, as: S.self) {
            var expected = values
            values.withUnsafeBufferPointer { x in expected.withUnsafeMutableBufferPointer { y in
                kernel(x.baseAddress!, y.baseAddress!, values.count)
            } }
            for start in 0...3 {
                for count in 0...17 {
                    let source = Array(values[start..<(start + count)])
                    let expectedSlice = Array(expected[start..<(start + count)])
                    var input = [S](repeating: sentinel, count: start + count + 3)
                    input.replaceSubrange(start..<(start + count), with: source)
                    var output = [S](repeating: sentinel, count: input.count)
                    input.withUnsafeBufferPointer { x in output.withUnsafeMutableBufferPointer { y in
                        kernel(x.baseAddress! + start, y.baseAddress! + start, count)
                    } }
                    let context = "\(name) \(S.self) \(path) start \(start) count \(count)"
                    #expect(sameBits(Array(output[start..<(start + count)]), expectedSlice), "\(context)")
                    #expect(output[..<start].allSatisfy { $0 == sentinel } && output[(start + count)...].allSatisfy { $0 == sentinel },
                            "\(context): wrote outside the range")
                    input.withUnsafeMutableBufferPointer { kernel(UnsafePointer($0.baseAddress! + start), $0.baseAddress! + start, count) }
                    #expect(sameBits(Array(input[start..<(start + count)]), expectedSlice), "\(context) in place")
                    #expect(input[..<start].allSatisfy { $0 == sentinel } && input[(start + count)...].allSatisfy { $0 == sentinel },
                            "\(context) in place: wrote outside the range")
                }
            }
        }
    }
}

/// Equal element by element, NaN equal to NaN (payloads aside), the sign of zero included.
func sameBits<S: BinaryFloatingPoint>(_ a: [S], _ b: [S]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in (x.isNaN && y.isNaN) || (x == y && x.sign == y.sign) }
}
