// 1-d convolution and pooling, built from two linear primitives that are each
// other's adjoints (unfold = im2col, fold = col2im) plus batched matmul and
// reductions. Every gradient, including second order, follows from theirs.
// The convolutions themselves are fused operations (one GEMM per group over the
// whole batch, hand-written first-order backward) whose recorded gradients come
// from their unfold/matmul formulations (`conv1dReference`, `transposedConv1dReference`).

extension Tensor {
    /// Sliding windows of a `[batch, channels, length]` tensor: `[batch, channels·kernelSize, outputLength]`
    /// (`torch.nn.functional.unfold` in 1-d).
    ///
    /// Column `t` of row `c·kernelSize + k` holds `x[b, c, t·stride − padding + k·dilation]`, or
    /// `padValue` outside the input; `outputLength = ⌊(length + 2·padding − dilation·(kernelSize − 1) − 1)/stride⌋ + 1`.
    /// Pullback: ``folded(outputLength:kernelSize:stride:padding:dilation:)`` (padded positions get no gradient).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func unfolded(kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                         padValue: Scalar = 0) -> Tensor {
        guard rank == 3 else { fatalError("unfolded: expected a [batch, channels, length] tensor, got shape \(shape)") }
        let (batch, channels) = (shape[0], shape[1])
        let window = slidingWindow(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                                   operation: "unfolded")
        let outShape = TensorShape(unchecked: [batch, channels * kernelSize, window.outputLength])
        let out = unfoldKernel(storage, batch: batch, channels: channels, window: window, padValue: padValue)
        guard let context = Tensor.recording(node) else { return Tensor(shape: outShape, storage: out) }
        return Tensor(shape: outShape, storage: out, context: context, parent: node!) { g, _ in
            g.fold(batch: batch, channels: channels, window: window)
        }
    }

    /// The adjoint of ``unfolded(kernelSize:stride:padding:dilation:padValue:)``: sums window columns
    /// `[batch, channels·kernelSize, L]` back into `[batch, channels, outputLength]` (overlaps add up).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func folded(outputLength: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) -> Tensor {
        guard rank == 3, shape[1] % kernelSize == 0 else {
            fatalError("folded: expected [batch, channels·\(kernelSize), length], got shape \(shape)")
        }
        let span = dilation * (kernelSize - 1) + 1
        let columns = (outputLength + 2 * padding - span) / stride + 1
        guard outputLength + 2 * padding >= span, columns == shape[2] else {
            fatalError("folded: \(shape[2]) columns do not match outputLength \(outputLength) (expected \(columns))")
        }
        let window = Window1D(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                              inputLength: outputLength, outputLength: shape[2])
        return fold(batch: shape[0], channels: shape[1] / kernelSize, window: window)
    }

    /// The windows over this `[batch, channels, length]` tensor's length axis; traps (naming
    /// `operation`) on invalid sizes or an input shorter than the window span.
    func slidingWindow(kernelSize: Int, stride: Int, padding: Int, dilation: Int, operation: StaticString) -> Window1D {
        precondition(kernelSize >= 1 && stride >= 1 && padding >= 0 && dilation >= 1,
                     "\(operation): invalid kernelSize \(kernelSize), stride \(stride), padding \(padding), dilation \(dilation)")
        let length = shape[2]
        let span = dilation * (kernelSize - 1) + 1
        guard length + 2 * padding >= span else {
            fatalError("\(operation): input of shape \(shape) with padding \(padding) is shorter than the window span \(span)")
        }
        return Window1D(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                        inputLength: length, outputLength: (length + 2 * padding - span) / stride + 1)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func fold(batch: Int, channels: Int, window: Window1D) -> Tensor {
        let outShape = TensorShape(unchecked: [batch, channels, window.inputLength])
        let out = foldKernel(storage, batch: batch, channels: channels, window: window)
        guard let context = Tensor.recording(node) else { return Tensor(shape: outShape, storage: out) }
        return Tensor(shape: outShape, storage: out, context: context, parent: node!) { g, _ in
            g.unfolded(kernelSize: window.kernelSize, stride: window.stride, padding: window.padding,
                       dilation: window.dilation)
        }
    }

    /// 1-d cross-correlation as `torch.nn.functional.conv1d`.
    ///
    /// - Parameters:
    ///   - weight: `[outChannels, inChannels/groups, kernelSize]`.
    ///   - bias: `[outChannels]` or `nil`.
    ///   - stride: Step between consecutive output positions, in input elements (≥ 1).
    ///   - padding: Zeros added at both ends of the length axis.
    ///   - dilation: Spacing between the kernel's taps (1 for adjacent taps).
    ///   - groups: Number of channel groups: input and output channels are split into `groups`
    ///     blocks, and output block `i` sees only input block `i`; both channel counts must be
    ///     divisible by it.
    /// - Returns: `[batch, outChannels, outputLength]` for an input `[batch, inChannels, length]`, with
    ///   `outputLength = ⌊(length + 2·padding − dilation·(kernelSize − 1) − 1)/stride⌋ + 1`.
    ///
    /// One fused operation: the windows of the whole batch are unfolded side by side into an
    /// `[inChannels·kernelSize, batch·outputLength]` matrix, multiplied by the weight in one GEMM
    /// per group (one in all when `groups == 1`) and permuted to `[batch, outChannels, outputLength]`.
    /// Backward: `∂weight` is one GEMM per group, `∂input` the transposed GEMM folded back, `∂bias` a
    /// sum. A recorded backward pass (`createGraph`) differentiates the unfold + batched-matmul
    /// formulation instead, so the gradients can be differentiated again. Shape errors trap naming
    /// both shapes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                       dilation: Int = 1, groups: Int = 1) -> Tensor {
        guard rank == 3, weight.rank == 3, groups >= 1,
              shape[1] % groups == 0, weight.shape[0] % groups == 0, weight.shape[1] * groups == shape[1] else {
            fatalError("conv1d: input of shape \(shape) and weight of shape \(weight.shape) do not match with groups \(groups)")
        }
        let (batch, inChannels) = (shape[0], shape[1])
        let (outChannels, kernelSize) = (weight.shape[0], weight.shape[2])
        if let bias, bias.shape != [outChannels] {
            fatalError("conv1d: bias of shape \(bias.shape) does not match \(outChannels) output channels")
        }
        let window = slidingWindow(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                                   operation: "conv1d")
        let length = window.outputLength
        // Per group: weight [outChannels/groups, depth] · columns [depth, batch·length].
        let (rows, depth, columns) = (outChannels / groups, inChannels / groups * kernelSize, batch * length)
        let cols = unfoldKernel(storage, batch: batch, channels: inChannels, window: window, padValue: 0, channelMajor: true)
        let product = groupedProduct(weight.storage, cols, groups: groups, m: rows, n: columns, k: depth)
        let out = swappingLeadingAxes(product, outChannels, batch, inner: length, bias: bias?.storage)
        let value = Tensor(shape: TensorShape(unchecked: [batch, outChannels, length]), storage: out)
        let w = weight.storage
        return Tensor.convolution(
            [self, weight] + (bias.map { [$0] } ?? []), value: value,
            reference: { x in
                x[0].conv1dReference(weight: x[1], bias: x.count > 2 ? x[2] : nil, stride: stride, padding: padding,
                                     dilation: dilation, groups: groups)
            },
            prepare: { g in swappingLeadingAxes(g, batch, outChannels, inner: length) },   // [outChannels, batch·length]
            inputGradient: { gy in
                let dCols = groupedProduct(w, gy, groups: groups, m: depth, n: columns, k: rows, transposeA: true)
                return foldKernel(dCols, batch: batch, channels: inChannels, window: window, channelMajor: true)
            },
            weightGradient: { gy in groupedProduct(gy, cols, groups: groups, m: rows, n: depth, k: columns, transposeB: true) })
    }

    /// A fused convolution of `inputs` (`[input, weight]` or `[input, weight, bias]`) with the output
    /// `value` `[batch, channels, length]`, recorded as one operation. Its pullback differentiates
    /// `reference` under a recorded backward pass; otherwise it computes each needed gradient from the
    /// cotangent `prepare`d once, and the bias gradient as the cotangent's per-channel sums.
    static func convolution(_ inputs: [Tensor], value: Tensor, reference: @escaping @Sendable ([Tensor]) -> Tensor,
                            prepare: @escaping @Sendable (TensorStorage<Scalar>) -> TensorStorage<Scalar>,
                            inputGradient: @escaping @Sendable (TensorStorage<Scalar>) -> TensorStorage<Scalar>,
                            weightGradient: @escaping @Sendable (TensorStorage<Scalar>) -> TensorStorage<Scalar>) -> Tensor {
        let outputShape = value.shape
        return customOperation(inputs: inputs, outputs: [value]) { cotangents, inputs in
            if isRecordingGradients {
                return vectorJacobianProducts(of: { [reference($0)] }, at: inputs, cotangents: cotangents)
            }
            let g = cotangents[0].storage, prepared = prepare(g)
            let kernels = [inputGradient, weightGradient, { _ in
                channelSums(g, batch: outputShape[0], channels: outputShape[1], length: outputShape[2])
            }]
            return inputs.indices.map { k in
                inputs[k].requiresGradient ? Tensor(shape: inputs[k].shape, storage: kernels[k](prepared)) : nil
            }
        }[0]
    }

    /// ``conv1d(weight:bias:stride:padding:dilation:groups:)`` as unfold + one batched `matmul` per
    /// (batch, group): the formulation whose gradients the fused operation's recorded backward pass
    /// differentiates, and the reference it is tested against. Expects shapes that `conv1d` accepts.
    func conv1dReference(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                         dilation: Int = 1, groups: Int = 1) -> Tensor {
        let (batch, inChannels) = (shape[0], shape[1])
        let (outChannels, kernelSize) = (weight.shape[0], weight.shape[2])
        let cols = unfolded(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
        let length = cols.shape[2]
        let g = groups
        let out = weight.reshaped([g, outChannels / g, inChannels / g * kernelSize])
            .matmul(cols.reshaped([batch, g, inChannels / g * kernelSize, length]))
            .reshaped([batch, outChannels, length])
        guard let bias else { return out }
        return out + bias.reshaped([outChannels, 1])
    }

    /// 1-d transposed convolution as `torch.nn.functional.conv_transpose1d`.
    ///
    /// - Parameters:
    ///   - weight: `[inChannels, outChannels/groups, kernelSize]`.
    ///   - bias: `[outChannels]` or `nil`.
    ///   - stride: The stride of the convolution this one transposes: input position `t` spreads
    ///     to output positions starting at `t·stride − padding`.
    ///   - padding: The padding of the convolution this one transposes: `padding` positions are
    ///     cropped from both ends of the output.
    ///   - outputPadding: Extra positions added at the end of the output (smaller than `stride` or
    ///     `dilation`), to pick among the output lengths that a strided convolution maps to the same
    ///     input length.
    ///   - dilation: Spacing between the kernel's taps.
    ///   - groups: Number of channel groups, as in ``conv1d(weight:bias:stride:padding:dilation:groups:)``.
    /// - Returns: `[batch, outChannels, L]` with
    ///   `L = (length − 1)·stride − 2·padding + dilation·(kernelSize − 1) + outputPadding + 1`.
    ///
    /// One fused operation, the adjoint of ``conv1d(weight:bias:stride:padding:dilation:groups:)`` in
    /// its input: the batch is laid side by side as `[inChannels, batch·length]`, multiplied by the
    /// transposed weight in one GEMM per group and folded into `[batch, outChannels, L]`. Backward:
    /// the cotangent unfolded, then one GEMM per group each for `∂input` and `∂weight`, and a sum for
    /// `∂bias`. A recorded backward pass differentiates the unfold + batched-matmul formulation.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func transposedConv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                 outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1) -> Tensor {
        guard rank == 3, weight.rank == 3, groups >= 1, shape[1] % groups == 0, weight.shape[0] == shape[1] else {
            fatalError("transposedConv1d: input of shape \(shape) and weight of shape \(weight.shape) do not match with groups \(groups)")
        }
        precondition(outputPadding >= 0 && outputPadding < Swift.max(stride, dilation),
                     "transposedConv1d: outputPadding \(outputPadding) must be smaller than stride or dilation")
        let (batch, inChannels, length) = (shape[0], shape[1], shape[2])
        let (outPerGroup, kernelSize) = (weight.shape[1], weight.shape[2])
        let outChannels = outPerGroup * groups
        if let bias, bias.shape != [outChannels] {
            fatalError("transposedConv1d: bias of shape \(bias.shape) does not match \(outChannels) output channels")
        }
        let outputLength = (length - 1) * stride - 2 * padding + dilation * (kernelSize - 1) + outputPadding + 1
        let span = dilation * (kernelSize - 1) + 1
        guard outputLength + 2 * padding >= span, (outputLength + 2 * padding - span) / stride + 1 == length else {
            fatalError("transposedConv1d: input of shape \(shape) gives no valid output length with padding \(padding)")
        }
        let window = Window1D(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                              inputLength: outputLength, outputLength: length)
        // Per group: weightᵀ [outPerGroup·kernelSize, inChannels/groups] · input [inChannels/groups, batch·length].
        let (rows, depth, columns) = (outPerGroup * kernelSize, inChannels / groups, batch * length)
        let x = swappingLeadingAxes(storage, batch, inChannels, inner: length)
        let cols = groupedProduct(weight.storage, x, groups: groups, m: rows, n: columns, k: depth, transposeA: true)
        var out = foldKernel(cols, batch: batch, channels: outChannels, window: window, channelMajor: true)
        if let bias { addChannelBias(&out, bias.storage, batch: batch, channels: outChannels, length: outputLength) }
        let value = Tensor(shape: TensorShape(unchecked: [batch, outChannels, outputLength]), storage: out)
        let w = weight.storage
        return Tensor.convolution(
            [self, weight] + (bias.map { [$0] } ?? []), value: value,
            reference: { v in
                v[0].transposedConv1dReference(weight: v[1], bias: v.count > 2 ? v[2] : nil, stride: stride,
                                               padding: padding, outputPadding: outputPadding, dilation: dilation,
                                               groups: groups)
            },
            prepare: { g in unfoldKernel(g, batch: batch, channels: outChannels, window: window, padValue: 0, channelMajor: true) },
            inputGradient: { dCols in
                swappingLeadingAxes(groupedProduct(w, dCols, groups: groups, m: depth, n: columns, k: rows),
                                    inChannels, batch, inner: length)
            },
            weightGradient: { dCols in groupedProduct(x, dCols, groups: groups, m: depth, n: rows, k: columns, transposeB: true) })
    }

    /// ``transposedConv1d(weight:bias:stride:padding:outputPadding:dilation:groups:)`` as one batched
    /// `matmul` per (batch, group) followed by fold: the formulation whose gradients the fused
    /// operation's recorded backward pass differentiates, and the reference it is tested against.
    /// Expects shapes that `transposedConv1d` accepts.
    func transposedConv1dReference(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                   outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1) -> Tensor {
        let (batch, inChannels, length) = (shape[0], shape[1], shape[2])
        let (outPerGroup, kernelSize) = (weight.shape[1], weight.shape[2])
        let g = groups
        let outChannels = outPerGroup * g
        let outputLength = (length - 1) * stride - 2 * padding + dilation * (kernelSize - 1) + outputPadding + 1
        let cols = weight.reshaped([g, inChannels / g, outPerGroup * kernelSize])
            .matmul(reshaped([batch, g, inChannels / g, length]), transposingSelf: true)
            .reshaped([batch, outChannels * kernelSize, length])
        let out = cols.folded(outputLength: outputLength, kernelSize: kernelSize, stride: stride,
                              padding: padding, dilation: dilation)
        guard let bias else { return out }
        return out + bias.reshaped([outChannels, 1])
    }

    /// Max pooling over windows of a `[batch, channels, length]` tensor, as `torch.nn.functional.max_pool1d`
    /// (padding counts as −∞; `stride` defaults to `kernelSize`).
    ///
    /// Gradient: to the maximal element of each window; at exact ties all of it goes to the first
    /// maximal element (NaN counts as maximal), as PyTorch.
    public func maxPool1d(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1) -> Tensor {
        precondition(padding * 2 <= kernelSize, "maxPool1d: padding \(padding) exceeds half the kernel size \(kernelSize)")
        let cols = unfolded(kernelSize: kernelSize, stride: stride ?? kernelSize, padding: padding,
                            dilation: dilation, padValue: -.infinity)
        let windows = cols.reshaped([shape[0], shape[1], kernelSize, cols.shape[2]])
        // The gradient goes to the first maximum of each window only (PyTorch's rule for ties).
        let first = firstMaximumIndices(windows.storage, outer: shape[0] * shape[1], n: kernelSize, inner: cols.shape[2])
        // The index shape matches the windows off the window axis by construction.
        let indices = try! TensorIndices(shape: [shape[0], shape[1], 1, cols.shape[2]], values: first)
        return windows.gathering(alongAxis: 2, indices: indices).squeezed(at: 2)
    }

    /// Average pooling as `torch.nn.functional.avg_pool1d` with `count_include_pad=True`
    /// (zero padding is averaged in; `stride` defaults to `kernelSize`).
    public func avgPool1d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        precondition(padding * 2 <= kernelSize, "avgPool1d: padding \(padding) exceeds half the kernel size \(kernelSize)")
        let cols = unfolded(kernelSize: kernelSize, stride: stride ?? kernelSize, padding: padding)
        return cols.reshaped([shape[0], shape[1], kernelSize, cols.shape[2]]).mean(alongAxis: 2)
    }
}
