import Autodiff

/// The value of `loss(model)` and its gradient with respect to every trainable parameter of `model`,
/// keyed like the state dict: the one call a training loop needs, with no parameter array to keep in
/// step with the model by hand.
///
/// ```swift
/// var model = try MLP<Double>(sizes: [3, 16, 1], activation: .tanh, using: &generator)
/// var adam = try Adam<Double>(learningRate: 1e-2)
/// for _ in 0..<200 {
///     let (loss, gradients) = try valueWithGradient(of: model) { m in try meanSquaredErrorLoss(m(inputs), targets) }
///     try adam.update(&model, gradients: gradients)
/// }
/// ```
///
/// Frozen parameters get no gradient (an optimizer then leaves them and their state alone); buffers
/// (batch-norm statistics) are not differentiated.
///
/// - Returns: the loss as a constant and the gradients, one per trainable parameter, with its shape.
/// - Throws: the errors of `loss`, and ``NNError/invalidLoss(reason:)`` for a loss that is not a
///   single finite value.
public func valueWithGradient<Model: Module>(of model: Model, _ loss: (Model) throws -> Tensor<Model.Scalar>) throws
    -> (value: Tensor<Model.Scalar>, gradients: [String: Tensor<Model.Scalar>]) {
    let trainable = model.namedTrainableParameters()
    let keys = trainable.map(\.key)
    let variables = trainable.map { $0.value.detached().requiringGradient() }
    let value = try loss(model.replacingParameters(Dictionary(uniqueKeysWithValues: zip(keys, variables))))
    guard value.scalarCount == 1 else {
        throw NNError.invalidLoss(reason: "has shape \(value.shape.dimensions); a single value is needed")
    }
    guard Double(value.scalars[0]).isFinite else { throw NNError.invalidLoss(reason: "is \(value.scalars[0])") }
    let gradients = keys.isEmpty ? [] : gradient(of: value, wrt: variables)
    return (value.detached(), Dictionary(uniqueKeysWithValues: zip(keys, gradients.map { $0.detached() })))
}

extension Optimizer {
    /// One update of the trainable parameters of `model` with `gradients` keyed like its state dict
    /// (as ``valueWithGradient(of:_:)`` returns them); a parameter without a gradient is left alone.
    ///
    /// - Throws: ``OptimizerError/gradientWithoutParameter(name:)`` for a key that is not a trainable
    ///   parameter, and the optimizer's shape and hyperparameter errors; `model` is unchanged on error.
    public mutating func update<Model: Module>(_ model: inout Model, gradients: [String: Tensor<Scalar>]) throws
        where Model.Scalar == Scalar {
        var parameters = Dictionary(uniqueKeysWithValues: model.namedTrainableParameters().map { ($0.key, $0.value.detached()) })
        try update(&parameters, gradients: gradients)
        model = try model.replacingParameters(parameters)
    }
}
