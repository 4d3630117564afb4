import Foundation
import Linalg

/// Draws the mini-batches of online stochastic batch learning (OSBL; Jiang, Xu & Liang 2017, §5.3).
///
/// A batch is `n_b` consecutive periods `t_b … t_b + n_b − 1`. Its start is drawn from the geometric
/// distribution of the paper's eq. 26, `P(t_b) = β(1 − β)^(t − t_b − n_b)`, truncated to the starts
/// that fit: the newest batch (ending at the newest trainable period) is the most likely, and older
/// ones decay by `1 − β` per period. `β → 0` gives the uniform distribution. The truncated law is
/// sampled exactly by inverting its distribution function, which draws from the same distribution as
/// redrawing an untruncated geometric variate until it fits (the reference implementation's way),
/// with one uniform draw per batch.
public struct GeometricBatchSampler: Sendable, Hashable, Codable {
    /// Periods per batch, `n_b` (50 in the paper's Table 2).
    public let batchSize: Int
    /// The sample bias `β ∈ [0, 1)` (`5·10⁻⁵` in Table 2; 0 is uniform).
    public let bias: Double

    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a batch size
    ///   below 1 or a bias outside `[0, 1)`.
    public init(batchSize: Int = 50, bias: Double = 5e-5) throws {
        try require(batchSize >= 1, "GeometricBatchSampler", "batchSize", "\(batchSize) must be at least 1")
        try require(bias >= 0 && bias < 1, "GeometricBatchSampler", "bias", "\(bias) must be in [0, 1)")
        self.batchSize = batchSize
        self.bias = bias
    }

    /// The starts a batch can take when periods `first…last` are trainable: `first…last − n_b + 1`.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` when fewer than
    ///   `n_b` periods are trainable.
    public func admissibleStarts(first: Int, last: Int) throws -> ClosedRange<Int> {
        try require(last - first + 1 >= batchSize, "GeometricBatchSampler", "periods",
                    "\(first)…\(last) hold \(Swift.max(0, last - first + 1)) trainable periods, fewer than the batch size \(batchSize)")
        return first...(last - batchSize + 1)
    }

    /// One batch start in ``admissibleStarts(first:last:)``, drawn from eq. 26 with one uniform
    /// variate of `generator`.
    ///
    /// With `K + 1` admissible starts and `k = newest start − t_b`, `P(k) ∝ (1 − β)^k`; the inverse
    /// distribution function is `k = ⌊log(1 − u·(1 − (1 − β)^(K+1))) / log(1 − β)⌋`, evaluated with
    /// `log1p`/`expm1` so that `β = 5·10⁻⁵` keeps full precision.
    ///
    /// - Throws: as ``admissibleStarts(first:last:)``.
    public func nextStart(first: Int, last: Int, using generator: inout Xoshiro256StarStar) throws -> Int {
        let starts = try admissibleStarts(first: first, last: last)
        let span = starts.count                       // K + 1
        let u = generator.nextUniform()               // [0, 1)
        let offset: Int
        if bias == 0 {
            offset = Swift.min(Int(u * Double(span)), span - 1)
        } else {
            let logKeep = log1p(-bias)                // log(1 − β) < 0
            let mass = -expm1(Double(span) * logKeep) // 1 − (1 − β)^(K+1)
            let k = (log1p(-u * mass) / logKeep).rounded(.down)
            offset = Swift.min(Swift.max(Int(k), 0), span - 1)
        }
        return starts.upperBound - offset
    }
}
