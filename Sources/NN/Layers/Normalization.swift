import Autodiff
import Linalg

/// Layer normalization over the trailing axes, as `torch.nn.LayerNorm` (Ba, Kiros & Hinton 2016).
///
/// `y = (x − mean)/√(var + ε)·weight + bias`, with the mean and the biased variance taken over the
/// last `normalizedShape.count` axes of `x`, whose extents must equal `normalizedShape`.
public struct LayerNorm<Scalar: TensorScalar>: UnaryModule {
    /// The extents of the normalized trailing axes.
    public let normalizedShape: [Int]
    /// Added to the variance for stability (PyTorch's default `1e-5`).
    public let epsilon: Double
    /// Scale of shape `normalizedShape` (ones at construction), or `nil` without an affine transform.
    public var weight: Tensor<Scalar>?
    /// Shift of shape `normalizedShape` (zeros at construction), or `nil`.
    public var bias: Tensor<Scalar>?
    /// Mode flags.
    public var settings = ModuleSettings()

    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for an empty or non-positive shape or a negative `epsilon`.
    public init(normalizedShape: [Int], epsilon: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) throws {
        guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 > 0 }), epsilon >= 0 else {
            throw NNError.invalidConfiguration(layer: "LayerNorm", reason: "shape \(normalizedShape) and epsilon \(epsilon) are invalid")
        }
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        weight = elementwiseAffine ? .ones(TensorShape(normalizedShape)) : nil
        self.bias = elementwiseAffine && bias ? .zeros(TensorShape(normalizedShape)) : nil
    }

    /// Presents `weight` and `bias`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
    }

    /// The normalized input, same shape as `input`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let k = normalizedShape.count
        precondition(input.rank >= k && Array(input.shape.dimensions.suffix(k)) == normalizedShape,
                     "LayerNorm: input of shape \(input.shape) does not end in \(normalizedShape)")
        let axes = Array((input.rank - k)..<input.rank)
        let centered = input - input.mean(alongAxes: axes, keepingDimensions: true)
        let variance = (centered * centered).mean(alongAxes: axes, keepingDimensions: true)
        var y = centered / (variance + Scalar(epsilon)).sqrt()
        if let weight { y = y * weight }
        if let bias { y = y + bias }
        return y
    }
}

/// Batch normalization over `[batch, channels]` or `[batch, channels, length]`, as `torch.nn.BatchNorm1d`
/// (Ioffe & Szegedy 2015).
///
/// Training mode normalizes with the batch mean and biased variance and updates the running
/// statistics: `running ← (1 − m)·running + m·statistic`, with the unbiased variance for
/// `running_var` and `m = momentum`, or `m = 1/num_batches_tracked` (a cumulative average) when
/// `momentum` is `nil`. Eval mode normalizes with the running statistics.
public struct BatchNorm1d<Scalar: TensorScalar>: Module {
    /// Number of channels `C`.
    public let numFeatures: Int
    /// Added to the variance (PyTorch's default `1e-5`).
    public let epsilon: Double
    /// Weight of the newest batch in the running statistics, or `nil` for a cumulative average.
    public let momentum: Double?
    /// Scale `[C]` (ones), or `nil` without an affine transform.
    public var weight: Tensor<Scalar>?
    /// Shift `[C]` (zeros), or `nil`.
    public var bias: Tensor<Scalar>?
    /// Running mean `[C]` (zeros), or `nil` when running statistics are not tracked.
    public var runningMean: Tensor<Scalar>?
    /// Running variance `[C]` (ones), or `nil`.
    public var runningVariance: Tensor<Scalar>?
    /// The number of training batches seen, a rank-0 tensor (`num_batches_tracked`, stored as I64).
    public var numBatchesTracked: Tensor<Scalar>?
    /// Mode flags.
    public var settings = ModuleSettings()

    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for a non-positive `numFeatures`,
    ///   a negative `epsilon` or a momentum outside `[0, 1]`.
    public init(numFeatures: Int, epsilon: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStatistics: Bool = true) throws {
        guard numFeatures > 0, epsilon >= 0, (0...1).contains(momentum ?? 0) else {
            throw NNError.invalidConfiguration(layer: "BatchNorm1d", reason: "numFeatures \(numFeatures), epsilon \(epsilon), momentum \(String(describing: momentum)) are invalid")
        }
        (self.numFeatures, self.epsilon, self.momentum) = (numFeatures, epsilon, momentum)
        let c = TensorShape([numFeatures])
        weight = affine ? .ones(c) : nil
        bias = affine ? .zeros(c) : nil
        if trackRunningStatistics {
            (runningMean, runningVariance, numBatchesTracked) = (.zeros(c), .ones(c), Tensor(0))
        }
    }

    /// Presents `weight`, `bias`, then the buffers `running_mean`, `running_var`, `num_batches_tracked`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
        if var mean = runningMean, var variance = runningVariance, var count = numBatchesTracked {
            visitor.buffer("running_mean", &mean)
            visitor.buffer("running_var", &variance)
            visitor.buffer("num_batches_tracked", &count, kind: .integerBuffer)
            (runningMean, runningVariance, numBatchesTracked) = (mean, variance, count)
        }
    }

    /// Normalizes `input` (`[N, C]` or `[N, C, L]`); in training mode also updates the running statistics.
    public mutating func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let (output, batchMean, batchVariance) = forward(input)
        if settings.isTraining, let batchMean, let batchVariance {
            updateRunningStatistics(mean: batchMean, variance: batchVariance, count: input.scalarCount / numFeatures)
        }
        return output
    }

    /// The same normalization without touching the running statistics: batch statistics in training
    /// mode (the "transductive" batch norm of MAML, Finn et al. 2017), the running ones in eval mode.
    /// Non-mutating, so a model holding this layer can sit inside a MetaLearn task loss.
    public func normalized(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        forward(input).output
    }

    /// The output, and the batch mean and variance when they were used.
    private func forward(_ input: Tensor<Scalar>) -> (output: Tensor<Scalar>, mean: Tensor<Scalar>?, variance: Tensor<Scalar>?) {
        precondition((input.rank == 2 || input.rank == 3) && input.shape[1] == numFeatures,
                     "BatchNorm1d: input of shape \(input.shape) does not have \(numFeatures) channels on axis 1")
        let axes = input.rank == 2 ? [0] : [0, 2]
        let channelShape: [Int] = input.rank == 2 ? [numFeatures] : [numFeatures, 1]
        let centered: Tensor<Scalar>, variance: Tensor<Scalar>
        var batchMean: Tensor<Scalar>?
        if settings.isTraining || runningMean == nil {
            let mean = input.mean(alongAxes: axes, keepingDimensions: true)
            centered = input - mean
            variance = (centered * centered).mean(alongAxes: axes, keepingDimensions: true)
            batchMean = mean
        } else {
            centered = input - runningMean!.reshaped(channelShape)
            variance = runningVariance!.reshaped(channelShape)
        }
        var y = centered / (variance + Scalar(epsilon)).sqrt()
        if let weight { y = y * weight.reshaped(channelShape) }
        if let bias { y = y + bias.reshaped(channelShape) }
        return (y, batchMean, batchMean == nil ? nil : variance)
    }

    private mutating func updateRunningStatistics(mean: Tensor<Scalar>, variance: Tensor<Scalar>, count: Int) {
        guard let runningMean, let runningVariance, let numBatchesTracked else { return }
        let batches = numBatchesTracked.scalar + 1
        let m = Scalar(momentum ?? 1 / Double(batches))
        let unbiased = Scalar(count) / Scalar(Swift.max(count - 1, 1))
        withoutGradients {
            self.runningMean = (1 - m) * runningMean + m * mean.detached().reshaped([numFeatures])
            self.runningVariance = (1 - m) * runningVariance + (m * unbiased) * variance.detached().reshaped([numFeatures])
        }
        self.numBatchesTracked = Tensor(batches)
    }
}

/// Dropout, as `torch.nn.Dropout` (Srivastava et al. 2014): in training mode each element is zeroed
/// with probability `p` and the survivors are scaled by `1/(1 − p)`; in eval mode it is the identity.
///
/// The mask comes from the generator passed to each call, one draw per element (`u < 1 − p` keeps),
/// so results are reproducible from a seed (not PyTorch's bits).
public struct Dropout<Scalar: TensorScalar>: Module {
    /// The probability of zeroing an element.
    public let probability: Double
    /// Mode flags.
    public var settings = ModuleSettings()

    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` unless `0 ≤ probability ≤ 1`.
    public init(probability: Double = 0.5) throws {
        guard (0...1).contains(probability) else {
            throw NNError.invalidConfiguration(layer: "Dropout", reason: "probability \(probability) is outside [0, 1]")
        }
        self.probability = probability
    }

    /// No parameters or buffers.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {}

    /// `input` with dropout applied in training mode (drawing from `generator`), unchanged in eval mode.
    public func callAsFunction(_ input: Tensor<Scalar>, using generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
        guard settings.isTraining, probability > 0 else { return input }
        let keep = Tensor<Scalar>.uniform(input.shape, using: &generator) .< Scalar(1 - probability)
        let scale = probability < 1 ? Scalar(1 / (1 - probability)) : 0
        return input * (keep * scale)
    }
}
