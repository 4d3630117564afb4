import Autodiff
import Linalg

/// Multi-head scaled dot-product attention, as `torch.nn.MultiheadAttention` (Vaswani et al. 2017)
/// with `kdim = vdim = embedDimension` and no attention dropout.
///
/// Parameters in PyTorch's layout: `in_proj_weight` `[3E, E]` (query, key and value projections
/// stacked), `in_proj_bias` `[3E]`, and the output projection `out_proj.weight` `[E, E]`,
/// `out_proj.bias` `[E]`. Each head attends with `softmax(q·kᵀ/√d + mask)·v`, `d = E/heads`.
///
/// The forward pass and the first-order backward pass run as one fused operation (one GEMM per
/// projection, per-head GEMMs reading the projections in place and accumulating the scores onto the
/// mask, one softmax pass); higher-order gradients differentiate the same computation in `Tensor` operations.
///
/// - Note: `batchFirst` defaults to `true` here (PyTorch's default is `false`).
public struct MultiheadAttention<Scalar: TensorScalar>: Module {
    /// `[3E, E]`: rows `0..<E` project the query, `E..<2E` the key, `2E..<3E` the value.
    public var inProjectionWeight: Tensor<Scalar>
    /// `[3E]`, or `nil` without biases.
    public var inProjectionBias: Tensor<Scalar>?
    /// The output projection `out_proj`.
    public var outProjection: Linear<Scalar>
    /// Model width `E`.
    public let embedDimension: Int
    /// Number of heads (divides `E`).
    public let headCount: Int
    /// Inputs and outputs are `[batch, sequence, E]` when `true`, `[sequence, batch, E]` otherwise.
    public let batchFirst: Bool
    /// Mode flags.
    public var settings = ModuleSettings()

    /// An attention layer with PyTorch's initialization: Xavier-uniform `in_proj_weight`, zero biases,
    /// and `out_proj.weight` with `Linear`'s default (drawn after `in_proj_weight`).
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` unless `headCount` divides a positive `embedDimension`.
    public init(embedDimension: Int, headCount: Int, bias: Bool = true, batchFirst: Bool = true,
                using generator: inout Xoshiro256StarStar) throws {
        guard embedDimension > 0, headCount > 0, embedDimension % headCount == 0 else {
            throw NNError.invalidConfiguration(layer: "MultiheadAttention", reason: "\(headCount) heads do not divide embedding width \(embedDimension)")
        }
        (self.embedDimension, self.headCount, self.batchFirst) = (embedDimension, headCount, batchFirst)
        inProjectionWeight = Initializer.xavierUniform(gain: 1).make([3 * embedDimension, embedDimension], using: &generator)
        inProjectionBias = bias ? .zeros([3 * embedDimension]) : nil
        outProjection = try Linear(inFeatures: embedDimension, outFeatures: embedDimension, bias: bias, using: &generator)
        outProjection.bias = outProjection.bias.map { .zeros($0.shape) }
    }

    /// Presents `in_proj_weight`, `in_proj_bias`, then `out_proj.weight`, `out_proj.bias`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.parameter("in_proj_weight", &inProjectionWeight)
        visitor.parameter("in_proj_bias", &inProjectionBias)
        visitor.child("out_proj", &outProjection)
    }

    /// Attends from `query` to `key`/`value`.
    ///
    /// - Parameters:
    ///   - query: `[B, L, E]` (batch-first) or `[L, B, E]`.
    ///   - key: `[B, S, E]` or `[S, B, E]`.
    ///   - value: same shape as `key`.
    ///   - keyPaddingMask: `[B][S]`, `true` where a key is padding and must be ignored (PyTorch's boolean
    ///     `key_padding_mask`).
    ///   - attentionMask: an additive mask `[L, S]` or `[B·heads, L, S]` (PyTorch's float `attn_mask`;
    ///     use `-infinity` to forbid a position).
    ///   - causal: forbid each query position `i` from attending to keys `j > i` (requires `L == S` to be meaningful).
    /// - Returns: the attended `output` (same layout as `query`) and the attention `weights`
    ///   `[B, L, S]` averaged over heads (PyTorch's `average_attn_weights=True`). A query whose keys are all
    ///   masked gets NaN, as in PyTorch.
    public func callAsFunction(query: Tensor<Scalar>, key: Tensor<Scalar>, value: Tensor<Scalar>,
                               keyPaddingMask: [[Bool]]? = nil, attentionMask: Tensor<Scalar>? = nil,
                               causal: Bool = false) -> (output: Tensor<Scalar>, weights: Tensor<Scalar>) {
        precondition(key.rank == 3 && key.shape == value.shape && key.shape[2] == embedDimension,
                     "MultiheadAttention: query \(query.shape), key \(key.shape), value \(value.shape) do not have width \(embedDimension)")
        return attend(query, key: key, value: value, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask,
                      causal: causal)
    }

    /// Self-attention: `query`, `key` and `value` are all `input`.
    public func callAsFunction(_ input: Tensor<Scalar>, keyPaddingMask: [[Bool]]? = nil,
                               attentionMask: Tensor<Scalar>? = nil, causal: Bool = false)
        -> (output: Tensor<Scalar>, weights: Tensor<Scalar>) {
        attend(input, key: nil, value: nil, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, causal: causal)
    }

    /// Validates the shapes, combines the masks and runs the fused operation (``multiheadAttention(_:)``);
    /// `key` and `value` are `nil` for self-attention (one `3E`-wide input projection).
    private func attend(_ query: Tensor<Scalar>, key: Tensor<Scalar>?, value: Tensor<Scalar>?, keyPaddingMask: [[Bool]]?,
                        attentionMask: Tensor<Scalar>?, causal: Bool) -> (output: Tensor<Scalar>, weights: Tensor<Scalar>) {
        let results = multiheadAttention(arguments(query, key: key, value: value, keyPaddingMask: keyPaddingMask,
                                                   attentionMask: attentionMask, causal: causal))
        return (results[0], results[1])
    }

    /// The arguments of the attention operation for these inputs and this layer's parameters, with the
    /// masks combined; traps unless the shapes fit. `key` and `value` are `nil` for self-attention.
    func arguments(_ query: Tensor<Scalar>, key: Tensor<Scalar>?, value: Tensor<Scalar>?, keyPaddingMask: [[Bool]]?,
                   attentionMask: Tensor<Scalar>?, causal: Bool) -> AttentionArguments<Scalar> {
        let source = key ?? query
        precondition(query.rank == 3 && query.shape[2] == embedDimension,
                     "MultiheadAttention: query \(query.shape), key \(source.shape) do not have width \(embedDimension)")
        let timeAxis = batchFirst ? 1 : 0
        let (batch, targetLength, sourceLength) = (query.shape[1 - timeAxis], query.shape[timeAxis], source.shape[timeAxis])
        precondition(source.shape[1 - timeAxis] == batch,
                     "MultiheadAttention: query batch \(batch) differs from key batch \(source.shape[1 - timeAxis])")
        precondition(batch > 0 && targetLength > 0 && sourceLength > 0,
                     "MultiheadAttention: query \(query.shape) or key \(source.shape) is empty")
        let mask = additiveMask(batch: batch, targetLength: targetLength, sourceLength: sourceLength,
                                keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, causal: causal)
        return AttentionArguments(
            query: query, key: key, value: value, inProjectionWeight: inProjectionWeight, inProjectionBias: inProjectionBias,
            outProjectionWeight: outProjection.weight, outProjectionBias: outProjection.bias, headCount: headCount,
            batchFirst: batchFirst, mask: mask)
    }

    /// The masks combined into one additive constant broadcastable to `[B, heads, L, S]`, or `nil` without masks.
    private func additiveMask(batch: Int, targetLength: Int, sourceLength: Int, keyPaddingMask: [[Bool]]?,
                              attentionMask: Tensor<Scalar>?, causal: Bool) -> Tensor<Scalar>? {
        var mask: Tensor<Scalar>? = nil
        if let attentionMask {
            let m = attentionMask.detached()
            if m.shape.dimensions == [targetLength, sourceLength] {
                mask = m
            } else {
                precondition(m.shape.dimensions == [batch * headCount, targetLength, sourceLength],
                             "MultiheadAttention: attention mask \(m.shape) is neither [L, S] nor [B·heads, L, S]")
                mask = m.reshaped([batch, headCount, targetLength, sourceLength])
            }
        }
        if causal {
            var scalars = [Scalar](repeating: 0, count: targetLength * sourceLength)
            for i in 0..<targetLength { for j in (i + 1)..<max(i + 1, sourceLength) { scalars[i * sourceLength + j] = -.infinity } }
            let c = try! Tensor(shape: [targetLength, sourceLength], scalars: scalars)
            mask = mask.map { $0 + c } ?? c
        }
        if let keyPaddingMask {
            precondition(keyPaddingMask.count == batch && keyPaddingMask.allSatisfy { $0.count == sourceLength },
                         "MultiheadAttention: key padding mask is not [\(batch)][\(sourceLength)]")
            let scalars = keyPaddingMask.flatMap { row in row.map { $0 ? -Scalar.infinity : 0 } }
            let p = try! Tensor(shape: [batch, 1, 1, sourceLength], scalars: scalars)
            mask = mask.map { $0 + p } ?? p
        }
        return mask
    }
}
