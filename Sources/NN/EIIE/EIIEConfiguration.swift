/// The evaluator that an ``EIIENetwork`` runs on every asset (Jiang, Xu & Liang 2017, §5).
public enum EIIETopology: String, Sendable, Hashable, Codable, CaseIterable {
    /// Two convolutions over the window: a `1×k` one, then one spanning the rest of the window (Fig. 2).
    case cnn
    /// A basic (Elman, tanh) recurrent network over the window; its last hidden state (Fig. 3).
    case rnn
    /// A long short-term memory network over the window; its last hidden state (Fig. 3).
    case lstm
}

/// The score given to cash before the softmax of an ``EIIENetwork``.
///
/// Cash has no price history, so it gets no evaluator: its score is one number, the
/// "cash bias" that Jiang, Xu & Liang (2017, §5.2) put in front of the assets' scores.
public enum EIIECashBias: Sendable, Hashable, Codable {
    /// A parameter `cash_bias` of shape `[1]`, starting at the value and trained with the rest.
    case learnable(initialValue: Double)
    /// A constant, stored as the buffer `cash_bias` of shape `[1]` (saved and loaded, never trained).
    case fixed(Double)

    /// The starting or fixed value.
    public var value: Double {
        switch self {
        case let .learnable(value), let .fixed(value): value
        }
    }

    /// `true` for ``learnable(initialValue:)``.
    public var isLearnable: Bool {
        if case .learnable = self { return true }
        return false
    }
}

/// The hyper-parameters of an ``EIIENetwork``, with the paper's values as defaults.
///
/// Defaults follow Jiang, Xu & Liang, "A Deep Reinforcement Learning Framework for the Financial
/// Portfolio Management Problem" (arXiv:1706.10059, 2017): three features (close, high, low, each
/// divided by the latest close; §3.2), a window of 50 periods (Table 2), and the CNN of Fig. 2 with
/// 2 feature maps of a `1×3` convolution, ReLU, then 20 maps of a convolution spanning the remaining
/// 48 periods, ReLU. The recurrent evaluators of Fig. 3 have 20 hidden units. The paper trains with
/// Adam at learning rate `3·10⁻⁵`, batches of 50 and an L2 penalty of `10⁻⁸` (Table 2); those belong
/// to the optimizer and the training loop, not here.
public struct EIIEConfiguration: Sendable, Hashable, Codable {
    /// The evaluator run on each asset.
    public var topology: EIIETopology
    /// Features per period and asset, `F` (3: close, high, low).
    public var featureCount: Int
    /// Periods in the price window, `W` (50).
    public var window: Int
    /// CNN only: width `k` of the first convolution along the window (3).
    public var kernelWidth: Int
    /// CNN only: feature maps of the first convolution (2).
    public var firstLayerMaps: Int
    /// Features of each asset's evaluation, `C`: maps of the second convolution (CNN) or hidden
    /// units (RNN, LSTM); 20 in the paper.
    public var evaluationFeatures: Int
    /// CNN only: the activation after each convolution (ReLU).
    public var activation: Activation
    /// The cash score before the softmax.
    public var cashBias: EIIECashBias

    /// A configuration; every argument defaults to the paper's value (see ``EIIEConfiguration``).
    /// Call ``validate()`` (``EIIENetwork``'s initializer does) to check it.
    public init(topology: EIIETopology = .cnn, featureCount: Int = 3, window: Int = 50, kernelWidth: Int = 3,
                firstLayerMaps: Int = 2, evaluationFeatures: Int = 20, activation: Activation = .relu,
                cashBias: EIIECashBias = .learnable(initialValue: 0)) {
        self.topology = topology
        self.featureCount = featureCount
        self.window = window
        self.kernelWidth = kernelWidth
        self.firstLayerMaps = firstLayerMaps
        self.evaluationFeatures = evaluationFeatures
        self.activation = activation
        self.cashBias = cashBias
    }

    /// Width of the CNN's second convolution: the window left after the first, `W − k + 1`.
    public var spanningKernelWidth: Int { window - kernelWidth + 1 }

    /// Checks every hyper-parameter the topology uses.
    ///
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` naming the field, for a non-positive
    ///   feature count, window, map count or evaluation width, a CNN kernel wider than the window or
    ///   not positive, or a cash bias that is not finite.
    public func validate() throws {
        func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
            guard condition else { throw NNError.invalidConfiguration(layer: "EIIENetwork", reason: reason()) }
        }
        try require(featureCount > 0, "featureCount \(featureCount) must be positive")
        try require(window > 0, "window \(window) must be positive")
        try require(evaluationFeatures > 0, "evaluationFeatures \(evaluationFeatures) must be positive")
        try require(cashBias.value.isFinite, "cash bias \(cashBias.value) must be finite")
        if topology == .cnn {
            try require(kernelWidth > 0 && kernelWidth <= window,
                        "kernelWidth \(kernelWidth) must be in 1…\(window) (the window)")
            try require(firstLayerMaps > 0, "firstLayerMaps \(firstLayerMaps) must be positive")
        }
    }
}
