import Linalg
import RealModule

/// A fitted probabilistic model that can score data, so BIC and AIC are defined once for all of them.
public protocol LikelihoodModel {
    /// The number of free parameters `p` counted by the information criteria.
    var parameterCount: Int { get }
    /// The total log-likelihood `log L` of `data` (observations in rows).
    func logLikelihood(_ data: Matrix) throws -> Double
}

extension LikelihoodModel {
    /// Bayesian information criterion `−2 log L + p ln n` (Schwarz 1978); lower is better.
    ///
    /// - Throws: as ``logLikelihood(_:)``.
    public func bic(_ data: Matrix) throws -> Double {
        try -2 * logLikelihood(data) + Double(parameterCount) * Double.log(Double(data.rows))
    }

    /// Akaike information criterion `−2 log L + 2p` (Akaike 1974); lower is better.
    ///
    /// - Throws: as ``logLikelihood(_:)``.
    public func aic(_ data: Matrix) throws -> Double {
        try -2 * logLikelihood(data) + 2 * Double(parameterCount)
    }
}

extension GaussianHMM: LikelihoodModel {
    /// The total log-likelihood of `data` as one sequence (``logLikelihood(_:lengths:)`` without lengths).
    ///
    /// - Throws: as ``logLikelihood(_:lengths:)``.
    public func logLikelihood(_ data: Matrix) throws -> Double {
        try logLikelihood(data, lengths: nil)
    }
}
extension GaussianMixture: LikelihoodModel {}
