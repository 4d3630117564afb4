import Autodiff

/// Cross-entropy of logits against class indices, as `torch.nn.functional.cross_entropy`.
///
/// Per target: `−(1 − ε)·w_t·log pₜ − (ε/C)·Σ_c w_c·log p_c` with `p = softmax(logits)` over the
/// class axis, `t` the target class, `w` the class weights (all 1 without them) and `ε` the label
/// smoothing (Szegedy et al., "Rethinking the Inception architecture", CVPR 2016). The log-softmax
/// is computed stably. With weights, the mean divides by `Σ w_t` over the counted targets (both
/// terms), as PyTorch does.
///
/// - Parameters:
///   - logits: `[C]`, `[N, C]` or `[N, C, d₁, …]` (classes on axis 1, or axis 0 for rank 1).
///   - classIndices: the logits' shape without the class axis (`[]`, `[N]`, `[N, d₁, …]`).
///   - classWeights: `[C]` rescaling weights per class (PyTorch's `weight`), e.g. inverse class
///     frequencies for imbalanced labels; `nil` for 1. They are constants: as in PyTorch, no gradient
///     flows into them.
///   - ignoreIndex: targets equal to it contribute nothing and do not count in the mean (PyTorch's
///     `ignore_index`, whose default −100 must be passed explicitly here; `nil` ignores nothing).
///   - labelSmoothing: `ε ∈ [0, 1]` (default 0).
///   - reduction: `.mean` over non-ignored targets (default), `.sum`, or `.none` (shaped like the targets).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)``,
///   ``LossError/rankMismatch(loss:argument:expected:actual:)`` for rank-0 logits,
///   ``LossError/classIndexOutOfRange(loss:position:index:classCount:)``,
///   ``LossError/allTargetsIgnored(loss:)`` for a mean with no target left,
///   ``LossError/invalidOption(loss:name:value:requirement:)`` for `ε` outside `[0, 1]` or a mean
///   whose counted targets' weights sum to 0, and a shape mismatch for weights that are not `[C]`.
public func crossEntropyLoss<Scalar>(logits: Tensor<Scalar>, classIndices: TensorIndices,
                                     classWeights: Tensor<Scalar>? = nil, ignoreIndex: Int? = nil,
                                     labelSmoothing: Double = 0,
                                     reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    let name = "crossEntropyLoss"
    try requireOption(labelSmoothing >= 0 && labelSmoothing <= 1, name, "labelSmoothing", labelSmoothing,
                      "must be in [0, 1]")
    let targets = try ClassTargets(logits, classIndices, ignoreIndex: ignoreIndex, classWeights: classWeights,
                                   loss: name, reduction: reduction)
    let logProbabilities = logits.logSoftmax(alongAxis: targets.classAxis)
    var perTarget = targets.negativePicked(logProbabilities)
    if labelSmoothing > 0 {
        let classCount = logits.shape[targets.classAxis]
        let weighted = targets.weightedAlongClasses(logProbabilities)
        let smooth = -weighted.sum(alongAxis: targets.classAxis) * targets.mask
        perTarget = Scalar(1 - labelSmoothing) * perTarget + Scalar(labelSmoothing / Double(classCount)) * smooth
    }
    return targets.reduce(perTarget, reduction)
}

/// ``crossEntropyLoss(logits:classIndices:classWeights:ignoreIndex:labelSmoothing:reduction:)-(_,TensorIndices,_,_,_,_)`` for
/// `[N, C]` logits and one class index per row (the other arguments are the same).
public func crossEntropyLoss<Scalar>(logits: Tensor<Scalar>, classIndices: [Int], classWeights: Tensor<Scalar>? = nil,
                                     ignoreIndex: Int? = nil, labelSmoothing: Double = 0,
                                     reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    try crossEntropyLoss(logits: logits, classIndices: TensorIndices(shape: [classIndices.count], values: classIndices),
                         classWeights: classWeights, ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing,
                         reduction: reduction)
}

/// Cross-entropy of logits against class probabilities ("soft" targets), as
/// `torch.nn.functional.cross_entropy` with a floating-point target.
///
/// Per sample: `−Σ_c w_c·t′_c·log p_c` with `t′ = (1 − ε)·t + ε/C` and `w` the class weights (1
/// without them). The mean divides by the number of samples (elements of the logits divided by `C`),
/// with or without weights, as PyTorch does.
///
/// - Parameters:
///   - logits: `[C]`, `[N, C]` or `[N, C, d₁, …]` (classes on axis 1, or axis 0 for rank 1).
///   - targetProbabilities: the logits' shape; each sample's entries are probabilities (not checked,
///     as in PyTorch).
///   - classWeights: `[C]` rescaling weights per class, or `nil` for 1.
///   - labelSmoothing: `ε ∈ [0, 1]`.
///   - reduction: `.mean` over samples (default), `.sum`, or `.none` (the logits' shape without the class axis).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)`` (targets or weights),
///   ``LossError/rankMismatch(loss:argument:expected:actual:)`` and
///   ``LossError/invalidOption(loss:name:value:requirement:)``.
public func crossEntropyLoss<Scalar>(logits: Tensor<Scalar>, targetProbabilities: Tensor<Scalar>,
                                     classWeights: Tensor<Scalar>? = nil, labelSmoothing: Double = 0,
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
    if let classWeights {
        try requireShape(classWeights, [classCount], name, "classWeights")
        t = t * classWeights.detached().reshaped(classWeightShape(rank: logits.rank, classAxis: classAxis, classCount: classCount))
    }
    return (-(logits.logSoftmax(alongAxis: classAxis) * t).sum(alongAxis: classAxis)).reduced(reduction)
}

/// The negative log-likelihood of log-probabilities at class indices, as `torch.nn.functional.nll_loss`:
/// `−w_t·log p_t` per target, `w` the class weights (1 without them); with weights the mean divides
/// by `Σ w_t` over the counted targets.
///
/// Shapes, `classWeights`, `ignoreIndex`, reductions and errors are those of
/// ``crossEntropyLoss(logits:classIndices:classWeights:ignoreIndex:labelSmoothing:reduction:)-(_,TensorIndices,_,_,_,_)``; the input is
/// already log-probabilities (e.g. from `logSoftmax`).
public func negativeLogLikelihoodLoss<Scalar>(logProbabilities: Tensor<Scalar>, classIndices: TensorIndices,
                                              classWeights: Tensor<Scalar>? = nil, ignoreIndex: Int? = nil,
                                              reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    let targets = try ClassTargets(logProbabilities, classIndices, ignoreIndex: ignoreIndex, classWeights: classWeights,
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
    /// The class weights shaped to broadcast along the class axis (`[1, C, 1, …]`), or `nil`.
    let classWeights: Tensor<Scalar>?
    /// `w_t` per target (0 where ignored), shaped like the targets, or `nil` without weights.
    let targetWeights: Tensor<Scalar>?
    /// What the mean divides by: the number of counted targets, or their weights' sum.
    let meanDenominator: Scalar

    init(_ input: Tensor<Scalar>, _ indices: TensorIndices, ignoreIndex: Int?, classWeights weights: Tensor<Scalar>?,
         loss: String, reduction: LossReduction) throws {
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
        guard let weights = weights?.detached() else {
            (classWeights, targetWeights, meanDenominator) = (nil, nil, Scalar(countedTargets))
            return
        }
        try requireShape(weights, [classCount], loss, "classWeights")
        let picked = weights.indexSelected(alongAxis: 0, indices: safe).reshaped(targetShape) * mask
        meanDenominator = picked.sum().scalar
        if reduction == .mean {
            let total = Double(meanDenominator)
            try requireOption(total != 0 && total.isFinite, loss, "classWeights", total,
                              "the weights of the counted targets must have a finite, non-zero sum for the mean")
        }
        classWeights = weights.reshaped(classWeightShape(rank: input.rank, classAxis: classAxis, classCount: classCount))
        targetWeights = picked
    }

    /// `−w_t·input[target]` per target (0 where ignored), shaped like the targets.
    func negativePicked(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let picked = -input.gathering(alongAxis: classAxis, indices: gatherIndices).squeezed(at: classAxis)
        if let targetWeights { return picked * targetWeights }
        return hasIgnored ? picked * mask : picked
    }

    /// `input` times the class weights along the class axis (`input` itself without weights).
    func weightedAlongClasses(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        classWeights.map { input * $0 } ?? input
    }

    /// The reduction, with the mean taken over counted targets only (weighted by `w_t` with class weights).
    func reduce(_ perTarget: Tensor<Scalar>, _ reduction: LossReduction) -> Tensor<Scalar> {
        reduction == .mean ? perTarget.sum() / meanDenominator : perTarget.reduced(reduction)
    }
}

/// `[C]` for rank-1 logits, else `[1, C, 1, …]`: the shape that broadcasts class weights along the class axis.
private func classWeightShape(rank: Int, classAxis: Int, classCount: Int) -> [Int] {
    var shape = [Int](repeating: 1, count: rank)
    shape[classAxis] = classCount
    return shape
}
