import Autodiff
import Linalg

/// The policy networks of Jiang, Xu & Liang, "A Deep Reinforcement Learning Framework for the
/// Financial Portfolio Management Problem" (arXiv:1706.10059, 2017): an Ensemble of Identical
/// Independent Evaluators (EIIE) that maps a price tensor and the previous portfolio to new weights.
///
/// Every asset is scored by the same evaluator, which sees only that asset's `F × W` price
/// history: the CNN of the paper's Fig. 2 (a `1×k` convolution over the window, then one spanning
/// the remaining `W − k + 1` periods, ReLU after each) or the RNN/LSTM of Fig. 3 (the last hidden
/// state over the window). The asset's previous weight is appended to its `C` evaluation features,
/// a `1×1` convolution turns the `C + 1` features into one score, the cash bias is put in front, and
/// a softmax over cash plus assets gives the portfolio:
///
/// `wₜ = softmax([b_cash, s(e(Xₜ,₁), wₜ₋₁,₁), …, s(e(Xₜ,ₘ), wₜ₋₁,ₘ)])`
///
/// Because the evaluators share their weights and never mix assets before the softmax, one
/// network works for any number of assets `m`, and permuting the assets of the input permutes the
/// asset weights of the output the same way.
///
/// State-dict keys (PyTorch-style): `cash_bias` `[1]` (a parameter, or a buffer when fixed), then
/// the evaluator, `conv1.weight` `[maps, F, k]`, `conv1.bias`, `conv2.weight` `[C, maps, W − k + 1]`,
/// `conv2.bias` (CNN), or `rnn.weight_ih_l0` … (``ElmanRNN``), or `lstm.weight_ih_l0` … (``LSTM``),
/// then `score.weight` `[1, C + 1, 1]` and `score.bias` `[1]`. The convolutions are stored as
/// `Conv1d` weights over one asset's `[F, W]` slice: the paper's `1×k` 2-D kernels without their
/// unit asset axis.
///
/// Cost of the CNN per batch row: `m·(maps·F·k·(W − k + 1) + C·maps·(W − k + 1) + C + 1)`
/// multiply-adds, all assets of all rows in one `gemm` per convolution.
public struct EIIENetwork<Scalar: TensorScalar>: Module {
    /// The hyper-parameters, validated.
    public let configuration: EIIEConfiguration
    /// `[1]`: the cash score (a parameter when learnable, a buffer when fixed).
    public var cashBias: Tensor<Scalar>
    /// CNN: the `1×k` convolution, `F → maps` channels; `nil` for the recurrent topologies.
    public var conv1: Conv1d<Scalar>?
    /// CNN: the convolution spanning the rest of the window, `maps → C`; `nil` otherwise.
    public var conv2: Conv1d<Scalar>?
    /// RNN topology: the evaluator; `nil` otherwise.
    public var rnn: ElmanRNN<Scalar>?
    /// LSTM topology: the evaluator; `nil` otherwise.
    public var lstm: LSTM<Scalar>?
    /// The `1×1` convolution from the `C` evaluation features and the previous weight to one score.
    public var score: Conv1d<Scalar>
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A network with PyTorch's default initialization for every layer, drawn in state-dict order
    /// (evaluator, then `score`); the cash bias starts at its configured value.
    ///
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` when ``EIIEConfiguration/validate()`` fails.
    public init(configuration: EIIEConfiguration = EIIEConfiguration(), using generator: inout Xoshiro256StarStar) throws {
        try configuration.validate()
        self.configuration = configuration
        let c = configuration.evaluationFeatures
        cashBias = Tensor([Scalar(configuration.cashBias.value)])
        switch configuration.topology {
        case .cnn:
            conv1 = try Conv1d(inChannels: configuration.featureCount, outChannels: configuration.firstLayerMaps,
                               kernelSize: configuration.kernelWidth, using: &generator)
            conv2 = try Conv1d(inChannels: configuration.firstLayerMaps, outChannels: c,
                               kernelSize: configuration.spanningKernelWidth, using: &generator)
        case .rnn:
            rnn = try ElmanRNN(inputSize: configuration.featureCount, hiddenSize: c, batchFirst: false, using: &generator)
        case .lstm:
            lstm = try LSTM(inputSize: configuration.featureCount, hiddenSize: c, batchFirst: false, using: &generator)
        }
        score = try Conv1d(inChannels: c + 1, outChannels: 1, kernelSize: 1, using: &generator)
    }

    /// Presents `cash_bias`, then `conv1`, `conv2` or `rnn` or `lstm`, then `score`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        if configuration.cashBias.isLearnable {
            visitor.parameter("cash_bias", &cashBias)
        } else {
            visitor.buffer("cash_bias", &cashBias)
        }
        visitor.child("conv1", &conv1)
        visitor.child("conv2", &conv2)
        visitor.child("rnn", &rnn)
        visitor.child("lstm", &lstm)
        visitor.child("score", &score)
    }

    /// The portfolio weights for a batch of decisions.
    ///
    /// - Parameters:
    ///   - priceTensor: `[batch, F, W, assets]`, each asset's close, high and low over the window divided
    ///     by its latest close (Market's `PriceTensor` values, stacked over the batch).
    ///   - previousWeights: `[batch, assets]`, the asset weights (without cash) held before this
    ///     decision, from the portfolio-vector memory.
    /// - Returns: `[batch, 1 + assets]`, cash first; every row is positive and sums to 1.
    /// - Precondition: the shapes agree with the configuration and each other (a trap names them).
    public func callAsFunction(_ priceTensor: Tensor<Scalar>, previousWeights: Tensor<Scalar>) -> Tensor<Scalar> {
        logits(priceTensor, previousWeights: previousWeights).softmax(alongAxis: 1)
    }

    /// The scores before the softmax, `[batch, 1 + assets]`: the cash bias, then each asset's score.
    ///
    /// The arguments are those of ``callAsFunction(_:previousWeights:)``.
    public func logits(_ priceTensor: Tensor<Scalar>, previousWeights: Tensor<Scalar>) -> Tensor<Scalar> {
        let (f, w) = (configuration.featureCount, configuration.window)
        guard priceTensor.rank == 4, priceTensor.shape[1] == f, priceTensor.shape[2] == w, priceTensor.shape[3] > 0 else {
            fatalError("EIIENetwork: price tensor of shape \(priceTensor.shape) is not [batch, \(f), \(w), assets]")
        }
        let (batch, assets) = (priceTensor.shape[0], priceTensor.shape[3])
        guard previousWeights.shape.dimensions == [batch, assets] else {
            fatalError("EIIENetwork: previous weights of shape \(previousWeights.shape) are not [\(batch), \(assets)] (batch, assets of the price tensor \(priceTensor.shape))")
        }
        let c = configuration.evaluationFeatures
        let evaluations = evaluate(priceTensor).reshaped([batch * assets, c])
        let features = Tensor.concatenate([evaluations, previousWeights.reshaped([batch * assets, 1])], alongAxis: 1)
        // The 1×1 convolution `score` as one gemm over all (row, asset) pairs.
        var scores = features.matmul(score.weight.reshaped([1, c + 1]), transposingOther: true)
        if let bias = score.bias { scores = scores + bias }
        scores = scores.reshaped([batch, assets])
        let cash = cashBias.reshaped([1, 1]).expanded(to: [batch, 1])
        return Tensor.concatenate([cash, scores], alongAxis: 1)
    }

    /// The im2col rows of the first convolution, `[batch·assets·span, F·k]`: row `(b·assets + a)·span + s`
    /// holds `priceTensor[b, c, s + j, a]` at column `c·k + j`. A constant (no gradient).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func windowColumns(_ priceTensor: Tensor<Scalar>, kernelWidth k: Int, span: Int) -> Tensor<Scalar> {
        let (batch, f, w, assets) = (priceTensor.shape[0], priceTensor.shape[1], priceTensor.shape[2], priceTensor.shape[3])
        let width = f * k, count = batch * assets * span * width
        let storage = TensorStorage<Scalar>(unsafeUninitializedCapacity: count) { out, initialized in
            let po = out.baseAddress!
            priceTensor.storage.withUnsafeBufferPointer { source in
                let ps = source.baseAddress!
                for b in 0..<batch {
                    for a in 0..<assets {
                        let rows = po + (b * assets + a) * span * width
                        for c in 0..<f {
                            for j in 0..<k {
                                // Column c·k + j of this history's rows: its window positions j … j + span − 1.
                                let from = ps + ((b * f + c) * w + j) * assets + a, to = rows + c * k + j
                                for position in 0..<span { to[position * width] = from[position * assets] }
                            }
                        }
                    }
                }
            }
            initialized = count
        }
        return try! Tensor(shape: [batch * assets * span, width], storage: storage)
    }

    /// Each asset's evaluation features, `[batch·assets, C, 1]`, row `b·assets + i` for asset `i` of row `b`.
    func evaluate(_ priceTensor: Tensor<Scalar>) -> Tensor<Scalar> {
        let (batch, f, w, assets) = (priceTensor.shape[0], priceTensor.shape[1], priceTensor.shape[2], priceTensor.shape[3])
        let c = configuration.evaluationFeatures
        if let conv1, let conv2 {
            // The two convolutions as two gemms over all (row, asset) histories at once, in the
            // layout the next gemm reads (no permute to Conv1d's [n, maps, span]): the first on the im2col
            // rows [n·span, F·k], the second, whose kernel spans the whole remaining window, on each
            // history's flattened maps.
            let (n, k, maps, span) = (batch * assets, configuration.kernelWidth, configuration.firstLayerMaps,
                                      configuration.spanningKernelWidth)
            let activation = configuration.activation
            let columns: Tensor<Scalar>
            if priceTensor.requiresGradient {
                let histories = priceTensor.permuted([0, 3, 1, 2]).reshaped([n, f, w])
                columns = histories.unfolded(kernelSize: k).transposed(1, 2).reshaped([n * span, f * k])
            } else {
                // A constant input (training reads prices, it does not differentiate them): the same
                // rows gathered in one pass instead of a permute, an unfold and a transpose.
                columns = Self.windowColumns(priceTensor, kernelWidth: k, span: span)
            }
            var first = columns.matmul(conv1.weight.reshaped([maps, f * k]), transposingOther: true) // [n·span, maps]
            if let bias = conv1.bias { first = first + bias }
            // Position-major, map-minor, so conv2's weight [C, maps, span] is permuted to [C, span, maps] to match.
            let flattened = activation(first).reshaped([n, span * maps])
            var second = flattened.matmul(conv2.weight.permuted([0, 2, 1]).reshaped([c, span * maps]), transposingOther: true)
            if let bias = conv2.bias { second = second + bias }
            return activation(second).reshaped([n, c, 1])
        }
        // Time-major sequences [W, batch·assets, F] for the recurrent evaluators.
        let sequences = priceTensor.permuted([2, 0, 3, 1]).reshaped([w, batch * assets, f])
        let last: Tensor<Scalar>
        if let rnn {
            last = rnn.hiddenStates(sequences, hidden: nil).last!
        } else if let lstm {
            last = lstm(sequences).hidden
        } else {
            fatalError("EIIENetwork: no evaluator for topology \(configuration.topology)")
        }
        return last.reshaped([batch * assets, c, 1])
    }
}
