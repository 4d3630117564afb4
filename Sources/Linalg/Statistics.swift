import RealModule

/// How the observations are centered before an exponentially weighted covariance.
public enum EWMACentering: Sendable, Hashable {
    /// Subtract the equally weighted sample mean (PyPortfolioOpt's `exp_cov`).
    case sampleMean
    /// Subtract the exponentially weighted mean (pandas `ewm(...).cov(bias=True)`).
    case weightedMean
    /// No centering: returns are assumed to have zero mean (RiskMetrics, 1996).
    case zero
}

/// The decay of exponential weights `wₜ ∝ (1 − α)^(T−1−t)`, the newest observation weighted most.
public enum EWMADecay: Sendable, Hashable {
    /// Smoothing factor `α` in `(0, 1]`.
    case alpha(Double)
    /// Span `s ≥ 1`: `α = 2 / (s + 1)` (pandas `span`).
    case span(Double)
    /// Half-life `h > 0` in observations: `α = 1 − exp(−ln 2 / h)` (pandas `halflife`).
    case halfLife(Double)
    /// RiskMetrics decay factor `λ` in `[0, 1)`: `α = 1 − λ` (0.94 for daily data).
    case lambda(Double)

    /// The smoothing factor `α`.
    ///
    /// - Throws: ``LinalgError/invalidArgument(operation:message:)`` when the parameter is out of range.
    public func smoothingFactor() throws -> Double {
        let alpha: Double
        switch self {
        case let .alpha(value): alpha = value
        case let .span(value): alpha = value >= 1 ? 2 / (value + 1) : .nan
        case let .halfLife(value): alpha = value > 0 ? 1 - Double.exp(-Double.log(2) / value) : .nan
        case let .lambda(value): alpha = value >= 0 && value < 1 ? 1 - value : .nan
        }
        guard alpha > 0, alpha <= 1 else {
            throw LinalgError.invalidArgument(operation: "EWMADecay", message: "\(self) gives no smoothing factor in (0, 1]")
        }
        return alpha
    }
}

/// A value computed on one window of consecutive rows.
public struct Windowed<Value> {
    /// The rows of the window.
    public let rows: Range<Int>
    /// The value computed on them.
    public let value: Value
}

extension Windowed: Sendable where Value: Sendable {}

extension Matrix {
    /// The mean of each column (observations in rows): a `dgemv` sum, then one refinement
    /// pass `m += Σ(x − m) / T`.
    ///
    /// The refinement removes the first pass's rounding to first order and makes the mean of
    /// a constant column exact, so its variance and covariances come out exactly 0 (and
    /// ``correlation()`` reports the column) instead of rounding noise.
    ///
    /// - Throws: ``LinalgError/empty(operation:)`` when there are no rows.
    public func columnMeans() throws -> [Double] {
        guard rows > 0 else { throw LinalgError.empty(operation: "columnMeans") }
        var sums = [Double](repeating: 0, count: columns)
        let ones = [Double](repeating: 1, count: rows)
        try BLAS.gemv(self, ones, transpose: true, into: &sums)
        let count = Double(rows)
        return refiningColumnMeans(sums.map { $0 / count }, rowWeights: nil)
    }

    /// One refinement pass `m += Σₜ wₜ(xₜ − m) / Σₜ wₜ` for column means `m` under row weights
    /// `w` (`nil` for equal weights).
    ///
    /// For a constant column `c`, `m` is within a few ulps of `c`, so every `xₜ − m` is the same
    /// exact number `d` (Sterbenz). With equal weights its T-fold sum and the division by T are
    /// exact too; with weights the correction is `d` up to a relative `O(T·ε)`, far below half an
    /// ulp of `c`. Either way `m + correction` rounds to `c` exactly.
    private func refiningColumnMeans(_ means: [Double], rowWeights weights: [Double]?) -> [Double] {
        // Raw row pointers keep array uniqueness, bounds and overflow checks out of the inner loop
        // so it vectorizes across columns; each column still adds its rows in order.
        var corrections = [Double](repeating: 0, count: columns)
        withUnsafeBufferPointer { p in
            corrections.withUnsafeMutableBufferPointer { c in
                means.withUnsafeBufferPointer { m in
                    guard var row = p.baseAddress, let correction = c.baseAddress,
                          let mean = m.baseAddress else { return }
                    if let weights {
                        for t in 0..<rows {
                            let weight = weights[t]
                            for j in 0..<columns { correction[j] += weight * (row[j] - mean[j]) }
                            row += columns
                        }
                    } else {
                        for _ in 0..<rows {
                            for j in 0..<columns { correction[j] += row[j] - mean[j] }
                            row += columns
                        }
                    }
                }
            }
        }
        let totalWeight = weights?.reduce(0, +) ?? Double(rows)
        var refined = means
        for j in 0..<columns where refined[j].isFinite {
            refined[j] += corrections[j] / totalWeight
        }
        return refined
    }

    /// The variance of each column with `ddof` degrees of freedom removed (1 = sample variance),
    /// by the two-pass algorithm.
    ///
    /// - Throws: ``LinalgError/empty(operation:)``, ``LinalgError/nonFinite(operation:row:column:)``,
    ///   or ``LinalgError/invalidArgument(operation:message:)`` when `rows − ddof ≤ 0`.
    public func columnVariances(ddof: Int = 1) throws -> [Double] {
        let operation = "columnVariances"
        try validateStatisticsInput(operation, ddof: ddof)
        let means = try columnMeans()
        var sums = [Double](repeating: 0, count: columns)
        withUnsafeBufferPointer { p in
            for i in 0..<rows {
                let base = i * columns
                for j in 0..<columns {
                    let deviation = p[base + j] - means[j]
                    sums[j] += deviation * deviation
                }
            }
        }
        let divisor = Double(rows - ddof)
        return sums.map { $0 / divisor }
    }

    /// The standard deviation of each column; see ``columnVariances(ddof:)``.
    ///
    /// - Throws: as ``columnVariances(ddof:)``.
    public func columnStandardDeviations(ddof: Int = 1) throws -> [Double] {
        try columnVariances(ddof: ddof).map { $0.squareRoot() }
    }

    /// The covariance matrix of the columns (observations in rows), as
    /// `numpy.cov(X, rowvar=False, ddof=ddof)`: the data are centered once and the
    /// product `XᶜᵀXᶜ / (T − ddof)` is formed by `dsyrk`.
    ///
    /// - Throws: ``LinalgError/empty(operation:)``, ``LinalgError/nonFinite(operation:row:column:)``,
    ///   or ``LinalgError/invalidArgument(operation:message:)`` when `rows − ddof ≤ 0`.
    public func covariance(ddof: Int = 1) throws -> Matrix {
        try validateStatisticsInput("covariance", ddof: ddof)
        let centered = try centeredColumns(by: columnMeans())
        var result = Matrix(rows: columns, columns: columns)
        try BLAS.syrk(centered, transpose: true, alpha: 1 / Double(rows - ddof), into: &result)
        return result
    }

    /// The Pearson correlation matrix of the columns, with an exact unit diagonal.
    ///
    /// - Throws: the errors of ``covariance(ddof:)``, and
    ///   ``LinalgError/invalidArgument(operation:message:)`` naming a column with zero variance.
    public func correlation() throws -> Matrix {
        try Matrix.correlation(fromCovariance: covariance())
    }

    /// Converts a covariance matrix to a correlation matrix.
    ///
    /// The diagonal is exactly 1 and the other entries are clipped to `[−1, 1]`, as
    /// `numpy.corrcoef` does: for (nearly) collinear columns rounding alone can push
    /// `cᵢⱼ/√(cᵢᵢcⱼⱼ)` a few ulps past ±1, which is not a valid correlation.
    ///
    /// - Throws: ``LinalgError/notSquare(operation:shape:)``, ``LinalgError/nonFinite(operation:row:column:)``,
    ///   or ``LinalgError/invalidArgument(operation:message:)`` naming a non-positive variance.
    public static func correlation(fromCovariance covariance: Matrix) throws -> Matrix {
        let operation = "correlation"
        guard covariance.isSquare else { throw LinalgError.notSquare(operation: operation, shape: covariance.shape) }
        try covariance.validateFinite(operation)
        let n = covariance.rows
        var inverseDeviations = [Double](repeating: 0, count: n)
        for j in 0..<n {
            let variance = covariance[j, j]
            guard variance > 0 else {
                throw LinalgError.invalidArgument(operation: operation,
                                                  message: "column \(j) has variance \(variance); correlation is undefined")
            }
            inverseDeviations[j] = 1 / variance.squareRoot()
        }
        var result = covariance
        result.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                for j in 0..<n {
                    let scaled = p[i * n + j] * (inverseDeviations[i] * inverseDeviations[j])
                    p[i * n + j] = Swift.min(1, Swift.max(-1, scaled))
                }
                p[i * n + i] = 1
            }
        }
        return result
    }

    /// The exponentially weighted covariance of the columns at the last row.
    ///
    /// Weights `wₜ = (1 − α)^(T−1−t) / Σ` (pandas' `adjust=True` form) multiply the outer
    /// products of the centered rows: `Σₜ wₜ·dₜ·dₜᵀ`. No small-sample bias correction is applied.
    ///
    /// - Throws: ``LinalgError/empty(operation:)``, ``LinalgError/nonFinite(operation:row:column:)``,
    ///   or ``LinalgError/invalidArgument(operation:message:)`` for a bad decay.
    public func ewmaCovariance(decay: EWMADecay, centering: EWMACentering = .sampleMean) throws -> Matrix {
        let operation = "ewmaCovariance"
        try validateStatisticsInput(operation, ddof: 0)
        let alpha = try decay.smoothingFactor()
        var weights = [Double](repeating: 0, count: rows)
        var weight = 1.0
        for t in stride(from: rows - 1, through: 0, by: -1) {
            weights[t] = weight
            weight *= 1 - alpha
        }
        let total = weights.reduce(0, +)
        for t in weights.indices { weights[t] /= total }
        let center: [Double]
        switch centering {
        case .sampleMean: center = try columnMeans()
        case .zero: center = [Double](repeating: 0, count: columns)
        case .weightedMean:
            var weightedMeans = [Double](repeating: 0, count: columns)
            try BLAS.gemv(self, weights, transpose: true, into: &weightedMeans)
            // Refined like columnMeans, so a constant column centres to exact zeros (as in pandas).
            center = refiningColumnMeans(weightedMeans, rowWeights: weights)
        }
        var scaled = try centeredColumns(by: center)
        scaled.withUnsafeMutableBufferPointer { p in
            for t in 0..<rows {
                let root = weights[t].squareRoot()
                for j in 0..<columns { p[t * columns + j] *= root }
            }
        }
        var result = Matrix(rows: columns, columns: columns)
        try BLAS.syrk(scaled, transpose: true, into: &result)
        return result
    }

    /// Applies `body` to windows of `window` consecutive rows, moving `step` rows at a time.
    /// The first window is rows `0..<window`; windows that would run past the end are skipped.
    ///
    /// - Throws: ``LinalgError/invalidArgument(operation:message:)`` when `window` or `step` is
    ///   not positive or `window > rows`; rethrows what `body` throws.
    public func rollingWindows<Value>(window: Int, step: Int = 1,
                                      _ body: (Matrix) throws -> Value) throws -> [Windowed<Value>] {
        guard window > 0, step > 0, window <= rows else {
            throw LinalgError.invalidArgument(
                operation: "rollingWindows",
                message: "need 0 < window ≤ rows (\(rows)) and step > 0; got window \(window), step \(step)")
        }
        return try stride(from: 0, through: rows - window, by: step).map { start in
            let range = start..<(start + window)
            return Windowed(rows: range, value: try body(self.rows(range)))
        }
    }

    /// Subtracts `center[j]` from every entry of column `j`.
    func centeredColumns(by center: [Double]) throws -> Matrix {
        guard center.count == columns else {
            throw LinalgError.dimensionMismatch(operation: "center", lhs: Shape(1, columns), rhs: Shape(1, center.count))
        }
        // One pass that writes `x − center` straight into fresh storage: copying `self` first and
        // then subtracting in place read and wrote the data twice.
        // Row pointers keep overflow checks out of the inner loop, so it vectorizes.
        let (rows, columns) = (self.rows, self.columns)
        let centered = [Double](unsafeUninitializedCapacity: rows * columns) { target, initializedCount in
            withUnsafeBufferPointer { source in
                center.withUnsafeBufferPointer { c in
                    guard var from = source.baseAddress, var to = target.baseAddress,
                          let shift = c.baseAddress else { return }
                    for _ in 0..<rows {
                        for j in 0..<columns { to[j] = from[j] - shift[j] }
                        from += columns
                        to += columns
                    }
                }
            }
            initializedCount = rows * columns
        }
        return try Matrix(rows: rows, columns: columns, elements: centered)
    }

    /// `true` when no entry is NaN or infinite.
    ///
    /// One branch-free pass (`x − x` is 0 for finite `x` and NaN otherwise, and NaN survives the
    /// sum) in four-lane vectors: several times faster than ``firstNonFiniteIndex()``, which is
    /// needed only to name the first bad entry once this check has failed.
    func allEntriesFinite() -> Bool {
        withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return true }
            let count = buffer.count
            let raw = UnsafeRawPointer(base)
            let stride = MemoryLayout<Double>.stride
            var first = SIMD4<Double>(), second = SIMD4<Double>()
            var k = 0
            while k + 8 <= count {
                let u = raw.loadUnaligned(fromByteOffset: k * stride, as: SIMD4<Double>.self)
                let v = raw.loadUnaligned(fromByteOffset: (k + 4) * stride, as: SIMD4<Double>.self)
                first += u - u
                second += v - v
                k += 8
            }
            var tail = 0.0
            while k < count {
                tail += base[k] - base[k]
                k += 1
            }
            return (first + second).sum() + tail == 0
        }
    }

    /// ``validateFinite(_:)`` with the all-finite case paid for by one vectorized pass.
    func validateFiniteQuickly(_ operation: String) throws {
        if !allEntriesFinite() { try validateFinite(operation) }
    }

    private func validateStatisticsInput(_ operation: String, ddof: Int) throws {
        guard rows > 0, columns > 0 else { throw LinalgError.empty(operation: operation) }
        guard ddof >= 0, rows - ddof > 0 else {
            throw LinalgError.invalidArgument(operation: operation,
                                              message: "\(rows) observations leave no degrees of freedom with ddof = \(ddof)")
        }
        try validateFiniteQuickly(operation)
    }
}
