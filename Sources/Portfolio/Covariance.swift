import Linalg
import Market
import RealModule

/// A fitted covariance matrix, annualized.
public struct CovarianceEstimate: Sendable {
    /// Asset names, `n`.
    public let assets: [String]
    /// Asset classes, `n`.
    public let assetClasses: [AssetClass]
    /// The annualized covariance, `n × n`, symmetric.
    public let matrix: Matrix
    /// The estimator that produced it.
    public let method: CovarianceEstimator.Method
    /// The shrinkage intensity in `[0, 1]` (Ledoit–Wolf, OAS), `nil` otherwise.
    public let shrinkage: Double?
    /// The number of eigenvalues kept as signal (Marchenko–Pastur denoising), `nil` otherwise.
    public let signalFactors: Int?
    /// `true` when the nearest-PSD repair changed the matrix.
    public let repaired: Bool

    /// Annualized volatilities `√Σᵢᵢ`.
    public var volatilities: [Double] { matrix.diagonalElements.map { Swift.max($0, 0).squareRoot() } }

    /// The nearest positive-semidefinite matrix (Higham 1988) with eigenvalues `≥ minimumEigenvalue`.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` for a negative floor.
    public func repairedToPositiveSemidefinite(minimumEigenvalue: Double = 0) throws -> CovarianceEstimate {
        let fixed: Matrix
        do { fixed = try matrix.nearestPositiveSemidefinite(minimumEigenvalue: minimumEigenvalue) } catch {
            throw PortfolioError.invalidArgument(operation: "CovarianceEstimate.repairedToPositiveSemidefinite",
                                                 message: "\(error)")
        }
        return CovarianceEstimate(assets: assets, assetClasses: assetClasses, matrix: fixed, method: method,
                                  shrinkage: shrinkage, signalFactors: signalFactors, repaired: true)
    }
}

/// A covariance estimator configured by hyperparameters, then fitted on returns.
///
/// Every method works on per-period returns and multiplies the result by
/// ``annualizationFactor`` (252 for daily data). With ``repairToPositiveSemidefinite`` the
/// result is projected on the PSD cone (Higham 1988) when its smallest eigenvalue is below
/// ``minimumEigenvalue``.
///
/// ```swift
/// let sigma = try CovarianceEstimator(method: .ledoitWolf(.identity)).fit(returns)
/// ```
public struct CovarianceEstimator: Sendable {
    /// The most assets ``fit(_:)`` accepts: checked before the `n × n` matrices are allocated
    /// (5 000 assets take 200 MB per matrix).
    public static let maximumAssets = 5_000

    /// The target of Ledoit–Wolf shrinkage.
    public enum ShrinkageTarget: Sendable, Hashable {
        /// `μ·I` with `μ = tr(S)/n`: the formula of scikit-learn's `LedoitWolf` (Ledoit and Wolf, 2004,
        /// "A well-conditioned estimator for large-dimensional covariance matrices", J. Multivar. Anal. 88).
        case identity
        /// The constant-correlation matrix `F = r̄·√(sᵢᵢsⱼⱼ)`, `Fᵢᵢ = sᵢᵢ` (Ledoit and Wolf, 2004,
        /// "Honey, I shrunk the sample covariance matrix", J. Portfolio Manag. 30).
        case constantCorrelation
    }

    /// How Marchenko–Pastur denoising chooses the noise variance `σ²` of the correlation spectrum.
    public enum NoiseVariance: Sendable, Hashable {
        /// A given `σ²` (1 for pure noise).
        case fixed(Double)
        /// Fit `σ²` by least squares between the Marchenko–Pastur density and a Gaussian kernel
        /// density of the eigenvalues with the given bandwidth (López de Prado uses 0.01).
        case fitted(bandwidth: Double)
    }

    /// The estimation method.
    public enum Method: Sendable, Hashable {
        /// The sample covariance with `ddof` degrees of freedom removed (1 = unbiased, as NumPy `cov`).
        case sample(ddof: Int)
        /// The exponentially weighted covariance of `Matrix.ewmaCovariance(decay:centering:)`.
        case ewma(EWMADecay, centering: EWMACentering)
        /// Ledoit–Wolf shrinkage of the maximum-likelihood (`1/T`) covariance toward `target`.
        case ledoitWolf(ShrinkageTarget)
        /// Oracle approximating shrinkage toward `μ·I` (Chen, Wiesel, Eldar and Hero, IEEE Trans.
        /// Signal Process. 58 (2010) 5016–5029), as scikit-learn's `OAS`.
        case oracleApproximating
        /// Marchenko–Pastur denoising of the sample correlation by the constant residual eigenvalue
        /// method: eigenvalues below `λ₊ = σ²(1 + √(n/T))²` are replaced by their average, then the
        /// matrix is rescaled to unit diagonal and back to covariance (López de Prado, *Machine
        /// Learning for Asset Managers*, 2020, §2).
        case marchenkoPasturDenoised(NoiseVariance)
        /// An estimate made by another ``CovarianceEstimating`` type, named by it; not fitted by
        /// ``CovarianceEstimator``.
        case custom(String)
    }

    /// The method.
    public var method: Method
    /// Periods per year. Default 252.
    public var annualizationFactor: Double
    /// Project the result onto the PSD cone when needed. Default `false`.
    public var repairToPositiveSemidefinite: Bool
    /// The eigenvalue floor of the repair (annualized units). Default 0.
    public var minimumEigenvalue: Double

    /// Creates an estimator.
    public init(method: Method = .sample(ddof: 1), annualizationFactor: Double = 252,
                repairToPositiveSemidefinite: Bool = false, minimumEigenvalue: Double = 0) {
        self.method = method
        self.annualizationFactor = annualizationFactor
        self.repairToPositiveSemidefinite = repairToPositiveSemidefinite
        self.minimumEigenvalue = minimumEigenvalue
    }

    /// Fits the estimator. Cost `O(T·n²)` (plus `O(n³)` for denoising and repair).
    ///
    /// - Throws: ``PortfolioError/insufficientData(operation:observations:required:)`` when `T` is
    ///   too small for the method, ``PortfolioError/invalidArgument(operation:message:)`` for bad
    ///   hyperparameters or a zero-variance asset (denoising works on correlations).
    public func fit(_ returns: ReturnObservations) throws -> CovarianceEstimate {
        let operation = "CovarianceEstimator.fit"
        let a = annualizationFactor
        guard a > 0, a.isFinite else {
            throw PortfolioError.invalidArgument(operation: operation, message: "annualization factor \(a) must be positive")
        }
        guard returns.assetCount <= CovarianceEstimator.maximumAssets else {
            throw PortfolioError.invalidArgument(
                operation: operation,
                message: "\(returns.assetCount) assets exceed the limit of \(CovarianceEstimator.maximumAssets) (an n × n covariance of 8n² bytes)")
        }
        let x = returns.values
        let t = x.rows
        var shrinkage: Double? = nil
        var factors: Int? = nil
        var s: Matrix
        do {
            switch method {
            case let .custom(name):
                throw PortfolioError.invalidArgument(operation: operation,
                                                     message: "method \(name) is computed by its own estimator, not by CovarianceEstimator")
            case let .sample(ddof):
                guard ddof >= 0, t - ddof > 0 else {
                    throw PortfolioError.insufficientData(operation: operation, observations: t, required: ddof + 1)
                }
                s = try x.covariance(ddof: ddof)
            case let .ewma(decay, centering):
                s = try x.ewmaCovariance(decay: decay, centering: centering)
            case .ledoitWolf(.identity):
                (s, shrinkage) = try Self.ledoitWolfIdentity(x)
            case .ledoitWolf(.constantCorrelation):
                (s, shrinkage) = try Self.ledoitWolfConstantCorrelation(x)
            case .oracleApproximating:
                (s, shrinkage) = try Self.oracleApproximating(x)
            case let .marchenkoPasturDenoised(noise):
                (s, factors) = try Self.denoised(x, noise: noise)
            }
        } catch let error as LinalgError {
            throw PortfolioError.invalidArgument(operation: operation, message: "\(error)")
        }
        s = s.scaled(by: a)
        s.symmetrize()
        var repaired = false
        if repairToPositiveSemidefinite {
            let smallest = try s.symmetricEigenvalues().first ?? 0
            if smallest < minimumEigenvalue {
                s = try s.nearestPositiveSemidefinite(minimumEigenvalue: minimumEigenvalue)
                repaired = true
            }
        }
        return CovarianceEstimate(assets: returns.assets, assetClasses: returns.assetClasses, matrix: s, method: method,
                                  shrinkage: shrinkage, signalFactors: factors, repaired: repaired)
    }

    /// The maximum-likelihood covariance `XᶜᵀXᶜ/T` and the centered data.
    static func mleCovariance(_ x: Matrix) throws -> (Matrix, Matrix) {
        let means = try x.columnMeans()
        var centered = x
        let (t, n) = (x.rows, x.columns)
        centered.withUnsafeMutableBufferPointer { p in
            for row in 0..<t {
                for j in 0..<n { p[row * n + j] -= means[j] }
            }
        }
        return (try x.covariance(ddof: 0), centered)
    }

    /// Ledoit–Wolf toward `μI`: `δ = min(β, d²)/d²` with `d² = ‖S − μI‖²_F/n` and
    /// `β = (Σₜ‖xₜ‖⁴/T − ‖S‖²_F)/(n·T)`.
    static func ledoitWolfIdentity(_ x: Matrix) throws -> (Matrix, Double) {
        let (s, centered) = try mleCovariance(x)
        let (t, n) = (Double(x.rows), x.columns)
        let mu = s.trace / Double(n)
        var frobenius = 0.0
        for v in s.elements { frobenius += v * v }
        var fourth = 0.0
        centered.withUnsafeBufferPointer { p in
            for row in 0..<x.rows {
                var norm2 = 0.0
                for j in 0..<n { norm2 += p[row * n + j] * p[row * n + j] }
                fourth += norm2 * norm2
            }
        }
        var d2 = frobenius - 2 * mu * s.trace + Double(n) * mu * mu
        d2 /= Double(n)
        var beta = (fourth / t - frobenius) / (Double(n) * t)
        beta = Swift.min(beta, d2)
        let delta = beta == 0 ? 0 : beta / d2
        var shrunk = s.scaled(by: 1 - delta)
        for i in 0..<n { shrunk[i, i] += delta * mu }
        return (shrunk, delta)
    }

    /// Ledoit–Wolf toward the constant-correlation target, with `S` the `1/T` covariance:
    /// `δ = clamp((π̂ − ρ̂)/(γ̂·T), 0, 1)` from the estimates of the "Honey" paper's appendix.
    static func ledoitWolfConstantCorrelation(_ x: Matrix) throws -> (Matrix, Double) {
        let (s, c) = try mleCovariance(x)
        let (t, n) = (x.rows, x.columns)
        guard n >= 2 else { return (s, 0) }
        let sd = s.diagonalElements.map { $0.squareRoot() }
        if let k = sd.firstIndex(where: { !($0 > 0) }) {
            throw PortfolioError.invalidArgument(operation: "CovarianceEstimator.fit",
                                                 message: "asset \(k) has zero variance; correlation target undefined")
        }
        var rBar = 0.0
        for i in 0..<n { for j in 0..<n where i != j { rBar += s[i, j] / (sd[i] * sd[j]) } }
        rBar /= Double(n * (n - 1))
        var f = Matrix(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n { f[i, j] = i == j ? s[i, i] : rBar * sd[i] * sd[j] } }
        // π̂ᵢⱼ = mean((xᵢxⱼ − sᵢⱼ)²) and ϑ̂ᵢᵢ,ᵢⱼ = mean((xᵢ² − sᵢᵢ)(xᵢxⱼ − sᵢⱼ)), by BLAS products.
        var c2 = c.map { $0 * $0 }
        let c3 = c.map { $0 * $0 * $0 }
        let tt = Double(t)
        let y2y2 = try c2.transposed().multiplied(by: c2)     // Σₜ xᵢ²xⱼ²
        let x3x = try c3.transposed().multiplied(by: c)        // Σₜ xᵢ³xⱼ
        c2 = Matrix(rows: 0, columns: 0)
        var piHat = 0.0, piDiagonal = 0.0, thetaTerm = 0.0
        for i in 0..<n {
            for j in 0..<n {
                let sij = s[i, j]
                let pij = y2y2[i, j] / tt - sij * sij
                piHat += pij
                if i == j {
                    piDiagonal += pij
                } else {
                    let theta = x3x[i, j] / tt - s[i, i] * sij
                    thetaTerm += sd[j] / sd[i] * theta
                }
            }
        }
        let rhoHat = piDiagonal + rBar * thetaTerm
        var gammaHat = 0.0
        for (a, b) in zip(s.elements, f.elements) { gammaHat += (a - b) * (a - b) }
        let kappa = gammaHat > 0 ? (piHat - rhoHat) / gammaHat : 0
        let delta = Swift.max(0, Swift.min(1, kappa / tt))
        return (s.scaled(by: 1 - delta) + f.scaled(by: delta), delta)
    }

    /// OAS: `ρ = min(1, (α + μ²)/((T + 1)(α − μ²/n)))`, `α = ‖S‖²_F/n²`, `μ = tr(S)/n` (scikit-learn ≥ 1.3).
    static func oracleApproximating(_ x: Matrix) throws -> (Matrix, Double) {
        let (s, _) = try mleCovariance(x)
        let (t, n) = (Double(x.rows), x.columns)
        let mu = s.trace / Double(n)
        var alpha = 0.0
        for v in s.elements { alpha += v * v }
        alpha /= Double(n * n)
        let numerator = alpha + mu * mu
        let denominator = (t + 1) * (alpha - mu * mu / Double(n))
        let rho = denominator == 0 ? 1 : Swift.min(numerator / denominator, 1)
        var shrunk = s.scaled(by: 1 - rho)
        for i in 0..<n { shrunk[i, i] += rho * mu }
        return (shrunk, rho)
    }

    /// The Marchenko–Pastur density of eigenvalues of a correlation of `T × n` noise with variance `σ²`.
    static func marchenkoPasturDensity(_ lambda: Double, variance: Double, ratio q: Double) -> Double {
        let lo = variance * Double.pow(1 - (1 / q).squareRoot(), 2)
        let hi = variance * Double.pow(1 + (1 / q).squareRoot(), 2)
        guard lambda > lo, lambda < hi else { return 0 }
        return q / (2 * Double.pi * variance * lambda) * ((hi - lambda) * (lambda - lo)).squareRoot()
    }

    /// Denoises the sample correlation (constant residual eigenvalue method).
    static func denoised(_ x: Matrix, noise: NoiseVariance) throws -> (Matrix, Int) {
        let operation = "CovarianceEstimator.fit (Marchenko–Pastur)"
        let (t, n) = (x.rows, x.columns)
        guard t > n else { throw PortfolioError.insufficientData(operation: operation, observations: t, required: n + 1) }
        let s = try x.covariance(ddof: 1)
        let correlation = try Matrix.correlation(fromCovariance: s)
        let eigen = try SymmetricEigendecomposition(correlation)
        let q = Double(t) / Double(n)
        let variance: Double
        switch noise {
        case let .fixed(value):
            guard value > 0, value.isFinite else {
                throw PortfolioError.invalidArgument(operation: operation, message: "noise variance \(value) must be positive")
            }
            variance = value
        case let .fitted(bandwidth):
            guard bandwidth > 0 else {
                throw PortfolioError.invalidArgument(operation: operation, message: "bandwidth \(bandwidth) must be positive")
            }
            variance = fitNoiseVariance(eigen.eigenvalues, ratio: q, bandwidth: bandwidth)
        }
        let edge = variance * Double.pow(1 + (1 / q).squareRoot(), 2)
        let signal = eigen.eigenvalues.filter { $0 > edge }.count
        let noiseCount = n - signal
        var mapped = eigen.eigenvalues
        if noiseCount > 0 {
            let average = mapped[0..<noiseCount].reduce(0, +) / Double(noiseCount)
            for k in 0..<noiseCount { mapped[k] = average }
        }
        // Rebuild V·diag(mapped)·Vᵀ (eigenvalues are ascending, so the noise is the head).
        var scaled = eigen.eigenvectors
        for i in 0..<n { for j in 0..<n { scaled[i, j] *= mapped[j] } }
        var denoised = try scaled.multiplied(by: eigen.eigenvectors.transposed())
        denoised.symmetrize()
        let d = denoised.diagonalElements.map { 1 / $0.squareRoot() }
        let sd = s.diagonalElements.map { $0.squareRoot() }
        var covariance = Matrix(rows: n, columns: n)
        for i in 0..<n {
            for j in 0..<n { covariance[i, j] = (i == j ? 1 : denoised[i, j] * d[i] * d[j]) * sd[i] * sd[j] }
        }
        return (covariance, signal)
    }

    /// Golden-section search of `σ² ∈ [10⁻⁵, 1]` minimizing the squared distance between the
    /// Marchenko–Pastur density and a Gaussian kernel density of `eigenvalues`, on 1000 points.
    static func fitNoiseVariance(_ eigenvalues: [Double], ratio q: Double, bandwidth: Double) -> Double {
        func loss(_ variance: Double) -> Double {
            let lo = variance * Double.pow(1 - (1 / q).squareRoot(), 2)
            let hi = variance * Double.pow(1 + (1 / q).squareRoot(), 2)
            var sse = 0.0
            let points = 1000
            for k in 0..<points {
                let lambda = lo + (hi - lo) * Double(k) / Double(points - 1)
                let theory = marchenkoPasturDensity(lambda, variance: variance, ratio: q)
                var kde = 0.0
                for e in eigenvalues {
                    let z = (lambda - e) / bandwidth
                    kde += Double.exp(-0.5 * z * z)
                }
                kde /= Double(eigenvalues.count) * bandwidth * (2 * Double.pi).squareRoot()
                sse += (theory - kde) * (theory - kde)
            }
            return sse
        }
        var (a, b) = (1e-5, 1.0)
        let ratio = (5.0.squareRoot() - 1) / 2
        var c = b - ratio * (b - a), d = a + ratio * (b - a)
        var fc = loss(c), fd = loss(d)
        for _ in 0..<60 {
            if fc < fd { b = d; d = c; fd = fc; c = b - ratio * (b - a); fc = loss(c) } else {
                a = c; c = d; fc = fd; d = a + ratio * (b - a); fd = loss(d)
            }
        }
        return 0.5 * (a + b)
    }
}

extension CovarianceEstimate {
    /// An estimate made by a user's own ``CovarianceEstimating`` type: an annualized, symmetric,
    /// finite covariance of `assets`, recorded as method ``CovarianceEstimator/Method/custom(_:)``.
    ///
    /// - Throws: ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` for a matrix
    ///   that is not `n × n` or classes of another count, ``PortfolioError/nonFinite(operation:what:asset:observation:)``
    ///   and ``PortfolioError/notSymmetric(operation:row:column:)``.
    public init(assets: [String], assetClasses: [AssetClass]? = nil, matrix: Matrix, method name: String) throws {
        let operation = "CovarianceEstimate"
        let n = assets.count
        guard matrix.rows == n, matrix.columns == n else {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "assets", lhsCount: n,
                                                   rhs: "matrix rows×columns \(matrix.rows)×\(matrix.columns)", rhsCount: matrix.rows)
        }
        let classes = assetClasses ?? Array(repeating: .unclassified, count: n)
        guard classes.count == n else {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "assets", lhsCount: n, rhs: "asset classes", rhsCount: classes.count)
        }
        for i in 0..<n {
            for j in 0..<n {
                guard matrix[i, j].isFinite else {
                    throw PortfolioError.nonFinite(operation: operation, what: "covariance", asset: assets[i], observation: j)
                }
                guard abs(matrix[i, j] - matrix[j, i]) <= 1e-12 * Swift.max(1, abs(matrix[i, j])) else {
                    throw PortfolioError.notSymmetric(operation: operation, row: assets[i], column: assets[j])
                }
            }
        }
        self.init(assets: assets, assetClasses: classes, matrix: matrix, method: .custom(name), shrinkage: nil,
                  signalFactors: nil, repaired: false)
    }
}
