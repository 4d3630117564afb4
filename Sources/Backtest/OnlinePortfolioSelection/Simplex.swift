/// Euclidean projection onto the probability simplex `{b : b ≥ 0, Σ b = 1}` by sorting
/// (Duchi, Shalev-Shwartz, Singer & Chandra 2008, "Efficient projections onto the ℓ1-ball for
/// learning in high dimensions", ICML, Fig. 1): with `u` sorted in decreasing order, the
/// threshold is `θ = (Σ_{r≤ρ} u_r − 1)/ρ` at the first `ρ` with `θ_ρ ≥ u_{ρ+1}`, and the
/// projection is `max(v − θ, 0)`.
///
/// The sort works in a caller-supplied scratch buffer, so a projection allocates nothing. The
/// result is divided by its sum, as the OLPS toolbox's run loops do after every update, so that a
/// projection of large entries (where `v − θ` loses digits) still sums to one.
/// Complexity: `O(m log m)`.
@inlinable
func projectOntoSimplex(_ v: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>) {
    let m = v.count
    for i in 0..<m { scratch[i] = v[i] }
    var sorted = UnsafeMutableBufferPointer(rebasing: scratch[0..<m])
    sorted.sort(by: >)
    var cumulative = 0.0
    var threshold = 0.0
    var found = false
    for j in 0..<(m - 1) {
        cumulative += sorted[j]
        threshold = (cumulative - 1) / Double(j + 1)
        if threshold >= sorted[j + 1] { found = true; break }
    }
    if !found { threshold = (cumulative + sorted[m - 1] - 1) / Double(m) }
    var sum = 0.0
    for i in 0..<m { v[i] = max(v[i] - threshold, 0); sum += v[i] }
    if sum > 0, sum.isFinite { for i in 0..<m { v[i] /= sum } }
}

/// Whether `spread = Σ_i (v_i − v̄)²` is rounding noise at the scale of `v`: each `v_i − v̄`
/// carries an error of a few ulps of `|v̄|`, so a spread below `m · (64 ε |v̄|)²` (ε the machine
/// epsilon) holds no direction and a step divided by it (PAMR's `τ`, OLMAR's and RMR's `λ`)
/// would be rounding amplified to `1e31`. NaN counts as noise.
@inlinable
func isRoundingNoise(spread: Double, mean: Double, count: Int) -> Bool {
    let noise = 64 * Double.ulpOfOne * abs(mean)
    return !(spread > Double(count) * noise * noise)
}

/// Writes the uniform portfolio `1/m`.
@inlinable
func fillUniform(_ b: UnsafeMutableBufferPointer<Double>) {
    let w = 1 / Double(b.count)
    for i in 0..<b.count { b[i] = w }
}

/// Copies `source` into `destination` (same length).
@inlinable
func copyWeights(_ source: UnsafeBufferPointer<Double>, into destination: UnsafeMutableBufferPointer<Double>) {
    for i in 0..<destination.count { destination[i] = source[i] }
}

/// `Σ_i a_i b_i`.
@inlinable
func dot(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * b[i] }
    return s
}

/// Lower Cholesky factor `L` (`A = LLᵀ`) of the symmetric positive definite `order × order`
/// row-major matrix in `a`, in place in its lower triangle; false if `A` is not positive definite.
/// Complexity `O(order³/3)`, no allocation.
func choleskyFactorInPlace(_ a: UnsafeMutableBufferPointer<Double>, order m: Int) -> Bool {
    for j in 0..<m {
        var d = a[j * m + j]
        for k in 0..<j { d -= a[j * m + k] * a[j * m + k] }
        guard d > 0, d.isFinite else { return false }
        let root = d.squareRoot()
        a[j * m + j] = root
        for i in (j + 1)..<max(j + 1, m) {
            var s = a[i * m + j]
            for k in 0..<j { s -= a[i * m + k] * a[j * m + k] }
            a[i * m + j] = s / root
        }
    }
    return true
}

/// Solves `LLᵀ y = r` in place (`y` holds `r` on entry) with a factor from ``choleskyFactorInPlace(_:order:)``.
func choleskySolveInPlace(factor a: UnsafeBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>, order m: Int) {
    for i in 0..<m {
        var s = y[i]
        for k in 0..<i { s -= a[i * m + k] * y[k] }
        y[i] = s / a[i * m + i]
    }
    for i in stride(from: m - 1, through: 0, by: -1) {
        var s = y[i]
        for k in (i + 1)..<max(i + 1, m) { s -= a[k * m + i] * y[k] }
        y[i] = s / a[i * m + i]
    }
}
