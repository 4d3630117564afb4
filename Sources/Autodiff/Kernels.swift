#if arch(x86_64)
import CVectorMath
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Element loops behind the tensor operations.
//
// Every loop here is an internal generic function pre-specialized for Float
// and Double (`@_specialize`): a call from generic code checks the scalar type
// once and jumps to the specialized body, in which `S._exp` and friends are
// direct calls to libm and arithmetic is inlined and auto-vectorized. Loops
// run over unsafe buffers of preallocated, uninitialized storage; nothing is
// allocated inside a loop.

// MARK: - Storage allocation

/// Storage of `count` scalars initialized by `body`, which must set its second argument to
/// `count` (the contract of `Array(unsafeUninitializedCapacity:initializingWith:)`).
@inline(__always)
func uninitializedStorage<S: TensorScalar>(_ count: Int,
                                           _ body: (inout UnsafeMutableBufferPointer<S>, inout Int) -> Void) -> TensorStorage<S> {
    TensorStorage(unsafeUninitializedCapacity: count, initializingWith: body)
}

/// `count` copies of `value`, as `Array(repeating:count:)` but through the inlinable
/// `append(contentsOf:)` path: `Array(repeating:count:)` allocates through a stdlib entry point
/// that is neither inlinable nor specialized and looks up the array's storage class at run time.
@inline(__always)
func filledArray<Element>(repeating value: Element, count: Int) -> [Element] {
    var result: [Element] = []
    result.append(contentsOf: repeatElement(value, count: count))
    return result
}

/// Elementwise functions of one tensor. Parameters (`p`, `q`) are passed beside the op.
@usableFromInline
enum UnaryOp: Sendable {
    case neg, abs, sign, exp, log, log1p, sqrt, tanh, sigmoid, relu, erf, gelu, softplus
    /// `x > 0 ? x : p·x`.
    case leakyRelu
    /// `min(max(x, p), q)`.
    case clamp
    /// `x > p ? 1 : 0` (and `x >= p` when q != 0).
    case stepAbove
    /// `x·p + q`.
    case affine
    /// `(p <= x && x <= q) ? 1 : 0`.
    case inside
}

/// Elementwise functions of two broadcast tensors.
@usableFromInline
enum BinaryOp: Sendable {
    case add, sub, mul, div, pow, maximum, minimum
    case less, lessEqual, greater, greaterEqual, equal, notEqual
    /// `a == b ? 0.5 : (a > b ? 1 : 0)`: the share of a tie-split max gradient going to `a`.
    case maxShare
    /// `a·(1 − b·b)`: the pullback of tanh for gradient `a` and output `b`, fused.
    case tanhGradient
    /// `(a·b)·(1 − b)`: the pullback of sigmoid for gradient `a` and output `b`, fused.
    case sigmoidGradient
}

@inline(__always)
func sigmoidScalar<S: TensorScalar>(_ x: S) -> S {
    // Stable for large |x|: never exponentiates a positive number.
    if x >= 0 { return 1 / (1 + S._exp(-x)) }
    let e = S._exp(x)
    return e / (1 + e)
}

@_specialize(where S == Float)
@_specialize(where S == Double)
func unaryKernel<S: TensorScalar>(_ op: UnaryOp, _ x: TensorStorage<S>, _ p: S = 0, _ q: S = 0) -> TensorStorage<S> {
    let n = x.count
    return uninitializedStorage(n) { out, initialized in
        x.withUnsafeBufferPointer { xb in
            guard n > 0, let xs = xb.baseAddress, let ys = out.baseAddress else { return }
            @inline(__always) func map(_ f: (S) -> S) { for i in 0..<n { ys[i] = f(xs[i]) } }
            switch op {
            case .neg: map { -$0 }
            case .abs: map { Swift.abs($0) }
            case .sign: map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
            case .exp: VectorMath.exp(xs, ys, count: n)
            case .log: map { S._log($0) }
            case .log1p: map { S._log1p($0) }
            case .sqrt: map { $0.squareRoot() }
            case .tanh: VectorMath.tanh(xs, ys, count: n)
            case .sigmoid: VectorMath.sigmoid(xs, ys, count: n)
            case .relu: map { $0 > 0 ? $0 : 0 }
            case .erf: map { S._erf($0) }
            case .gelu:
                let r: S = 1 / S(2).squareRoot()
                map { 0.5 * $0 * (1 + S._erf($0 * r)) }
            case .softplus: map { Swift.max($0, 0) + S._log1p(S._exp(-Swift.abs($0))) }
            case .leakyRelu: map { $0 > 0 ? $0 : p * $0 }
            case .clamp: map { Swift.min(Swift.max($0, p), q) }
            case .stepAbove: if q != 0 { map { $0 >= p ? 1 : 0 } } else { map { $0 > p ? 1 : 0 } }
            case .affine: map { $0 * p + q }
            case .inside: map { (p <= $0 && $0 <= q) ? 1 : 0 }
            }
        }
        initialized = n
    }
}

// MARK: - Vectorizable exp and tanh

/// The implementation behind ``VectorMath`` and the tensor `exp`, `tanh` and `sigmoid`.
enum VectorKernelPath: Sendable, Hashable, CustomStringConvertible {
    /// The C kernels of `CVectorMath`, 8 Floats or 4 Doubles per AVX2 register, with fused
    /// multiply-adds. Only on x86-64 CPUs that have AVX2 and FMA.
    case avx2FMA
    /// The Swift loops below, written for the x86-64 baseline (SSE2) and any other architecture.
    case portable

    /// The path used by default: ``avx2FMA`` when the CPU supports it, unless the environment
    /// variable `METAFOLIO_PORTABLE_VECTOR_KERNELS` is `1` at the first use (a diagnostic switch,
    /// e.g. to time or test the portable loops on an AVX2 machine). Decided once per process
    /// (a global `let` is initialized once, thread-safely).
    static let selected: VectorKernelPath = {
        if let flag = getenv("METAFOLIO_PORTABLE_VECTOR_KERNELS"), String(cString: flag) == "1" { return .portable }
        return available.first!
    }()

    /// The paths this machine can run, fastest first (tests run every one of them).
    static let available: [VectorKernelPath] = {
        #if arch(x86_64)
        if cvm_avx2_fma_supported() != 0 { return [.avx2FMA, .portable] }
        #endif
        return [.portable]
    }()

    var description: String { self == .avx2FMA ? "AVX2+FMA" : "portable" }
}

// libm's expf/exp/tanhf are scalar calls, so a loop over them runs one element at a time. The
// portable loops use only arithmetic, comparisons, selects and bit operations, which the compiler
// vectorizes. exp: x = n·ln2 + r with n = round(x·log2 e) (by the 1.5·2^p "magic number" trick,
// which also yields n's bits) and |r| ≤ ln2/2 (ln2 split into an exactly multipliable high part
// and a low part); eʳ by its Taylor polynomial (degree 7 for Float, 13 for Double: truncation
// error below 0.1 ulp); 2ⁿ applied as two factors 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that results near the
// overflow and in the subnormal range are formed correctly. Inputs are clamped to a range whose
// ends overflow to +∞ and underflow to 0, so ±∞ come out right; NaN propagates through the
// arithmetic. Error: about 1–2 ulp (libm: < 1 ulp).

/// `y[i] = eˣ⁽ⁱ⁾` for `n` Floats.
func vectorExp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ path: VectorKernelPath) {
    #if arch(x86_64)
    if path == .avx2FMA { return cvm_exp_f32_avx2(x, y, n) }
    #endif
    for i in 0..<n { y[i] = expFloat(x[i]) }
}

@inline(__always)
func expFloat(_ v: Float) -> Float {
    let magic: Float = 12_582_912 // 1.5·2²³
    let xc = v < -104 ? -104 : (v > 89 ? 89 : v)
    let t = xc * 1.442_695_04 + magic
    let nf = t - magic
    let k = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: magic.bitPattern)
    let r = (xc - nf * 0.693_359_375) - nf * -2.121_944_4e-4
    var p: Float = 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let k1 = k >> 1, k2 = k &- (k >> 1)
    let s1 = Float(bitPattern: UInt32(bitPattern: (k1 &+ 127) &<< 23))
    let s2 = Float(bitPattern: UInt32(bitPattern: (k2 &+ 127) &<< 23))
    return p * s1 * s2
}

/// `y[i] = eˣ⁽ⁱ⁾` for `n` Doubles, two at a time on the portable path (see ``expDouble2(_:)``).
func vectorExp(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ path: VectorKernelPath) {
    #if arch(x86_64)
    if path == .avx2FMA { return cvm_exp_f64_avx2(x, y, n) }
    #endif
    mapPairs(x, y, n, expDouble2)
}

/// `f` applied to `x` two elements at a time as `SIMD2<Double>` (the last, odd element in a pair of
/// copies). The Double kernels are written on `SIMD2` because the compiler leaves their scalar
/// loops unvectorized (64-bit integer lane operations are not all in SSE2).
@inline(__always)
func mapPairs(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int,
              _ f: (SIMD2<Double>) -> SIMD2<Double>) {
    var i = 0
    while i &+ 2 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD2<Double>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: SIMD2<Double>.self)
        i &+= 2
    }
    if i < n { y[i] = f(SIMD2(repeating: x[i]))[0] }
}

/// `eᵛ` for two Doubles, as the Float kernel with a degree-13 Taylor polynomial.
@inline(__always)
func expDouble2(_ v: SIMD2<Double>) -> SIMD2<Double> {
    let magic = SIMD2<Double>(repeating: 6_755_399_441_055_744) // 1.5·2⁵²
    var xc = v // NaN fails both comparisons and propagates
    xc.replace(with: -746, where: v .< -746)
    xc.replace(with: 710, where: v .> 710)
    let t = xc * 1.442_695_040_888_963_4 + magic
    let nf = t - magic
    let k = unsafeBitCast(t, to: SIMD2<Int64>.self) &- unsafeBitCast(magic, to: SIMD2<Int64>.self)
    let r = (xc - nf * 0.693_147_180_369_123_8) - nf * 1.908_214_929_270_587_7e-10
        var p = SIMD2<Double>(repeating: 1.0 / 6_227_020_800)
        p = p * r + 1.0 / 479_001_600
        p = p * r + 1.0 / 39_916_800
        p = p * r + 1.0 / 3_628_800
        p = p * r + 1.0 / 362_880
        p = p * r + 1.0 / 40_320
        p = p * r + 1.0 / 5_040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
    // ⌊k/2⌋ by a logical shift of the non-negative k + 2048 (k ≥ −1076): SSE2 has no 64-bit
    // arithmetic shift, and `k >> 1` kept the whole loop scalar.
    let k1 = unsafeBitCast(unsafeBitCast(k &+ 2048, to: SIMD2<UInt64>.self) &>> 1, to: SIMD2<Int64>.self) &- 1024
    let k2 = k &- k1
    let s1 = unsafeBitCast((k1 &+ 1023) &<< 52, to: SIMD2<Double>.self)
    let s2 = unsafeBitCast((k2 &+ 1023) &<< 52, to: SIMD2<Double>.self)
    return p * s1 * s2
}

/// `y[i] = tanh x[i]` for `n` Floats, vectorizable.
///
/// For `|x| < 0.5` the odd Taylor series to x¹⁵ (its remainder is below 2·10⁻⁸ relative there);
/// above, `1 − 2/(e^{2|x|} + 1)` with the sign restored (no cancellation beyond a factor 1.2 for
/// `|x| ≥ 0.5`; `e^{2|x|}` overflows to +∞ for large `|x|`, giving exactly 1). Both are computed for
/// every element and one is selected, so the loop has no branches. Error: a few ulp.
func vectorTanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ path: VectorKernelPath) {
    #if arch(x86_64)
    if path == .avx2FMA { return cvm_tanh_f32_avx2(x, y, n) }
    #endif
    for i in 0..<n {
        let v = x[i]
        let a = v < 0 ? -v : v
        let z = v * v
        var p: Float = -1.455_834_387_051_318_2e-3 // −929569/638512875
        p = p * z + 21_844.0 / 6_081_075
        p = p * z + -1_382.0 / 155_925
        p = p * z + 62.0 / 2_835
        p = p * z + -17.0 / 315
        p = p * z + 2.0 / 15
        p = p * z + -1.0 / 3
        // z == 0 (v = ±0 or tiny): v itself, which keeps the sign of zero (v + v·0 would give +0 for −0).
        let small = z == 0 ? v : v + v * (z * p)
        let e = expFloat(a + a)
        let large = 1 - 2 / (e + 1)
        let signed = v < 0 ? -large : large
        y[i] = a < 0.5 ? small : signed
    }
}

@inline(__always)
func binaryLoop<S>(_ a: UnsafePointer<S>, _ sa: Int, _ b: UnsafePointer<S>, _ sb: Int,
                   _ o: UnsafeMutablePointer<S>, _ n: Int, _ f: (S, S) -> S) {
    if sa == 1 && sb == 1 {
        for i in 0..<n { o[i] = f(a[i], b[i]) }
    } else if sa == 1 && sb == 0 {
        let bv = b[0]
        for i in 0..<n { o[i] = f(a[i], bv) }
    } else if sa == 0 && sb == 1 {
        let av = a[0]
        for i in 0..<n { o[i] = f(av, b[i]) }
    } else {
        for i in 0..<n { o[i] = f(a[i &* sa], b[i &* sb]) }
    }
}

@inline(__always)
func binaryRow<S: TensorScalar>(_ op: BinaryOp, _ a: UnsafePointer<S>, _ sa: Int, _ b: UnsafePointer<S>, _ sb: Int,
                                _ o: UnsafeMutablePointer<S>, _ n: Int) {
    switch op {
    case .add: binaryLoop(a, sa, b, sb, o, n, +)
    case .sub: binaryLoop(a, sa, b, sb, o, n, -)
    case .mul: binaryLoop(a, sa, b, sb, o, n, *)
    case .div: binaryLoop(a, sa, b, sb, o, n, /)
    case .pow: binaryLoop(a, sa, b, sb, o, n) { S._pow($0, $1) }
    case .maximum: binaryLoop(a, sa, b, sb, o, n) { ($0 > $1 || $0.isNaN) ? $0 : $1 }
    case .minimum: binaryLoop(a, sa, b, sb, o, n) { ($0 < $1 || $0.isNaN) ? $0 : $1 }
    case .less: binaryLoop(a, sa, b, sb, o, n) { $0 < $1 ? 1 : 0 }
    case .lessEqual: binaryLoop(a, sa, b, sb, o, n) { $0 <= $1 ? 1 : 0 }
    case .greater: binaryLoop(a, sa, b, sb, o, n) { $0 > $1 ? 1 : 0 }
    case .greaterEqual: binaryLoop(a, sa, b, sb, o, n) { $0 >= $1 ? 1 : 0 }
    case .equal: binaryLoop(a, sa, b, sb, o, n) { $0 == $1 ? 1 : 0 }
    case .notEqual: binaryLoop(a, sa, b, sb, o, n) { $0 != $1 ? 1 : 0 }
    case .maxShare: binaryLoop(a, sa, b, sb, o, n) { $0 == $1 ? 0.5 : ($0 > $1 ? 1 : 0) }
    case .tanhGradient: binaryLoop(a, sa, b, sb, o, n) { $0 * (1 - $1 * $1) }
    case .sigmoidGradient: binaryLoop(a, sa, b, sb, o, n) { ($0 * $1) * (1 - $1) }
    }
}

/// Strides of `source` (row-major) seen from a broadcast result of shape `target`: 0 on broadcast axes.
func broadcastStrides(_ source: TensorShape, to target: TensorShape) -> [Int] {
    let r = target.rank, offset = r - source.rank
    var result = [Int](repeating: 0, count: r)
    var s = 1
    for i in stride(from: source.rank - 1, through: 0, by: -1) {
        let d = source.dimensions[i]
        result[i + offset] = (d == 1 && target.dimensions[i + offset] != 1) ? 0 : s
        s *= d
    }
    return result
}

@_specialize(where S == Float)
@_specialize(where S == Double)
func binaryKernel<S: TensorScalar>(_ op: BinaryOp, _ a: TensorStorage<S>, _ aShape: TensorShape,
                                   _ b: TensorStorage<S>, _ bShape: TensorShape, _ outShape: TensorShape) -> TensorStorage<S> {
    let count = outShape.scalarCount
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                let pa = ab.baseAddress!, pb = bb.baseAddress!, po = out.baseAddress!
                if aShape == bShape {
                    binaryRow(op, pa, 1, pb, 1, po, count)
                } else if bb.count == 1 && ab.count == count {
                    binaryRow(op, pa, 1, pb, 0, po, count)
                } else if ab.count == 1 && bb.count == count {
                    binaryRow(op, pa, 0, pb, 1, po, count)
                } else {
                    let r = outShape.rank
                    let sa = broadcastStrides(aShape, to: outShape), sb = broadcastStrides(bShape, to: outShape)
                    let n = outShape.dimensions[r - 1]
                    let rows = count / n
                    var index = [Int](repeating: 0, count: r)
                    var offA = 0, offB = 0
                    for row in 0..<rows {
                        binaryRow(op, pa + offA, sa[r - 1], pb + offB, sb[r - 1], po + row * n, n)
                        var axis = r - 2
                        while axis >= 0 {
                            index[axis] += 1
                            offA += sa[axis]; offB += sb[axis]
                            if index[axis] < outShape.dimensions[axis] { break }
                            offA -= sa[axis] * index[axis]; offB -= sb[axis] * index[axis]
                            index[axis] = 0
                            axis -= 1
                        }
                    }
                }
            }
        }
    }
}

/// Copies the elements of `source` read with `strides` from `offset` into a new contiguous array of `shape`.
///
/// Serves expand (zero strides), permute (permuted strides) and strided slicing.
@_specialize(where S == Float)
@_specialize(where S == Double)
func stridedGather<S: TensorScalar>(_ source: TensorStorage<S>, offset: Int, strides: [Int], shape: TensorShape) -> TensorStorage<S> {
    let count = shape.scalarCount
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        source.withUnsafeBufferPointer { sb in
            let ps = sb.baseAddress! + offset, po = out.baseAddress!
            let r = shape.rank
            if r == 0 { po[0] = ps[0]; return }
            let n = shape.dimensions[r - 1], st = strides[r - 1]
            // Rows of the last axis, `rows` at a time along the second-to-last (one index update per block).
            let rows = r >= 2 ? shape.dimensions[r - 2] : 1, rowStride = r >= 2 ? strides[r - 2] : 0
            var index = [Int](repeating: 0, count: r)
            var off = 0
            for block in 0..<(count / (n * rows)) {
                for j in 0..<rows {
                    let dst = po + (block * rows + j) * n, src = ps + off + j * rowStride
                    if st == 1 { for i in 0..<n { dst[i] = src[i] } }
                    else if st == 0 { let v = src[0]; for i in 0..<n { dst[i] = v } }
                    else { for i in 0..<n { dst[i] = src[i &* st] } }
                }
                var axis = r - 3
                while axis >= 0 {
                    index[axis] += 1
                    off += strides[axis]
                    if index[axis] < shape.dimensions[axis] { break }
                    off -= strides[axis] * index[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

/// A new array of `count` elements filled with `fill`, then the contiguous `source` (of `shape`)
/// written at `offset + Σ index·strides`. The inverse of ``stridedGather(_:offset:strides:shape:)``
/// for non-overlapping strides (slicing); serves padding and the gradient of slicing.
@_specialize(where S == Float)
@_specialize(where S == Double)
func stridedScatter<S: TensorScalar>(_ source: TensorStorage<S>, shape: TensorShape, into count: Int, fill: S,
                                     offset: Int, strides: [Int]) -> TensorStorage<S> {
    var result = TensorStorage<S>(repeating: fill, count: count)
    let total = shape.scalarCount
    guard total > 0 else { return result }
    result.withUnsafeMutableBufferPointer { rb in
        source.withUnsafeBufferPointer { sb in
            let pd = rb.baseAddress! + offset, ps = sb.baseAddress!
            let r = shape.rank
            if r == 0 { pd[0] = ps[0]; return }
            let n = shape.dimensions[r - 1], st = strides[r - 1]
            var index = [Int](repeating: 0, count: r)
            var off = 0
            for row in 0..<(total / n) {
                let src = ps + row * n, dst = pd + off
                if st == 1 { for i in 0..<n { dst[i] = src[i] } } else { for i in 0..<n { dst[i &* st] = src[i] } }
                var axis = r - 2
                while axis >= 0 {
                    index[axis] += 1
                    off += strides[axis]
                    if index[axis] < shape.dimensions[axis] { break }
                    off -= strides[axis] * index[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
    return result
}

@usableFromInline
enum ReduceOp: Sendable { case sum, max, min }

/// Reduces the middle axis of `x` viewed as `(outer, n, inner)`; the result is `(outer, inner)`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func reduceKernel<S: TensorScalar>(_ op: ReduceOp, _ x: TensorStorage<S>, outer: Int, n: Int, inner: Int) -> TensorStorage<S> {
    let count = outer * inner
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        let po = out.baseAddress!
        x.withUnsafeBufferPointer { xb in
            guard n > 0, let px = xb.baseAddress else {
                for i in 0..<count { po[i] = op == .sum ? 0 : (op == .max ? -S.infinity : S.infinity) }
                return
            }
            if op == .sum && inner == 1 {
                for o in 0..<outer { po[o] = contiguousSum(px + o * n, n) }
                return
            }
            for o in 0..<outer {
                let dst = po + o * inner, src = px + o * n * inner
                for j in 0..<inner { dst[j] = src[j] }
                for k in 1..<Swift.max(n, 1) {
                    let row = src + k * inner
                    switch op {
                    case .sum: for j in 0..<inner { dst[j] += row[j] }
                    case .max: for j in 0..<inner { let v = row[j]; if v > dst[j] || v.isNaN { dst[j] = v } }
                    case .min: for j in 0..<inner { let v = row[j]; if v < dst[j] || v.isNaN { dst[j] = v } }
                    }
                }
            }
        }
    }
}

/// The sum of `n` contiguous elements in a fixed order that vectorizes.
///
/// A single running sum is a chain of dependent additions that the compiler may not reorder, so
/// it runs at one element per addition latency. Here the elements are summed in blocks of
/// `sumBlock`: within a block, 16 interleaved partial sums (lane `k` takes elements `k`, `k+16`,
/// …) that the compiler turns into vector additions, combined by a fixed pairwise tree; the block
/// sums are then added in order. The order depends only on `n`, so the result is deterministic,
/// and the blocking keeps the rounding error growth well below that of one running sum.
@inline(__always)
func contiguousSum<S: TensorScalar>(_ p: UnsafePointer<S>, _ n: Int) -> S {
    var total: S = 0
    var start = 0
    while start < n {
        let end = Swift.min(n, start + sumBlock)
        var a0: S = 0, a1: S = 0, a2: S = 0, a3: S = 0, a4: S = 0, a5: S = 0, a6: S = 0, a7: S = 0
        var a8: S = 0, a9: S = 0, a10: S = 0, a11: S = 0, a12: S = 0, a13: S = 0, a14: S = 0, a15: S = 0
        var i = start
        while i &+ 16 <= end {
            let q = p + i
            a0 += q[0]; a1 += q[1]; a2 += q[2]; a3 += q[3]; a4 += q[4]; a5 += q[5]; a6 += q[6]; a7 += q[7]
            a8 += q[8]; a9 += q[9]; a10 += q[10]; a11 += q[11]; a12 += q[12]; a13 += q[13]; a14 += q[14]; a15 += q[15]
            i &+= 16
        }
        var tail: S = 0
        while i < end { tail += p[i]; i &+= 1 }
        let low = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
        let high = ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15))
        total += (low + high) + tail
        start = end
    }
    return total
}

/// Elements per block of ``contiguousSum(_:_:)``.
let sumBlock = 2048

/// Inclusive cumulative sum or product along the middle axis of `(outer, n, inner)`, optionally from the end.
@_specialize(where S == Float)
@_specialize(where S == Double)
func cumulativeKernel<S: TensorScalar>(product: Bool, reverse: Bool, _ x: TensorStorage<S>, outer: Int, n: Int, inner: Int) -> TensorStorage<S> {
    let count = x.count
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        let po = out.baseAddress!
        x.withUnsafeBufferPointer { xb in
            let px = xb.baseAddress!
            for o in 0..<outer {
                let base = o * n * inner
                for step in 0..<n {
                    let k = reverse ? n - 1 - step : step
                    let dst = po + base + k * inner, src = px + base + k * inner
                    if step == 0 {
                        for j in 0..<inner { dst[j] = src[j] }
                    } else {
                        let prev = po + base + (reverse ? k + 1 : k - 1) * inner
                        if product { for j in 0..<inner { dst[j] = prev[j] * src[j] } }
                        else { for j in 0..<inner { dst[j] = prev[j] + src[j] } }
                    }
                }
            }
        }
    }
}

/// Softmax (or log-softmax) along the middle axis of `(outer, n, inner)`, shifted by the maximum for stability.
@_specialize(where S == Float)
@_specialize(where S == Double)
func softmaxKernel<S: TensorScalar>(log: Bool, _ x: TensorStorage<S>, outer: Int, n: Int, inner: Int) -> TensorStorage<S> {
    let count = x.count
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        let po = out.baseAddress!
        x.withUnsafeBufferPointer { xb in
            let px = xb.baseAddress!
            for o in 0..<outer {
                for j in 0..<inner {
                    let src = px + o * n * inner + j, dst = po + o * n * inner + j
                    var m = -S.infinity
                    for k in 0..<n { let v = src[k * inner]; if v > m || v.isNaN { m = v } }
                    if !m.isFinite && !m.isNaN { m = 0 }
                    var total: S = 0
                    if log {
                        for k in 0..<n { total += S._exp(src[k * inner] - m) }
                        let lse = m + S._log(total)
                        for k in 0..<n { dst[k * inner] = src[k * inner] - lse }
                    } else {
                        for k in 0..<n { let e = S._exp(src[k * inner] - m); dst[k * inner] = e; total += e }
                        let r = 1 / total
                        for k in 0..<n { dst[k * inner] *= r }
                    }
                }
            }
        }
    }
}

/// `mask != 0 ? a : b` for three arrays of equal length.
@_specialize(where S == Float)
@_specialize(where S == Double)
func selectKernel<S: TensorScalar>(_ mask: TensorStorage<S>, _ a: TensorStorage<S>, _ b: TensorStorage<S>) -> TensorStorage<S> {
    let n = mask.count
    return uninitializedStorage(n) { out, initialized in
        initialized = n
        guard n > 0 else { return }
        mask.withUnsafeBufferPointer { m in a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            for i in 0..<n { out[i] = m[i] != 0 ? pa[i] : pb[i] }
        } } }
    }
}

/// Copies rows of a tensor viewed as `(outer, n, inner)` at `indices` along the middle axis.
@_specialize(where S == Float)
@_specialize(where S == Double)
func indexSelectKernel<S: TensorScalar>(_ x: TensorStorage<S>, outer: Int, n: Int, inner: Int, indices: [Int]) -> TensorStorage<S> {
    let m = indices.count, count = outer * m * inner
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        x.withUnsafeBufferPointer { xb in
            let px = xb.baseAddress!, po = out.baseAddress!
            for o in 0..<outer {
                for (t, k) in indices.enumerated() {
                    let src = px + (o * n + k) * inner, dst = po + (o * m + t) * inner
                    for j in 0..<inner { dst[j] = src[j] }
                }
            }
        }
    }
}

/// Adds rows of `g` (viewed as `(outer, m, inner)`) into a zero tensor `(outer, n, inner)` at `indices`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func indexAddKernel<S: TensorScalar>(_ g: TensorStorage<S>, outer: Int, n: Int, inner: Int, indices: [Int]) -> TensorStorage<S> {
    var result = TensorStorage<S>(repeating: 0, count: outer * n * inner)
    let m = indices.count
    guard outer * m * inner > 0 else { return result }
    result.withUnsafeMutableBufferPointer { rb in
        g.withUnsafeBufferPointer { gb in
            let pr = rb.baseAddress!, pg = gb.baseAddress!
            for o in 0..<outer {
                for (t, k) in indices.enumerated() {
                    let src = pg + (o * m + t) * inner, dst = pr + (o * n + k) * inner
                    for j in 0..<inner { dst[j] += src[j] }
                }
            }
        }
    }
    return result
}

/// `out[o, t, j] = x[o, index[o, t, j], j]` for `x` of `(outer, n, inner)` and `index` of `(outer, m, inner)`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func gatherKernel<S: TensorScalar>(_ x: TensorStorage<S>, outer: Int, n: Int, inner: Int, m: Int, index: [Int]) -> TensorStorage<S> {
    let count = outer * m * inner
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        x.withUnsafeBufferPointer { xb in
            for o in 0..<outer {
                for t in 0..<m {
                    for j in 0..<inner {
                        let p = (o * m + t) * inner + j
                        out[p] = xb[(o * n + index[p]) * inner + j]
                    }
                }
            }
        }
    }
}

/// The adjoint of ``gatherKernel(_:outer:n:inner:m:index:)``: scatter-adds `g` into zeros of `(outer, n, inner)`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func scatterAddKernel<S: TensorScalar>(_ g: TensorStorage<S>, outer: Int, n: Int, inner: Int, m: Int, index: [Int]) -> TensorStorage<S> {
    var result = TensorStorage<S>(repeating: 0, count: outer * n * inner)
    result.withUnsafeMutableBufferPointer { rb in
        g.withUnsafeBufferPointer { gb in
            for o in 0..<outer {
                for t in 0..<m {
                    for j in 0..<inner {
                        let p = (o * m + t) * inner + j
                        rb[(o * n + index[p]) * inner + j] += gb[p]
                    }
                }
            }
        }
    }
    return result
}

/// Gather (or, with `scatter`, its adjoint) for an index smaller than the tensor off `axis`:
/// gather reads `x` (of `shape`) at every position `p` of `indices`' shape with `p[axis]` replaced by
/// the index there; scatter adds `x` (of `indices`' shape) into zeros of `shape` at those positions.
@_specialize(where S == Float)
@_specialize(where S == Double)
func stridedGatherKernel<S: TensorScalar>(_ x: TensorStorage<S>, shape: TensorShape, axis: Int, indices: TensorIndices,
                                          scatter: Bool) -> TensorStorage<S> {
    let strides = shape.strides, extents = indices.shape.dimensions, r = extents.count
    var result = TensorStorage<S>(repeating: 0, count: scatter ? shape.scalarCount : indices.shape.scalarCount)
    guard indices.shape.scalarCount > 0 else { return result }
    var position = [Int](repeating: 0, count: r)
    var offset = 0 // Σ over the non-gathered axes of position·stride
    result.withUnsafeMutableBufferPointer { out in
        x.withUnsafeBufferPointer { source in
            for p in 0..<indices.values.count {
                let q = offset + indices.values[p] * strides[axis]
                if scatter { out[q] += source[p] } else { out[p] = source[q] }
                var d = r - 1
                while d >= 0 {
                    position[d] += 1
                    if d != axis { offset += strides[d] }
                    if position[d] < extents[d] { break }
                    if d != axis { offset -= strides[d] * position[d] }
                    position[d] = 0
                    d -= 1
                }
            }
        }
    }
    return result
}

/// For `x` viewed as `(outer, n, inner)`, the index along the middle axis of the first maximum of
/// each `(o, j)` (a NaN counts as the maximum, as PyTorch's max pooling).
@_specialize(where S == Float)
@_specialize(where S == Double)
func firstMaximumIndices<S: TensorScalar>(_ x: TensorStorage<S>, outer: Int, n: Int, inner: Int) -> [Int] {
    var result = [Int](repeating: 0, count: outer * inner)
    x.withUnsafeBufferPointer { xb in
        for o in 0..<outer {
            for j in 0..<inner {
                var best = xb[o * n * inner + j], index = 0
                for k in 1..<Swift.max(n, 1) {
                    let v = xb[(o * n + k) * inner + j]
                    if !best.isNaN && (v > best || v.isNaN) { best = v; index = k }
                }
                result[o * inner + j] = index
            }
        }
    }
    return result
}

/// Geometry of a 1-d sliding window: `outputLength` positions, position `t`, tap `k` reads
/// input index `t·stride − padding + k·dilation`.
struct Window1D: Sendable, Hashable {
    var kernelSize: Int, stride: Int, padding: Int, dilation: Int
    var inputLength: Int, outputLength: Int

    /// Offset of the window row `(b, c, k)` of `Lout` columns: in `(batch, channels·K, Lout)`, or in
    /// `(channels·K, batch·Lout)` when `channelMajor` (the whole batch side by side, one GEMM's operand).
    @inline(__always)
    func row(_ b: Int, _ c: Int, _ k: Int, batch: Int, channels: Int, channelMajor: Bool) -> Int {
        channelMajor ? ((c * kernelSize + k) * batch + b) * outputLength : ((b * channels + c) * kernelSize + k) * outputLength
    }

    /// The positions `t` whose tap at input offset `shift` (`k·dilation − padding`) falls inside the
    /// input, `0 ≤ t·stride + shift < inputLength`, so the kernels' inner loops need no bounds test.
    @inline(__always)
    func insideColumns(shift: Int) -> Range<Int> {
        let first = shift >= 0 ? 0 : (stride - 1 - shift) / stride
        let end = shift >= inputLength ? 0 : Swift.min(outputLength, (inputLength - 1 - shift) / stride + 1)
        return first..<Swift.max(first, end)
    }
}

/// Unfold (im2col): `(batch, channels, L)` → `(batch, channels·K, Lout)`, or `(channels·K, batch·Lout)`
/// when `channelMajor`; `padValue` outside the input.
@_specialize(where S == Float)
@_specialize(where S == Double)
func unfoldKernel<S: TensorScalar>(_ x: TensorStorage<S>, batch: Int, channels: Int, window w: Window1D, padValue: S,
                                   channelMajor: Bool = false) -> TensorStorage<S> {
    let K = w.kernelSize, L = w.inputLength, Lout = w.outputLength
    let count = batch * channels * K * Lout
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        x.withUnsafeBufferPointer { xb in
            let po = out.baseAddress!
            for b in 0..<batch {
                for c in 0..<channels {
                    let src = (b * channels + c) * L
                    for k in 0..<K {
                        let dst = po + w.row(b, c, k, batch: batch, channels: channels, channelMajor: channelMajor)
                        let shift = k * w.dilation - w.padding
                        let inside = w.insideColumns(shift: shift)
                        for t in 0..<inside.lowerBound { dst[t] = padValue }
                        for t in inside.upperBound..<Lout { dst[t] = padValue }
                        let row = xb.baseAddress! + src, stride = w.stride
                        if stride == 1 {
                            (dst + inside.lowerBound).update(from: row + inside.lowerBound + shift, count: inside.count)
                        } else {
                            for t in inside { dst[t] = row[t &* stride &+ shift] }
                        }
                    }
                }
            }
        }
    }
}

/// Fold (col2im), the adjoint of unfold: `(batch, channels·K, Lout)` (or `(channels·K, batch·Lout)`
/// when `channelMajor`) → `(batch, channels, L)`, summing overlapping taps and dropping padded positions.
@_specialize(where S == Float)
@_specialize(where S == Double)
func foldKernel<S: TensorScalar>(_ cols: TensorStorage<S>, batch: Int, channels: Int, window w: Window1D,
                                 channelMajor: Bool = false) -> TensorStorage<S> {
    let K = w.kernelSize, L = w.inputLength, Lout = w.outputLength
    var result = TensorStorage<S>(repeating: 0, count: batch * channels * L)
    guard batch * channels * K * Lout > 0 else { return result }
    result.withUnsafeMutableBufferPointer { rb in
        cols.withUnsafeBufferPointer { cb in
            for b in 0..<batch {
                for c in 0..<channels {
                    let dst = (b * channels + c) * L
                    for k in 0..<K {
                        let source = cb.baseAddress! + w.row(b, c, k, batch: batch, channels: channels, channelMajor: channelMajor)
                        let target = rb.baseAddress! + dst, shift = k * w.dilation - w.padding, stride = w.stride
                        // The same additions in the same order as a bounds-tested loop over every `t`.
                        if stride == 1 {
                            for t in w.insideColumns(shift: shift) { target[t &+ shift] += source[t] }
                        } else {
                            for t in w.insideColumns(shift: shift) { target[t &* stride &+ shift] += source[t] }
                        }
                    }
                }
            }
        }
    }
    return result
}

/// `[a, b, inner]` → `[b, a, inner]`: swaps the two leading axes, adding `bias[i]` to the block of
/// leading index `i` when given. Moves a convolution's batch into the GEMM columns and back.
@_specialize(where S == Float)
@_specialize(where S == Double)
func swappingLeadingAxes<S: TensorScalar>(_ x: TensorStorage<S>, _ a: Int, _ b: Int, inner: Int,
                                          bias: TensorStorage<S>? = nil) -> TensorStorage<S> {
    let count = a * b * inner
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        x.withUnsafeBufferPointer { xb in
            let po = out.baseAddress!, px = xb.baseAddress!
            for i in 0..<a {
                let shift = bias.map { $0[i] } ?? 0
                for j in 0..<b {
                    let src = px + (i * b + j) * inner, dst = po + (j * a + i) * inner
                    if bias == nil {
                        dst.update(from: src, count: inner)
                    } else {
                        for t in 0..<inner { dst[t] = src[t] + shift }
                    }
                }
            }
        }
    }
}

/// One GEMM per group: `C_g = op(A_g)·op(B_g)` with `op(A_g)` `[m, k]`, `op(B_g)` `[k, n]`, the
/// groups' blocks consecutive in `a`, `b` and the result `[groups·m, n]`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func groupedProduct<S: TensorScalar>(_ a: TensorStorage<S>, _ b: TensorStorage<S>, groups: Int, m: Int, n: Int, k: Int,
                                     transposeA: Bool = false, transposeB: Bool = false) -> TensorStorage<S> {
    let count = groups * m * n
    return uninitializedStorage(count) { out, initialized in
        initialized = count
        guard count > 0 else { return }
        guard k > 0 else {
            out.initialize(repeating: 0)
            return
        }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for g in 0..<groups {
                    S._gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                            a: pa.baseAddress! + g * m * k, lda: transposeA ? m : k,
                            b: pb.baseAddress! + g * k * n, ldb: transposeB ? k : n,
                            beta: 0, c: out.baseAddress! + g * m * n, ldc: n)
                }
            }
        }
    }
}

/// Adds `bias[c]` to every element of channel `c` of a `[batch, channels, length]` buffer in place.
@_specialize(where S == Float)
@_specialize(where S == Double)
func addChannelBias<S: TensorScalar>(_ x: inout TensorStorage<S>, _ bias: TensorStorage<S>, batch: Int, channels: Int,
                                     length: Int) {
    x.withUnsafeMutableBufferPointer { xb in
        bias.withUnsafeBufferPointer { bb in
            for b in 0..<batch {
                for c in 0..<channels {
                    let row = xb.baseAddress! + (b * channels + c) * length, shift = bb[c]
                    for t in 0..<length { row[t] += shift }
                }
            }
        }
    }
}

/// Per channel, the sum of a `[batch, channels, length]` tensor over batch and length: a
/// convolution's bias gradient.
@_specialize(where S == Float)
@_specialize(where S == Double)
func channelSums<S: TensorScalar>(_ x: TensorStorage<S>, batch: Int, channels: Int, length: Int) -> TensorStorage<S> {
    var sums = TensorStorage<S>(repeating: 0, count: channels)
    sums.withUnsafeMutableBufferPointer { sb in
        x.withUnsafeBufferPointer { xb in
            for b in 0..<batch {
                for c in 0..<channels {
                    let row = xb.baseAddress! + (b * channels + c) * length
                    var total: S = 0
                    for t in 0..<length { total += row[t] }
                    sb[c] += total
                }
            }
        }
    }
    return sums
}

/// `y[i] = tanh x[i]` for `n` Doubles, vectorizable (libm's `tanh` is a scalar call).
///
/// For `|x| < 0.5` the odd Taylor series to x³⁵ (the first omitted term is below 2⁻⁵⁶ relative);
/// above, `1 − 2/(e^{2|x|} + 1)` with the sign restored and `e^{2|x|}` from ``vectorExp(_:_:_:_:)``'s
/// polynomial (overflow to +∞ gives exactly 1). Both are computed and one is selected, so the loop
/// has no branches. NaN propagates; ±0 keep their sign. Error: a few ulp (see the tests).
func vectorTanh(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ path: VectorKernelPath) {
    #if arch(x86_64)
    if path == .avx2FMA { return cvm_tanh_f64_avx2(x, y, n) }
    #endif
    mapPairs(x, y, n, tanhDouble2)
}

/// `tanh v` for two Doubles, by the method of the Double `vectorTanh` above.
@inline(__always)
func tanhDouble2(_ v: SIMD2<Double>) -> SIMD2<Double> {
    let zero = SIMD2<Double>(repeating: 0)
    var a = v
    a.replace(with: -v, where: v .< zero)
    let z = v * v
    var p = SIMD2<Double>(repeating: -1.740_661_896_357_164_80e-07)
    p = p * z + 4.294_911_078_273_805_74e-07
    p = p * z + -1.059_726_832_010_465_43e-06
    p = p * z + 2.614_771_151_290_754_65e-06
    p = p * z + -6.451_689_215_655_430_65e-06
    p = p * z + 1.591_890_506_932_896_37e-05
    p = p * z + -3.927_832_388_331_683_27e-05
    p = p * z + 9.691_537_956_929_450_95e-05
    p = p * z + -2.391_291_142_435_524_78e-04
    p = p * z + 5.900_274_409_455_859_47e-04
    p = p * z + -1.455_834_387_051_318_33e-03
    p = p * z + 3.592_128_036_572_481_14e-03
    p = p * z + -8.863_235_529_902_197_33e-03
    p = p * z + 2.186_948_853_615_520_30e-02
    p = p * z + -5.396_825_396_825_397_08e-02
    p = p * z + 1.333_333_333_333_333_31e-01
    p = p * z + -3.333_333_333_333_333_15e-01
    var small = v + v * (z * p)
    small.replace(with: v, where: z .== zero) // keeps the sign of zero (v + v·0 would give +0 for −0)
    let large = 1 - 2 / (expDouble2(a + a) + 1)
    var result = large
    result.replace(with: -large, where: v .< zero)
    result.replace(with: small, where: a .< 0.5)
    return result
}

/// `y[i] = 1/(1 + e^{−x[i]})` for `n` Floats, vectorizable: with `e = e^{−|x|}` (never overflows)
/// and `r = 1/(1 + e)`, the result is `r` for `x ≥ 0` and `e·r` below, selected without a branch,
/// so tiny results for very negative `x` are formed (down to the subnormals) instead of flushed to 0.
func vectorSigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ path: VectorKernelPath) {
    #if arch(x86_64)
    if path == .avx2FMA { return cvm_sigmoid_f32_avx2(x, y, n) }
    #endif
    for i in 0..<n {
        let v = x[i]
        let e = expFloat(v < 0 ? v : -v)
        let r = 1 / (1 + e)
        y[i] = v < 0 ? e * r : r
    }
}

/// `y[i] = 1/(1 + e^{−x[i]})` for `n` Doubles, as the Float version, two at a time.
func vectorSigmoid(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ path: VectorKernelPath) {
    #if arch(x86_64)
    if path == .avx2FMA { return cvm_sigmoid_f64_avx2(x, y, n) }
    #endif
    mapPairs(x, y, n) { v in
        let negative = v .< SIMD2<Double>(repeating: 0)
        var m = -v
        m.replace(with: v, where: negative) // −|v|, NaN kept
        let e = expDouble2(m)
        let r = 1 / (1 + e)
        var result = r
        result.replace(with: e * r, where: negative)
        return result
    }
}

/// Runs the Float or Double kernel of `path` on the buffers of a generic scalar type (one type
/// check), or `scalar` element by element for another conformance.
@inline(__always)
func dispatchKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int, _ path: VectorKernelPath,
                                     float: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, VectorKernelPath) -> Void,
                                     double: (UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int, VectorKernelPath) -> Void,
                                     scalar: (S) -> S) {
    if S.self == Float.self {
        float(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
              UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), n, path)
    } else if S.self == Double.self {
        double(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self),
               UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self), n, path)
    } else {
        for i in 0..<n { y[i] = scalar(x[i]) }
    }
}

/// Vectorized elementwise functions over raw buffers, for fused kernels written outside this
/// module (see ``Tensor/customOperation(inputs:outputs:pullback:)``): the same loops as
/// ``Tensor/exp()``, ``Tensor/tanh()`` and ``Tensor/sigmoid()``.
///
/// `input` and `output` may be the same buffer (each element is read before it is written);
/// other overlaps are not allowed; neither needs any alignment. NaN propagates, ±∞ give the
/// limits, ±0 keep their sign in `tanh`, and results in the subnormal range are formed.
///
/// On an x86-64 CPU with AVX2 and FMA (checked once per process) `Float` and `Double` run C
/// kernels that process 8 Floats or 4 Doubles per instruction with fused multiply-adds; elsewhere
/// they run portable Swift loops written for the x86-64 baseline (SSE2). Both evaluate the same
/// range reduction and polynomials (x = k·ln 2 + r with a Cody–Waite split of ln 2; Taylor
/// polynomials; Muller, *Elementary Functions*, 3rd ed., 2016, ch. 11), so they agree to an ulp
/// or two. Accuracy against the Float80 C library (maximum over dense sweeps and the edge cases,
/// see the tests), AVX2+FMA path: `exp` within 1 ulp, `tanh` 1 ulp (Float) and 2 ulp (Double),
/// `sigmoid` 2 ulp; portable path: `exp` within 2 ulp, `tanh` 3 ulp (Float) and 4 ulp (Double),
/// `sigmoid` 3 ulp. Setting the environment variable `METAFOLIO_PORTABLE_VECTOR_KERNELS=1` before
/// the first call selects the portable loops on any CPU (for comparisons); other values are ignored.
public enum VectorMath {
    /// `output[i] = e^{input[i]}` for `count` elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func exp<S: TensorScalar>(_ input: UnsafePointer<S>, _ output: UnsafeMutablePointer<S>, count: Int) {
        exp(input, output, count: count, path: .selected)
    }

    /// `output[i] = tanh input[i]` for `count` elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func tanh<S: TensorScalar>(_ input: UnsafePointer<S>, _ output: UnsafeMutablePointer<S>, count: Int) {
        tanh(input, output, count: count, path: .selected)
    }

    /// `output[i] = 1/(1 + e^{−input[i]})` for `count` elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func sigmoid<S: TensorScalar>(_ input: UnsafePointer<S>, _ output: UnsafeMutablePointer<S>, count: Int) {
        sigmoid(input, output, count: count, path: .selected)
    }

    /// ``exp(_:_:count:)`` on a given path (one of ``VectorKernelPath/available``).
    @inline(__always)
    static func exp<S: TensorScalar>(_ input: UnsafePointer<S>, _ output: UnsafeMutablePointer<S>, count: Int,
                                     path: VectorKernelPath) {
        dispatchKernel(input, output, count, path, float: vectorExp, double: vectorExp) { S._exp($0) }
    }

    /// ``tanh(_:_:count:)`` on a given path (one of ``VectorKernelPath/available``).
    @inline(__always)
    static func tanh<S: TensorScalar>(_ input: UnsafePointer<S>, _ output: UnsafeMutablePointer<S>, count: Int,
                                      path: VectorKernelPath) {
        dispatchKernel(input, output, count, path, float: vectorTanh, double: vectorTanh) { S._tanh($0) }
    }

    /// ``sigmoid(_:_:count:)`` on a given path (one of ``VectorKernelPath/available``).
    @inline(__always)
    static func sigmoid<S: TensorScalar>(_ input: UnsafePointer<S>, _ output: UnsafeMutablePointer<S>, count: Int,
                                         path: VectorKernelPath) {
        dispatchKernel(input, output, count, path, float: vectorSigmoid, double: vectorSigmoid) { sigmoidScalar($0) }
    }
}
