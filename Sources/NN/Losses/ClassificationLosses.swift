import Autodiff

/// Cross-entropy of logits against class indices, as `torch.nn.functional.cross_entropy`.
///
/// Per target: `−(1 − ε)·log pₜ − (ε/C)·Σ_c log p_c` with `p = softmax(logits)` over the class axis,
/// `t` the target class and `ε` the label smoothing (Szegedy et al., "Rethinking the Inception
/// architecture", CVPR 2016). The log-softmax is computed stably.
///
/// - Parameters:
///   - logits: `[C]`, `[N, C]` or `[N, C, d₁, …]` (classes on axis 1, or axis 0 for rank 1).
///   - classIndices: the logits' shape without the class axis (`[]`, `[N]`, `[N, d₁, …]`).
///   - ignoreIndex: targets equal to it contribute nothing and do not count in the mean (PyTorch's
///     `ignore_index`, whose default −100 must be passed explicitly here; `nil` ignores nothing).
///   - labelSmoothing: `ε ∈ [0, 1]` (default 0).
///   - reduction: `.mean` over non-ignored targets (default), `.sum`, or `.none` (shaped like the targets).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)``,
///   ``LossError/rankMismatch(loss:argument:expected:actual:)`` for rank-0 logits,
///   ``LossError/classIndexOutOfRange(loss:position:index:classCount:)``,
///   ``LossError/allTargetsIgnored(loss:)`` for a mean with no target left, and
///   ``LossError/invalidOption(loss:name:value:requirement:)`` for `ε` outside `[0, 1]`.
public func crossEntropyLoss<Scalar>(logits: Tensor<Scalar>, classIndices: TensorIndices, ignoreIndex: Int? = nil,
                                     labelSmoothing: Double = 0,
                                     reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    let name = "crossEntropyLoss"
    try requireOption(labelSmoothing >= 0 && labelSmoothing <= 1, name, "labelSmoothing", labelSmoothing,
                      "must be in [0, 1]")
    let targets = try ClassTargets(logits, classIndices, ignoreIndex: ignoreIndex, loss: name, reduction: reduction)
    let logProbabilities = logits.logSoftmax(alongAxis: targets.classAxis)
    var perTarget = targets.negativePicked(logProbabilities)
    if labelSmoothing > 0 {
        let classCount = logits.shape[targets.classAxis]
        let smooth = -logProbabilities.sum(alongAxis: targets.classAxis) * targets.mask
        perTarget = Scalar(1 - labelSmoothing) * perTarget + Scalar(labelSmoothing / Double(classCount)) * smooth
    }
    return targets.reduce(perTarget, reduction)
}

/// ``crossEntropyLoss(logits:classIndices:ignoreIndex:labelSmoothing:reduction:)-(_,TensorIndices,_,_,_)`` for
/// `[N, C]` logits and one class index per row (the other arguments are the same).
public func crossEntropyLoss<Scalar>(logits: Tensor<Scalar>, classIndices: [Int], ignoreIndex: Int? = nil,
                                     labelSmoothing: Double = 0,
                                     reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    try crossEntropyLoss(logits: logits, classIndices: TensorIndices(shape: [classIndices.count], values: classIndices),
                         ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing, reduction: reduction)
}

/// Cross-entropy of logits against class probabilities ("soft" targets), as
/// `torch.nn.functional.cross_entropy` with a floating-point target.
///
/// Per sample: `−Σ_c t′_c·log p_c` with `t′ = (1 − ε)·t + ε/C`. The mean divides by the number of
/// samples (elements of the logits divided by `C`).
///
/// - Parameters:
///   - logits: `[C]`, `[N, C]` or `[N, C, d₁, …]` (classes on axis 1, or axis 0 for rank 1).
///   - targetProbabilities: the logits' shape; each sample's entries are probabilities (not checked,
///     as in PyTorch).
///   - labelSmoothing: `ε ∈ [0, 1]`.
///   - reduction: `.mean` over samples (default), `.sum`, or `.none` (the logits' shape without the class axis).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)``,
///   ``LossError/rankMismatch(loss:argument:expected:actual:)`` and
///   ``LossError/invalidOption(loss:name:value:requirement:)``.
public func crossEntropyLoss<Scalar>(logits: Tensor<Scalar>, targetProbabilities: Tensor<Scalar>,
                                     labelSmoothing: Double = 0,
                                     reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    let name = "crossEntropyLoss"
    try requireOption(labelSmoothing >= 0 && labelSmoothing <= 1, name, "labelSmoothing", labelSmoothing,
                      "must be in [0, 1]")
    guard logits.rank >= 1 else {
        throw LossError.rankMismatch(loss: name, argument: "logits", expected: "≥ 1", actual: 0)
    }
    try requireShape(targetProbabilities, logits.shape, name, "targetProbabilities")
    let classAxis = logits.rank == 1 ? 0 : 1
    let classCount = logits.shape[classAxis]
    var t = targetProbabilities
    if labelSmoothing > 0 {
        t = Scalar(1 - labelSmoothing) * t + Scalar(labelSmoothing / Double(classCount))
    }
    return (-(logits.logSoftmax(alongAxis: classAxis) * t).sum(alongAxis: classAxis)).reduced(reduction)
}

/// The negative log-likelihood of log-probabilities at class indices, as `torch.nn.functional.nll_loss`:
/// `−log p_t` per target.
///
/// Shapes, `ignoreIndex`, reductions and errors are those of
/// ``crossEntropyLoss(logits:classIndices:ignoreIndex:labelSmoothing:reduction:)-(_,TensorIndices,_,_,_)``; the input is
/// already log-probabilities (e.g. from `logSoftmax`).
public func negativeLogLikelihoodLoss<Scalar>(logProbabilities: Tensor<Scalar>, classIndices: TensorIndices,
                                              ignoreIndex: Int? = nil,
                                              reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    let targets = try ClassTargets(logProbabilities, classIndices, ignoreIndex: ignoreIndex,
                                   loss: "negativeLogLikelihoodLoss", reduction: reduction)
    return targets.reduce(targets.negativePicked(logProbabilities), reduction)
}

/// Binary cross-entropy of logits, as `torch.nn.functional.binary_cross_entropy_with_logits`.
///
/// Per element: `−w_p·t·log σ(x) − (1 − t)·log(1 − σ(x))`, computed stably as
/// `(1 − t)·x + (1 + (w_p − 1)·t)·softplus(−x)`.
///
/// - Parameters:
///   - logits: `x`, any shape.
///   - targets: `t ∈ [0, 1]`, the shape of `logits`.
///   - positiveWeight: `w_p`, the weight of positive examples, broadcast against the logits
///     (usually one per class, shape `[C]` along the last axis); `nil` for 1.
///   - reduction: `.mean` (default), `.sum` or `.none` (shaped like the logits).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)`` when the targets' shape differs
///   or the positive weight does not broadcast to the logits' shape.
public func binaryCrossEntropyWithLogitsLoss<Scalar>(logits: Tensor<Scalar>, targets: Tensor<Scalar>,
                                                     positiveWeight: Tensor<Scalar>? = nil,
                                                     reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    let name = "binaryCrossEntropyWithLogitsLoss"
    try requireShape(targets, logits.shape, name, "targets")
    let softplusOfNegative = (-logits).softplus()
    var weighted = softplusOfNegative
    if let positiveWeight {
        guard TensorShape.broadcast(positiveWeight.shape, logits.shape) == logits.shape else {
            throw LossError.shapeMismatch(loss: name, argument: "positiveWeight", expected: logits.shape.dimensions,
                                          actual: positiveWeight.shape.dimensions)
        }
        weighted = ((positiveWeight - 1) * targets + 1) * softplusOfNegative
    }
    return ((1 - targets) * logits + weighted).reduced(reduction)
}

/// Validated class-index targets and the constants derived from them.
private struct ClassTargets<Scalar: TensorScalar> {
    let classAxis: Int
    /// Indices with the class axis kept as extent 1 (ignored targets replaced by class 0), for `gathering`.
    let gatherIndices: TensorIndices
    /// 1 for a counted target, 0 for an ignored one; shaped like the targets.
    let mask: Tensor<Scalar>
    let countedTargets: Int
    let hasIgnored: Bool

    init(_ input: Tensor<Scalar>, _ indices: TensorIndices, ignoreIndex: Int?, loss: String,
         reduction: LossReduction) throws {
        guard input.rank >= 1 else {
            throw LossError.rankMismatch(loss: loss, argument: "logits", expected: "≥ 1", actual: 0)
        }
        classAxis = input.rank == 1 ? 0 : 1
        var targetShape = input.shape.dimensions
        let classCount = targetShape.remove(at: classAxis)
        guard indices.shape.dimensions == targetShape else {
            throw LossError.shapeMismatch(loss: loss, argument: "classIndices", expected: targetShape,
                                          actual: indices.shape.dimensions)
        }
        var safe = indices.values
        var maskValues = [Scalar](repeating: 1, count: safe.count)
        for (position, index) in indices.values.enumerated() {
            if let ignoreIndex, index == ignoreIndex {
                safe[position] = 0
                maskValues[position] = 0
            } else if index < 0 || index >= classCount {
                throw LossError.classIndexOutOfRange(loss: loss, position: position, index: index,
                                                     classCount: classCount)
            }
        }
        countedTargets = maskValues.lazy.filter { $0 != 0 }.count
        hasIgnored = countedTargets < safe.count
        if reduction == .mean, countedTargets == 0 { throw LossError.allTargetsIgnored(loss: loss) }
        var gatherShape = input.shape.dimensions
        gatherShape[classAxis] = 1
        gatherIndices = try TensorIndices(shape: gatherShape, values: safe)
        mask = try Tensor(shape: targetShape, scalars: maskValues)
    }

    /// `−input[target]` per target (0 where ignored), shaped like the targets.
    func negativePicked(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let picked = -input.gathering(alongAxis: classAxis, indices: gatherIndices).squeezed(at: classAxis)
        return hasIgnored ? picked * mask : picked
    }

    /// The reduction, with the mean taken over counted targets only.
    func reduce(_ perTarget: Tensor<Scalar>, _ reduction: LossReduction) -> Tensor<Scalar> {
        reduction == .mean ? perTarget.sum() / Scalar(countedTargets) : perTarget.reduced(reduction)
    }
}
