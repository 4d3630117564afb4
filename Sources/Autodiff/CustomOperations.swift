// Parts of tensors (slices and the outputs of multi-output operations) whose gradients the
// backward pass adds in place, and the public custom-operation API built on them.

extension Tensor {
    /// The block `layout` of this tensor's elements, with shape `shape`, recorded as a part node.
    ///
    /// Backward: the gradient is added into the block of this tensor's gradient by the backward
    /// pass (``Backward/part(_:_:)``), with no zero-filled intermediate.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func part(_ layout: PartLayout, shape: TensorShape) -> Tensor {
        let count = layout.count
        let width = (layout.end - layout.start) * layout.inner
        let out = uninitializedStorage(count) { (buffer: inout UnsafeMutableBufferPointer<Scalar>, initialized: inout Int) in
            initialized = count
            guard count > 0 else { return }
            storage.withUnsafeBufferPointer { source in
                for o in 0..<layout.outer {
                    (buffer.baseAddress! + o * width)
                        .initialize(from: source.baseAddress! + (o * layout.n + layout.start) * layout.inner, count: width)
                }
            }
        }
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: out) }
        return Tensor(shape: shape, storage: out, node: Node(shape: shape, rule: .part(node!, layout), tracker: context.tracker))
    }

    /// Zeros of `shape` with every part's elements added into its block: the gradient of a tensor
    /// from the gradients of its parts. Recorded as one node whose pullback takes the blocks again.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func assembling(_ parts: [(PartLayout, Tensor)], shape: TensorShape) -> Tensor {
        var out = TensorStorage<Scalar>(repeating: 0, count: shape.scalarCount)
        out.withUnsafeMutableBufferPointer { destination in
            for (layout, part) in parts where layout.count > 0 {
                let width = (layout.end - layout.start) * layout.inner
                part.storage.withUnsafeBufferPointer { source in
                    for o in 0..<layout.outer {
                        let dst = destination.baseAddress! + (o * layout.n + layout.start) * layout.inner
                        let src = source.baseAddress! + o * width
                        for j in 0..<width { dst[j] += src[j] }
                    }
                }
            }
        }
        let values = parts.map(\.1)
        guard let context = recording(values) else { return Tensor(shape: shape, storage: out) }
        let layouts = parts.map(\.0), shapes = values.map(\.shape), needs = values.map { $0.node != nil }
        return Tensor(shape: shape, storage: out, context: context, parents: values.map(\.node)) { g, _ in
            (0..<layouts.count).map { k in needs[k] ? g.part(layouts[k], shape: shapes[k]) : nil }
        }
    }

    /// A differentiable operation with a forward computed by the caller and a caller-supplied
    /// vector–Jacobian product: the extension point for fused kernels.
    ///
    /// Compute the operation's results from `inputs` with any code (raw loops over
    /// ``withUnsafeScalars(_:)``, BLAS through ``TensorScalar/_gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``,
    /// …) as constant tensors, then pass them here as `outputs`. The results come back as tensors
    /// that require gradients (when an input does and recording is on), all attached to one graph
    /// node with `inputs` as its parents.
    ///
    /// In the backward pass `pullback` receives one cotangent per output (zeros for an output that
    /// received no gradient) and `inputs` (with their graph nodes) and returns one gradient per
    /// input (`nil` for one that needs none; a constant input's entry is ignored), each with its
    /// input's shape. It runs while recording is on exactly when the backward pass is recorded
    /// (`createGraph: true`): then it must compute the gradients with `Tensor` operations on its
    /// arguments, so that they can be differentiated again; ``vectorJacobianProducts(of:at:cotangents:)``
    /// does that from a reference implementation of the operation in `Tensor` operations. When
    /// ``isRecordingGradients`` is `false` it may use any fast kernel and values captured from the
    /// forward computation.
    ///
    /// ```swift
    /// // y = x³ with a hand-written kernel and VJP 3x²·g
    /// let y = Tensor.customOperation(inputs: [x], outputs: [cubeKernel(x)]) { cotangents, inputs in
    ///     [cotangents[0] * 3 * inputs[0] * inputs[0]]
    /// }[0]
    /// ```
    ///
    /// - Parameters:
    ///   - inputs: the operation's differentiable arguments.
    ///   - outputs: its results as computed by the caller (their own graph nodes, if any, are dropped).
    ///   - pullback: the vector–Jacobian product, as described above.
    /// - Returns: `outputs`' values, attached to the operation's node.
    ///
    /// Precondition (trap): the pullback returns `inputs.count` gradients with the inputs' shapes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func customOperation(inputs: [Tensor], outputs: [Tensor],
                                       pullback: @escaping @Sendable (_ cotangents: [Tensor], _ inputs: [Tensor]) -> [Tensor?])
        -> [Tensor] {
        guard let context = recording(inputs) else { return outputs.map { $0.detached() } }
        let shapes = outputs.map(\.shape), inputShapes = inputs.map(\.shape)
        var ends = [0]
        for shape in shapes { ends.append(ends.last! + shape.scalarCount) }
        let offsets = ends, total = ends.last!
        let checked: @Sendable ([Tensor]) -> [Tensor?] = { cotangents in
            let gradients = pullback(cotangents, inputs)
            precondition(gradients.count == inputs.count,
                         "customOperation: the pullback returned \(gradients.count) gradients for \(inputs.count) inputs")
            for (k, g) in gradients.enumerated() where g != nil && g!.shape != inputShapes[k] {
                fatalError("customOperation: the pullback's gradient \(k) has shape \(g!.shape), its input \(inputShapes[k])")
            }
            return gradients
        }
        if outputs.count == 1 {
            let node = Node(shape: shapes[0], rule: .nary(inputs.map(\.node), { g, _ in checked([g]) }), tracker: context.tracker)
            return [Tensor(shape: shapes[0], storage: outputs[0].storage, node: node)]
        }
        // One node for the whole operation, of the outputs' elements end to end; each output is a part of it.
        let flat = TensorShape(unchecked: [total])
        let node = Node(shape: flat, rule: .outputs(inputs.map(\.node), ends: offsets, { cotangents, _ in
            checked(cotangents.enumerated().map { k, g in g ?? Tensor.zeros(shapes[k]) })
        }), tracker: context.tracker)
        return (0..<outputs.count).map { k in
            let layout = PartLayout(outer: 1, n: total, inner: 1, start: offsets[k], end: offsets[k + 1])
            return Tensor(shape: shapes[k], storage: outputs[k].storage,
                          node: Node(shape: shapes[k], rule: .part(node, layout), tracker: context.tracker))
        }
    }
}

/// The vector–Jacobian products `Σₖ cotangentsₖᵀ·∂bodyₖ/∂inputsᵢ` of a function given in `Tensor`
/// operations, with the inputs taken as independent variables: the pullback of a
/// ``Tensor/customOperation(inputs:outputs:pullback:)`` from a reference implementation.
///
/// `body` is evaluated afresh on stand-ins for `inputs` (recording on) and differentiated with a
/// backward pass that stops at the stand-ins. When recording is on at the call (inside a backward
/// pass with `createGraph: true`), the stand-ins are attached to the inputs and the products are
/// recorded, so they are differentiable with respect to `inputs` and `cotangents` (second and
/// higher order); otherwise they are constants.
///
/// - Returns: one product per input, `nil` for an input that does not require gradients.
/// - Precondition (trap): `body` returns one tensor per cotangent, of the cotangent's shape.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func vectorJacobianProducts<Scalar>(of body: ([Tensor<Scalar>]) -> [Tensor<Scalar>], at inputs: [Tensor<Scalar>],
                                           cotangents: [Tensor<Scalar>]) -> [Tensor<Scalar>?] {
    var context = GradientContext.current
    let recorded = context.isRecording
    let standIns: [Tensor<Scalar>] = inputs.map { x in
        guard let parent = x.node else { return x }
        guard recorded else { return x.detached().requiringGradient() }
        return Tensor(shape: x.shape, storage: x.storage,
                      node: Node(shape: x.shape, rule: .unary(parent, { g, _ in g }), tracker: context.tracker))
    }
    context.isRecording = true
    // The outputs joined into one tensor, recorded (inside the scope) so that it can be differentiated.
    let output = GradientContext.$current.withValue(context) { () -> Tensor<Scalar> in
        let outputs = body(standIns)
        precondition(outputs.count == cotangents.count,
                     "vectorJacobianProducts: body returned \(outputs.count) tensors for \(cotangents.count) cotangents")
        for (k, y) in outputs.enumerated() where y.shape != cotangents[k].shape {
            fatalError("vectorJacobianProducts: output \(k) has shape \(y.shape), its cotangent \(cotangents[k].shape)")
        }
        return outputs.count == 1 ? outputs[0] : Tensor.concatenate(outputs.map { $0.reshaped([-1]) }, alongAxis: 0)
    }
    let variables = standIns.filter { $0.node != nil }
    guard !variables.isEmpty else { return inputs.map { _ in nil } }
    let seed = cotangents.count == 1 ? cotangents[0] : Tensor.concatenate(cotangents.map { $0.reshaped([-1]) }, alongAxis: 0)
    let products = reverseMode(of: output, wrt: variables, seed: seed, createGraph: recorded, retain: recorded,
                               stopAtInputs: true)
    var next = 0
    return standIns.map { x in
        guard x.node != nil else { return nil }
        defer { next += 1 }
        return products[next]
    }
}
