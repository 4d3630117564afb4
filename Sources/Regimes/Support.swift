import Linalg
import Market
import RealModule

/// How the covariance matrices of a Gaussian mixture or HMM are parameterized
/// (scikit-learn's and hmmlearn's `covariance_type`).
public enum CovarianceType: String, Sendable, Hashable, Codable, CaseIterable {
    /// Each state has its own unrestricted symmetric positive-definite `d × d` covariance.
    case full
    /// Each state has its own diagonal covariance (`d` variances).
    case diagonal = "diag"
    /// Each state has one variance shared by all features (`σ²·I`).
    case spherical
    /// All states share one full covariance.
    case tied

    /// Number of free covariance parameters for `states` states and `features` features:
    /// full `K·d(d+1)/2`, diagonal `K·d`, spherical `K`, tied `d(d+1)/2`.
    public func parameterCount(states: Int, features: Int) -> Int {
        switch self {
        case .full: return states * features * (features + 1) / 2
        case .diagonal: return states * features
        case .spherical: return states
        case .tied: return features * (features + 1) / 2
        }
    }
}

/// How fitted states are relabelled so that the same data always gives the same labels.
public enum StateOrdering: Sendable, Hashable {
    /// Keep the order EM ended with.
    case none
    /// Ascending by the mean of feature `feature` (0-based).
    case byMean(feature: Int)
    /// Ascending by the variance of feature `feature` (0-based).
    case byVariance(feature: Int)
}

/// Checks that `data` is a non-empty, finite `n × d` observation matrix.
/// Row ranges of the independent sequences stacked in `rows` observations (hmmlearn's `lengths`):
/// one range of all rows when `lengths` is `nil`.
///
/// - Throws: ``RegimesError/invalidArgument(operation:message:)`` naming the first length below 1,
///   or when the lengths do not sum to `rows`.
func sequenceRanges(_ lengths: [Int]?, rows: Int, _ operation: String) throws -> [Range<Int>] {
    guard let lengths else { return [0..<rows] }
    if let bad = lengths.firstIndex(where: { $0 < 1 }) {
        throw RegimesError.invalidArgument(operation: operation, message: "lengths[\(bad)] = \(lengths[bad]) must be ≥ 1")
    }
    let total = lengths.reduce(0, +)
    guard total == rows else {
        throw RegimesError.invalidArgument(operation: operation,
                                           message: "lengths sum to \(total) but the data have \(rows) observations")
    }
    var ranges: [Range<Int>] = [], start = 0
    for length in lengths {
        ranges.append(start..<(start + length))
        start += length
    }
    return ranges
}

/// The documented input limits of the regime models.
public enum RegimesLimits {
    /// The largest observation magnitude: the models square differences of observations, and
    /// beyond ±1e150 those squares and their sums overflow. Rescale (or take returns) first.
    public static let maximumMagnitude = 1e150
    /// The most clusters, components or states: the models hold `K × K` and `n × K` matrices.
    public static let maximumStates = 100
}

func validateObservations(_ data: Matrix, _ operation: String) throws {
    guard data.rows > 0, data.columns > 0 else { throw RegimesError.emptyData(operation: operation) }
    if let bad = data.firstNonFiniteIndex() {
        throw RegimesError.nonFinite(operation: operation, row: bad.row, column: bad.column)
    }
    for i in 0..<data.rows {
        for j in 0..<data.columns where Swift.abs(data[i, j]) > RegimesLimits.maximumMagnitude {
            throw RegimesError.valueOutOfRange(operation: operation, row: i, column: j, value: data[i, j],
                                               limit: RegimesLimits.maximumMagnitude)
        }
    }
}

/// Throws when `count` exceeds ``RegimesLimits/maximumStates`` (checked before any `K × K` allocation).
func validateStateCount(_ count: Int, _ what: String, _ operation: String) throws {
    guard count <= RegimesLimits.maximumStates else {
        throw RegimesError.invalidArgument(operation: operation,
                                           message: "\(what) \(count) exceeds the limit of \(RegimesLimits.maximumStates)")
    }
}

/// Number of distinct rows of `data`, stopping once `limit` is reached. O(n·d) expected.
func distinctRowCount(_ data: Matrix, limit: Int) -> Int {
    var seen = Set<[Double]>()
    for i in 0..<data.rows {
        seen.insert(data.row(i))
        if seen.count >= limit { break }
    }
    return seen.count
}

/// First constant column of `data`, if any.
func firstConstantColumn(_ data: Matrix) -> Int? {
    for j in 0..<data.columns {
        let first = data[0, j]
        if (1..<data.rows).allSatisfy({ data[$0, j] == first }) { return j }
    }
    return nil
}

/// `log Σ exp(values)`, stable; `-∞` when every value is `-∞`.
@inline(__always)
func logSumExp(_ values: UnsafeBufferPointer<Double>) -> Double {
    var m = -Double.infinity
    for v in values where v > m { m = v }
    guard m.isFinite else { return m }
    var s = 0.0
    for v in values { s += Double.exp(v - m) }
    return m + Double.log(s)
}

/// `log Σ exp(values)` for an array.
func logSumExp(_ values: [Double]) -> Double { values.withUnsafeBufferPointer { logSumExp($0) } }

/// The Cholesky factors of a set of Gaussian components and their log densities.
///
/// `logDensities` returns the `n × K` matrix (row-major) of `log N(xₜ | μₖ, Σₖ)`, computed as
/// `−½(d·log 2π + ‖L⁻¹(x − μ)‖²) − Σ log Lᵢᵢ` with `Σ = L·Lᵀ`. Cost O(n·K·d²).
struct GaussianBank {
    let means: [[Double]]
    let lowers: [[Double]]
    let logDeterminantHalves: [Double]
    let features: Int

    init(means: Matrix, covariances: [Matrix], operation: String, iteration: Int) throws {
        let d = means.columns
        features = d
        self.means = (0..<means.rows).map { means.row($0) }
        var lowers: [[Double]] = []
        var halves: [Double] = []
        for (k, covariance) in covariances.enumerated() {
            do {
                let factor = try Cholesky(covariance).lower
                lowers.append(factor.elements)
                halves.append((0..<d).reduce(0) { $0 + Double.log(factor[$1, $1]) })
            } catch let LinalgError.notPositiveDefinite(_, pivot) {
                throw RegimesError.notPositiveDefinite(operation: operation, state: k, pivot: pivot, iteration: iteration)
            } catch LinalgError.nonFinite {
                throw RegimesError.notPositiveDefinite(operation: operation, state: k, pivot: 1, iteration: iteration)
            }
        }
        self.lowers = lowers
        logDeterminantHalves = halves
    }

    /// Row-major `n × K` log densities.
    func logDensities(_ data: Matrix) -> [Double] {
        let n = data.rows, d = features, k = means.count
        let constant = Double(d) * Double.log(2 * Double.pi)
        var out = [Double](repeating: 0, count: n * k)
        var y = [Double](repeating: 0, count: d)
        data.withUnsafeBufferPointer { x in
            for s in 0..<k {
                let mu = means[s], l = lowers[s], half = logDeterminantHalves[s]
                for t in 0..<n {
                    var q = 0.0
                    for i in 0..<d {
                        var v = x[t * d + i] - mu[i]
                        for j in 0..<i { v -= l[i * d + j] * y[j] }
                        v /= l[i * d + i]
                        y[i] = v
                        q += v * v
                    }
                    out[t * k + s] = -0.5 * (constant + q) - half
                }
            }
        }
        return out
    }
}

/// Weighted scatter `Σₜ wₜ (xₜ − μ)(xₜ − μ)ᵀ` (a `d × d` matrix), O(n·d²).
func weightedScatter(_ data: Matrix, weights: [Double], mean: [Double]) -> Matrix {
    let n = data.rows, d = data.columns
    var s = [Double](repeating: 0, count: d * d)
    var diff = [Double](repeating: 0, count: d)
    data.withUnsafeBufferPointer { x in
        for t in 0..<n {
            let w = weights[t]
            if w == 0 { continue }
            for i in 0..<d { diff[i] = x[t * d + i] - mean[i] }
            for i in 0..<d {
                let wi = w * diff[i]
                for j in 0...i { s[i * d + j] += wi * diff[j] }
            }
        }
    }
    for i in 0..<d { for j in 0..<i { s[j * d + i] = s[i * d + j] } }
    return try! Matrix(rows: d, columns: d, elements: s)
}

/// Applies a covariance structure to per-state scatter matrices divided by their mass:
/// keeps full, zeroes off-diagonals (diagonal), averages the diagonal (spherical).
func structured(_ covariance: Matrix, _ type: CovarianceType) -> Matrix {
    switch type {
    case .full, .tied: return covariance
    case .diagonal: return Matrix.diagonal(covariance.diagonalElements)
    case .spherical:
        let v = covariance.diagonalElements.reduce(0, +) / Double(covariance.rows)
        return Matrix.diagonal(Array(repeating: v, count: covariance.rows))
    }
}

/// Raises every eigenvalue of the symmetric `covariance` to at least `floor` (diagonal and
/// spherical covariances are floored entrywise on the diagonal). O(d³).
func flooredCovariance(_ covariance: Matrix, floor: Double, type: CovarianceType) -> Matrix {
    guard floor > 0 else { return covariance }
    switch type {
    case .diagonal, .spherical:
        return Matrix.diagonal(covariance.diagonalElements.map { Swift.max($0, floor) })
    case .full, .tied:
        guard let eigen = try? SymmetricEigendecomposition(covariance),
              (eigen.eigenvalues.min() ?? floor) < floor else { return covariance }
        var repaired = eigen.reconstructed { Swift.max($0, floor) }
        repaired.symmetrize()
        return repaired
    }
}

/// The permutation that sorts states by `ordering`, given means and covariances.
func orderingPermutation(_ ordering: StateOrdering, means: Matrix, covariances: [Matrix]) -> [Int] {
    let k = means.rows
    switch ordering {
    case .none: return Array(0..<k)
    case let .byMean(feature):
        let f = Swift.min(Swift.max(feature, 0), means.columns - 1)
        return (0..<k).sorted { (means[$0, f], $0) < (means[$1, f], $1) }
    case let .byVariance(feature):
        let f = Swift.min(Swift.max(feature, 0), means.columns - 1)
        return (0..<k).sorted { (covariances[$0][f, f], $0) < (covariances[$1][f, f], $1) }
    }
}

/// Draws from a discrete distribution with one uniform.
func drawCategorical(_ probabilities: [Double], _ rng: inout Xoshiro256StarStar) -> Int {
    let u = rng.nextUniform()
    var cumulative = 0.0
    for (j, p) in probabilities.enumerated() {
        cumulative += p
        if u < cumulative { return j }
    }
    return probabilities.lastIndex { $0 > 0 } ?? probabilities.count - 1
}

/// Draws `N(mean, L·Lᵀ)` given the lower Cholesky factor `lower` (row-major `d × d`).
func drawGaussian(mean: [Double], lower: [Double], _ rng: inout Xoshiro256StarStar) -> [Double] {
    let d = mean.count
    let z = (0..<d).map { _ in rng.nextNormal() }
    return (0..<d).map { i in mean[i] + (0...i).reduce(0) { $0 + lower[i * d + $1] * z[$1] } }
}

/// The seed of restart `restart` derived from the user's `seed` (a SplitMix64 step, so restarts
/// are independent streams and restart 0 is reproducible on its own).
func restartSeed(_ seed: UInt64, _ restart: Int) -> UInt64 {
    var mixer = SplitMix64(seed: seed &+ UInt64(restart) &* 0x9E37_79B9_7F4A_7C15)
    return mixer.next()
}
