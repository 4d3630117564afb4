import COpenBLAS
import RealModule

/// An orthonormal wavelet filter pair for the maximal overlap discrete wavelet transform.
///
/// `scaling` is the Daubechies scaling filter `g` (`Σg = √2`, `Σg² = 1`) and `wavelet` its quadrature
/// mirror `hₗ = (−1)ˡ g_{L−1−l}` (Percival & Walden 2000, eq. 75a). The MODWT uses the rescaled
/// filters `g̃ = g/√2`, `h̃ = h/√2` (eq. 163).
public struct WaveletFilter: Sendable, Hashable {
    /// The canonical name (`haar`, `db2`…`db10`, `sym2`…`sym10`, `coif1`…`coif5`; `-reversed` appended by ``reversed()``).
    public let name: String
    /// Scaling (low-pass) filter `g`, length `L`.
    public let scaling: [Double]
    /// Wavelet (high-pass) filter `h`, length `L`.
    public let wavelet: [Double]
    /// Filter length `L`.
    public var length: Int { scaling.count }

    /// The filter named `name`. Accepts PyWavelets' names (`haar`, `db1`–`db10`, `sym2`–`sym10`,
    /// `coif1`–`coif5`) and Percival & Walden's (`d4`…`d20` for db2…db10, `la8`…`la20` for
    /// sym4…sym10, `c6`…`c30` for coif1…coif5), case-insensitively.
    ///
    /// - Throws: ``SignalsError/unknownWavelet(name:)``.
    public init(_ name: String) throws {
        var key = name.lowercased()
        if key == "db1" || key == "d2" { key = "haar" }
        if key.hasPrefix("la"), let n = Int(key.dropFirst(2)), n % 2 == 0 { key = "sym\(n / 2)" }
        else if key.hasPrefix("d"), !key.hasPrefix("db"), let n = Int(key.dropFirst(1)), n % 2 == 0 { key = "db\(n / 2)" }
        else if key.hasPrefix("c"), !key.hasPrefix("coif"), let n = Int(key.dropFirst(1)), n % 6 == 0 { key = "coif\(n / 6)" }
        guard let g = scalingFilterCoefficients(key) else { throw SignalsError.unknownWavelet(name: name) }
        self.init(name: key, scaling: g)
    }

    /// The time-reversed filter `g′ₗ = g_{L−1−l}` (with its mirror `h′`), named `"<name>-reversed"`.
    ///
    /// PyWavelets' SWT filters with this orientation: with it, `pywt.swt(x, name, J, norm=True)` gives
    /// `cDⱼ[t] = −W̃ⱼ[(t + (2ʲ − 1)L/2) mod N]` and `cA_J[t] = Ṽ_J[(t + (2ᴶ − 1)L/2) mod N]`.
    /// MRA components do not depend on the orientation.
    public func reversed() -> WaveletFilter {
        WaveletFilter(name: name.hasSuffix("-reversed") ? String(name.dropLast(9)) : name + "-reversed", scaling: scaling.reversed())
    }

    init(name: String, scaling g: [Double]) {
        self.name = name
        scaling = g
        let l = g.count
        wavelet = (0..<l).map { i in (i % 2 == 0 ? 1.0 : -1.0) * g[l - 1 - i] }
    }

    /// Width of the level-`j` equivalent filter, `Lⱼ = (2ʲ − 1)(L − 1) + 1` (Percival & Walden eq. 96a).
    public func equivalentWidth(level j: Int) -> Int { ((1 << j) - 1) * (length - 1) + 1 }
}

/// How the series is extended beyond its ends.
public enum WaveletBoundary: String, Sendable, Hashable, Codable, CaseIterable {
    /// Circular: the series is treated as periodic (Percival & Walden's default).
    case periodic
    /// The series `X₀…X_{N−1}` is extended to `X₀…X_{N−1}, X_{N−1}…X₀` (length `2N`), transformed
    /// periodically, and the outputs are truncated back to `N` (Percival & Walden §5.11).
    case reflection
}

/// The maximal overlap discrete wavelet transform of a series (Percival & Walden 2000, ch. 5).
///
/// With `Ṽ₀ = X`, for `j = 1…J` and every `t` (indices modulo the working length `M`, which is `N`
/// for periodic and `2N` for reflection boundaries):
/// `W̃ⱼ,ₜ = Σₗ h̃ₗ Ṽⱼ₋₁,ₜ₋₂ʲ⁻¹ₗ` and `Ṽⱼ,ₜ = Σₗ g̃ₗ Ṽⱼ₋₁,ₜ₋₂ʲ⁻¹ₗ` (the pyramid algorithm, eqs. 174–175).
/// Any length `N ≥ 2ᴶ` works, dyadic or not. Energy is preserved: `‖X‖² = Σⱼ‖W̃ⱼ‖² + ‖Ṽ_J‖²`
/// (over the working length). Cost O(N·J·L).
public struct MODWT: Sendable, Hashable {
    /// The filter used.
    public let filter: WaveletFilter
    /// The boundary rule.
    public let boundary: WaveletBoundary
    /// Length `N` of the original series.
    public let length: Int
    /// Wavelet coefficients `W̃₁…W̃_J`, each of the working length (`N` periodic, `2N` reflection).
    public let details: [[Double]]
    /// Scaling coefficients `Ṽ_J`, of the working length.
    public let smooth: [Double]
    /// Number of levels `J`.
    public var levels: Int { details.count }

    /// Transforms `series` to `levels` levels.
    ///
    /// - Throws: ``SignalsError/emptySeries(operation:)``, ``SignalsError/nonFinite(operation:position:)``,
    ///   ``SignalsError/invalidParameter(operation:parameter:value:reason:)`` for `levels < 1` or `levels > 30`,
    ///   ``SignalsError/seriesTooShort(operation:length:required:)`` when `N < 2ᴶ`.
    public init(_ series: [Double], filter: WaveletFilter, levels: Int, boundary: WaveletBoundary = .periodic) throws {
        let operation = "MODWT"
        try validateSeries(series, operation)
        try validateWindow(levels, operation, name: "levels")
        guard levels < 31 else {
            throw SignalsError.invalidParameter(operation: operation, parameter: "levels", value: "\(levels)", reason: "must be ≤ 30")
        }
        guard series.count >= (1 << levels) else {
            throw SignalsError.seriesTooShort(operation: operation, length: series.count, required: 1 << levels)
        }
        self.filter = filter
        self.boundary = boundary
        length = series.count
        var v = boundary == .periodic ? series : series + series.reversed()
        var details: [[Double]] = []
        let scale = 1 / 2.0.squareRoot()
        let g = filter.scaling.map { $0 * scale }, h = filter.wavelet.map { $0 * scale }
        for j in 1...levels {
            let (w, next) = MODWT.analysisStep(v, g: g, h: h, stride: 1 << (j - 1))
            details.append(w)
            v = next
        }
        try checkComponents(details, smooth: v, operation)
        self.details = details
        smooth = v
    }

    static func analysisStep(_ v: [Double], g: [Double], h: [Double], stride: Int) -> ([Double], [Double]) {
        let m = v.count
        var w = [Double](repeating: 0, count: m), out = [Double](repeating: 0, count: m)
        w.withUnsafeMutableBufferPointer { wp in accumulate(v, filter: h, shift: -stride, into: wp) }
        out.withUnsafeMutableBufferPointer { op in accumulate(v, filter: g, shift: -stride, into: op) }
        return (w, out)
    }

    /// One synthesis step: `Ṽⱼ₋₁,ₜ = Σₗ h̃ₗ W̃ⱼ,ₜ₊₂ʲ⁻¹ₗ + Σₗ g̃ₗ Ṽⱼ,ₜ₊₂ʲ⁻¹ₗ` (eq. 176); `nil` inputs are zero.
    static func synthesisStep(w: [Double]?, v: [Double]?, g: [Double], h: [Double], stride: Int, m: Int) -> [Double] {
        var out = [Double](repeating: 0, count: m)
        out.withUnsafeMutableBufferPointer { op in
            if let w { accumulate(w, filter: h, shift: stride, into: op) }
            if let v { accumulate(v, filter: g, shift: stride, into: op) }
        }
        return out
    }

    /// `out[t] += Σₖ filter[k]·x[(t + shift·k) mod m]`: per tap, two contiguous BLAS `daxpy` sweeps
    /// (before and after the circular wrap).
    static func accumulate(_ x: [Double], filter: [Double], shift: Int, into out: UnsafeMutableBufferPointer<Double>) {
        let m = x.count
        guard let target = out.baseAddress else { return }
        x.withUnsafeBufferPointer { xp in
            guard let source = xp.baseAddress else { return }
            for (k, c) in filter.enumerated() {
                let o = ((shift * k) % m + m) % m   // x index of t = 0
                let head = m - o                    // t in 0..<head reads x[t + o], the rest x[t + o − m]
                cblas_daxpy(Int32(head), c, source + o, 1, target, 1)
                if o > 0 { cblas_daxpy(Int32(o), c, source, 1, target + head, 1) }
            }
        }
    }

    /// The inverse MODWT: the original series, length `N` (exact up to rounding). Cost O(N·J·L).
    public func inverse() -> [Double] {
        let scale = 1 / 2.0.squareRoot()
        let g = filter.scaling.map { $0 * scale }, h = filter.wavelet.map { $0 * scale }
        var v = smooth
        for j in stride(from: levels, through: 1, by: -1) {
            v = MODWT.synthesisStep(w: details[j - 1], v: v, g: g, h: h, stride: 1 << (j - 1), m: v.count)
        }
        return Array(v.prefix(length))
    }

    /// The multiresolution analysis: details `D₁…D_J` and smooth `S_J`, each of length `N`, with
    /// `X = Σⱼ Dⱼ + S_J` (Percival & Walden eqs. 199–200). `Dⱼ` is the inverse transform of `W̃ⱼ`
    /// alone; it is a zero-phase filtering of `X` localized in the band `[1/2ʲ⁺¹, 1/2ʲ]` cycles per sample.
    /// Cost O(N·J²·L).
    public func multiresolution() -> MultiresolutionAnalysis {
        let scale = 1 / 2.0.squareRoot()
        let g = filter.scaling.map { $0 * scale }, h = filter.wavelet.map { $0 * scale }
        let m = smooth.count
        func reconstruct(level: Int, detail: [Double]?, smooth s: [Double]?) -> [Double] {
            var v = MODWT.synthesisStep(w: detail, v: s, g: g, h: h, stride: 1 << (level - 1), m: m)
            for j in stride(from: level - 1, through: 1, by: -1) {
                v = MODWT.synthesisStep(w: nil, v: v, g: g, h: h, stride: 1 << (j - 1), m: m)
            }
            return Array(v.prefix(length))
        }
        let d = (1...levels).map { reconstruct(level: $0, detail: details[$0 - 1], smooth: nil) }
        let s = reconstruct(level: levels, detail: nil, smooth: smooth)
        return MultiresolutionAnalysis(details: d, smooth: s, filter: filter, boundary: boundary)
    }
}

/// A MODWT multiresolution analysis `X = D₁ + … + D_J + S_J`.
public struct MultiresolutionAnalysis: Sendable, Hashable {
    /// Details `D₁…D_J` (finest first), each of the series length.
    public let details: [[Double]]
    /// Smooth `S_J`, of the series length.
    public let smooth: [Double]
    /// The filter used.
    public let filter: WaveletFilter
    /// The boundary rule used.
    public let boundary: WaveletBoundary

    /// The MRA of `series` with `levels` levels (see ``MODWT``).
    ///
    /// Relation to PyWavelets: for a length divisible by `2ᴶ` and periodic boundaries,
    /// `pywt.mra(x, name, J, transform="swt", mode="periodization")` returns `[S_J, D_J, …, D₁]` equal to
    /// these components to rounding. The SWT coefficients differ from ``MODWT/details``: PyWavelets
    /// filters with the time-reversed scaling filter and shifts level `j` by `(2ʲ − 1)L/2` samples
    /// (with the sign of the wavelet coefficients flipped); see the module overview for the exact
    /// relation. Each MRA component is `H̃ⱼᵀ H̃ⱼ X`, whose squared gain is unchanged by reversal, sign and
    /// shift, so the components agree although the coefficients do not.
    ///
    /// - Throws: as ``MODWT/init(_:filter:levels:boundary:)``.
    public init(_ series: [Double], filter: WaveletFilter, levels: Int, boundary: WaveletBoundary = .periodic) throws {
        self = try MODWT(series, filter: filter, levels: levels, boundary: boundary).multiresolution()
        try checkComponents(details, smooth: smooth, "MultiresolutionAnalysis")
    }

    init(details: [[Double]], smooth: [Double], filter: WaveletFilter, boundary: WaveletBoundary) {
        self.details = details
        self.smooth = smooth
        self.filter = filter
        self.boundary = boundary
    }

    /// `Σⱼ Dⱼ + S_J`, which equals the series to about `1e−12` relative.
    public var reconstruction: [Double] {
        var sum = smooth
        for d in details { for t in sum.indices { sum[t] += d[t] } }
        return sum
    }
}

/// A causal (online) MODWT multiresolution analysis for trading features.
///
/// The components at time `t` are the **last values** of the MRA of the trailing window
/// `X[max(0, t−W+1)…t]` with reflection boundaries, so they use data up to `t` only and still sum to
/// `Xₜ` exactly. Lag: zero samples by construction (no value waits for future data), at the price of
/// right-edge (boundary) distortion: the last value of a reflected window is where the MRA is least
/// like the batch MRA, and coarser levels, whose equivalent filters have width `Lⱼ`, are affected more.
/// Components differ from the batch (two-sided) MRA; for windows shorter than `2ᴶ` the
/// missing levels are computed on the available prefix only once it reaches `2ᴶ` samples; before
/// that the components are NaN (the documented warm-up, `2ᴶ − 1` samples).
/// Cost O(N·W·J²·L).
public enum CausalMultiresolution {
    /// Causal components of `series`: `details[j][t]` and `smooth[t]`, each of length `N`.
    ///
    /// - Throws: as ``MODWT/init(_:filter:levels:boundary:)``, plus ``SignalsError/invalidParameter(operation:parameter:value:reason:)``
    ///   when `window < 2ᴶ`.
    public static func compute(_ series: [Double], filter: WaveletFilter, levels: Int, window: Int) throws -> MultiresolutionAnalysis {
        let operation = "CausalMultiresolution"
        try validateSeries(series, operation)
        try validateWindow(levels, operation, name: "levels")
        guard levels < 31 else {
            throw SignalsError.invalidParameter(operation: operation, parameter: "levels", value: "\(levels)", reason: "must be ≤ 30")
        }
        guard window >= (1 << levels) else {
            throw SignalsError.invalidParameter(operation: operation, parameter: "window", value: "\(window)",
                                                reason: "must be ≥ 2^levels = \(1 << levels)")
        }
        let n = series.count, warm = (1 << levels) - 1
        var details = [[Double]](repeating: [Double](repeating: .nan, count: n), count: levels)
        var smooth = [Double](repeating: .nan, count: n)
        if n > warm {
            for t in warm..<n {
                let start = Swift.max(0, t - window + 1)
                let mra = try MODWT(Array(series[start...t]), filter: filter, levels: levels, boundary: .reflection).multiresolution()
                for j in 0..<levels { details[j][t] = mra.details[j].last! }
                smooth[t] = mra.smooth.last!
            }
        }
        return MultiresolutionAnalysis(details: details, smooth: smooth, filter: filter, boundary: .reflection)
    }
}

/// Throws ``SignalsError/overflow(operation:component:)`` naming the first component holding a
/// NaN or infinity: values near the top of the `Double` range overflow in the filter sums.
func checkComponents(_ details: [[Double]], smooth: [Double], _ operation: String) throws {
    for (j, detail) in details.enumerated() where detail.contains(where: { !$0.isFinite }) {
        throw SignalsError.overflow(operation: operation, component: "D\(j + 1)")
    }
    if smooth.contains(where: { !$0.isFinite }) {
        throw SignalsError.overflow(operation: operation, component: "S\(details.count)")
    }
}
