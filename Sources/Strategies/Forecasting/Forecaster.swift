import Autodiff
import Linalg
import NN

/// Training examples for a ``Forecaster``: causal feature windows and the returns that followed them.
///
/// Rows are in time order (oldest first), which ``EnsembleForecaster`` relies on to hold out the most
/// recent rows for its validation residuals.
public struct ForecastData: Sendable {
    /// `[n, window, features]`: row `i` is the feature window ending at its forecast origin.
    public let inputs: Tensor<Double>
    /// `[n, outputs]`: one target per horizon (forward log returns).
    public let targets: Tensor<Double>
    /// Rows dropped between the fitted rows and the validation rows, because their targets overlap
    /// (the longest horizon).
    public let embargo: Int

    /// Checks shapes and values.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for mismatched or empty shapes or a
    ///   non-finite value, ``StrategiesError/invalidArgument(component:parameter:message:)`` for a negative embargo.
    public init(inputs: Tensor<Double>, targets: Tensor<Double>, embargo: Int = 0) throws {
        let component = "ForecastData"
        guard inputs.rank == 3, inputs.shape.dimensions.allSatisfy({ $0 > 0 }) else {
            throw StrategiesError.invalidData(component: component, message: "inputs must be a non-empty [n, window, features] tensor, not \(inputs.shape)")
        }
        guard targets.rank == 2, targets.shape[0] == inputs.shape[0], targets.shape[1] > 0 else {
            throw StrategiesError.invalidData(component: component, message: "targets \(targets.shape) must be [\(inputs.shape[0]), outputs]")
        }
        guard inputs.scalars.allSatisfy(\.isFinite), targets.scalars.allSatisfy(\.isFinite) else {
            throw StrategiesError.invalidData(component: component, message: "inputs and targets must be finite")
        }
        try require(embargo >= 0, component, "embargo", "must be ≥ 0, not \(embargo)")
        self.inputs = inputs
        self.targets = targets
        self.embargo = embargo
    }

    /// Number of examples.
    public var count: Int { inputs.shape[0] }
}

/// A point forecast with its predictive variance, one row per input window and one column per output.
public struct Forecast: Sendable, Hashable {
    /// Predicted returns, `[windows][outputs]`.
    public let mean: [[Double]]
    /// Predictive variances (ensemble disagreement plus, when measured, the validation residual variance).
    public let variance: [[Double]]

    /// A forecast from its means and variances (for forecasters written outside this module).
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` unless both are equally shaped,
    ///   the means finite and the variances finite and ≥ 0.
    public init(mean: [[Double]], variance: [[Double]]) throws {
        guard mean.count == variance.count, zip(mean, variance).allSatisfy({ $0.count == $1.count }),
              mean.allSatisfy({ $0.allSatisfy(\.isFinite) }), variance.allSatisfy({ $0.allSatisfy { $0.isFinite && $0 >= 0 } }) else {
            throw StrategiesError.invalidData(component: "Forecast", message: "means and variances must be equally shaped, finite, variances ≥ 0")
        }
        self.init(checkedMean: mean, variance: variance)
    }

    /// A forecast whose shapes and values the caller guarantees.
    init(checkedMean mean: [[Double]], variance: [[Double]]) {
        self.mean = mean
        self.variance = variance
    }
}

/// A model that learns next-period returns from causal feature windows.
public protocol Forecaster: Sendable {
    /// A short name for tables (`lstm-attention`, `tcn`, `transformer`).
    var name: String { get }
    /// Trains on `data`, replacing anything learned before.
    mutating func fit(_ data: ForecastData) throws
    /// Forecasts for `inputs` (`[m, window, features]`, the fitted window and feature count).
    func predict(_ inputs: Tensor<Double>) throws -> Forecast
}

/// Where a neural forecaster's predictive variance comes from, besides the optional validation residual variance.
public enum ForecastUncertainty: Sendable, Hashable {
    /// A deep ensemble (Lakshminarayanan et al. 2017): the members' mean and (population) variance.
    case ensemble
    /// MC dropout (Gal & Ghahramani 2016) as input dropout: every member is trained with each element of
    /// its input window (`[window, features]`) dropped with probability `rate` and the survivors scaled by
    /// `1/(1 − rate)`, and predicts with `passes` stochastic forward passes under fresh masks; the forecast
    /// is the mean and the variance the (population) variance over all members and passes. `rate` must be
    /// in `[0, 1)`, `passes ≥ 1`; rate 0 is the plain ensemble, bit for bit.
    case monteCarloDropout(rate: Double, passes: Int)
}

/// Training and uncertainty settings shared by the neural forecasters.
public struct ForecasterConfiguration: Sendable, Hashable {
    /// Width of the hidden representation (LSTM state, TCN channels, Transformer model dimension, CNN-LSTM
    /// channels and state, U-Net output channels).
    public var hiddenSize: Int
    /// Attention heads (LSTM-attention and Transformer); must divide `hiddenSize`.
    public var headCount: Int
    /// Passes over the training rows.
    public var epochs: Int
    /// Rows per Adam step.
    public var batchSize: Int
    /// Adam learning rate.
    public var learningRate: Double
    /// Gradient global-norm clip (stabilizes the recurrent model on fat-tailed returns).
    public var gradientClip: Double
    /// Members of the deep ensemble, each initialized and shuffled from its own seed.
    public var ensembleSize: Int
    /// Seed of the first member; member `k` uses a seed derived from `seed` and `k`.
    public var seed: UInt64
    /// Share of the most recent rows held out (after the embargo) to measure the residual variance added
    /// to the ensemble variance; 0 trains on every row and reports the ensemble variance alone.
    public var validationFraction: Double
    /// Ensemble variance alone (the default) or MC dropout over the members.
    public var uncertainty: ForecastUncertainty

    /// A configuration; the defaults are small enough for walk-forward refits on two cores.
    public init(hiddenSize: Int = 16, headCount: Int = 2, epochs: Int = 10, batchSize: Int = 64,
                learningRate: Double = 1e-3, gradientClip: Double = 1, ensembleSize: Int = 3, seed: UInt64 = 0,
                validationFraction: Double = 0, uncertainty: ForecastUncertainty = .ensemble) {
        self.hiddenSize = hiddenSize
        self.headCount = headCount
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.gradientClip = gradientClip
        self.ensembleSize = ensembleSize
        self.seed = seed
        self.validationFraction = validationFraction
        self.uncertainty = uncertainty
    }

    /// The input-dropout rate and pass count (rate 0 and one pass for the plain ensemble).
    var dropout: (rate: Double, passes: Int) {
        switch uncertainty {
        case .ensemble: (0, 1)
        case let .monteCarloDropout(rate, passes): (rate, passes)
        }
    }

    /// Rows of `n` held out for the validation residuals (the newest ones; 0 without validation).
    func validationRowCount(_ n: Int) -> Int {
        validationFraction > 0 ? Swift.max(1, Int((Double(n) * validationFraction).rounded())) : 0
    }

    /// Throws unless every field is in its domain.
    func validate(_ component: String) throws {
        try require(hiddenSize > 0, component, "hiddenSize", "must be > 0, not \(hiddenSize)")
        try require(headCount > 0 && hiddenSize % headCount == 0, component, "headCount",
                    "must be > 0 and divide hiddenSize \(hiddenSize), not \(headCount)")
        try require(epochs > 0, component, "epochs", "must be > 0, not \(epochs)")
        try require(batchSize > 0, component, "batchSize", "must be > 0, not \(batchSize)")
        try require(learningRate.isFinite && learningRate > 0, component, "learningRate", "must be finite and > 0, not \(learningRate)")
        try require(gradientClip.isFinite && gradientClip > 0, component, "gradientClip", "must be finite and > 0, not \(gradientClip)")
        try require(ensembleSize > 0, component, "ensembleSize", "must be > 0, not \(ensembleSize)")
        try require(validationFraction >= 0 && validationFraction < 1, component, "validationFraction",
                    "must be in [0, 1), not \(validationFraction)")
        if case let .monteCarloDropout(rate, passes) = uncertainty {
            try require(rate >= 0 && rate < 1, component, "uncertainty.rate", "must be in [0, 1), not \(rate)")
            try require(passes >= 1, component, "uncertainty.passes", "must be ≥ 1, not \(passes)")
        }
    }
}

/// A deep ensemble (Lakshminarayanan et al. 2017) of one network architecture trained with Adam on MSE.
///
/// Targets are standardized with the training rows' mean and deviation so that horizons of different
/// scale weigh alike; forecasts are mapped back. The forecast is the members' mean; its variance is the
/// members' (population) variance plus, when `validationFraction > 0`, the ensemble's mean squared
/// residual on the held-out most recent rows. With ``ForecastUncertainty/monteCarloDropout(rate:passes:)``
/// every member trains with input dropout (masks from its own generator) and predicts with `passes`
/// masked passes; mean and variance are then taken over members × passes. Deterministic: every draw
/// comes from the member seeds or, at prediction, from a generator seeded by `configuration.seed`.
public struct EnsembleForecaster<Network: UnaryModule>: Forecaster where Network.Scalar == Double {
    /// The table name.
    public let name: String
    /// Training and uncertainty settings.
    public let configuration: ForecasterConfiguration
    /// Builds an untrained member for `(features, window, outputs)` from a generator.
    let make: @Sendable (_ features: Int, _ window: Int, _ outputs: Int, inout Xoshiro256StarStar) throws -> Network
    /// The trained members (empty before ``fit(_:)``).
    public private(set) var members: [Network] = []
    /// Training-target means and deviations, per output.
    private var targetLocation: [Double] = [], targetScale: [Double] = []
    /// Validation residual variance per output (zeros when not measured).
    public private(set) var residualVariance: [Double] = []
    /// Fitted window length and feature count.
    private var inputShape: (window: Int, features: Int) = (0, 0)

    /// An untrained ensemble of networks built by `make` (`features`, `window`, `outputs`, generator).
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a bad configuration.
    public init(name: String, configuration: ForecasterConfiguration,
                make: @escaping @Sendable (_ features: Int, _ window: Int, _ outputs: Int, inout Xoshiro256StarStar) throws -> Network) throws {
        try configuration.validate(name)
        self.name = name
        self.configuration = configuration
        self.make = make
    }

    /// Trains `configuration.ensembleSize` members on `data` (minus the validation rows, if any).
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` when too few rows remain to fit or
    ///   validate, ``StrategiesError/trainingDiverged(component:step:message:)`` for a non-finite loss.
    public mutating func fit(_ data: ForecastData) throws {
        let n = data.count, window = data.inputs.shape[1], features = data.inputs.shape[2], outputs = data.targets.shape[1]
        let validationRows = configuration.validationRowCount(n)
        let dropoutRate = configuration.dropout.rate
        let fitRows = n - validationRows - (validationRows > 0 ? data.embargo : 0)
        guard fitRows >= 2 else {
            throw StrategiesError.invalidData(component: name, message: "\(n) rows leave \(fitRows) to fit after validation and embargo; need ≥ 2")
        }
        let x = data.inputs.scalars, y = data.targets.scalars, rowSize = window * features
        // Target standardization on the fitted rows only.
        var location = [Double](repeating: 0, count: outputs), scale = [Double](repeating: 1, count: outputs)
        for j in 0..<outputs {
            let column = (0..<fitRows).map { y[$0 * outputs + j] }
            let mean = column.reduce(0, +) / Double(fitRows)
            let sd = (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(fitRows)).squareRoot()
            location[j] = mean
            scale[j] = sd > 0 ? sd : 1
        }
        let standardized = (0..<(fitRows * outputs)).map { (y[$0] - location[$0 % outputs]) / scale[$0 % outputs] }
        var trained: [Network] = []
        for k in 0..<configuration.ensembleSize {
            var generator = Xoshiro256StarStar(seed: mixSeed(configuration.seed, k))
            var model = try make(features, window, outputs, &generator)
            var parameters = model.parameters()
            var optimizer = try Adam<Double>(learningRate: configuration.learningRate)
            var order = Array(0..<fitRows), step = 0
            for _ in 0..<configuration.epochs {
                shuffle(&order, using: &generator)
                for start in stride(from: 0, to: fitRows, by: configuration.batchSize) {
                    let rows = order[start..<Swift.min(start + configuration.batchSize, fitRows)]
                    var batchX: [Double] = [], batchY: [Double] = []
                    batchX.reserveCapacity(rows.count * rowSize)
                    for r in rows {
                        batchX += x[(r * rowSize)..<((r + 1) * rowSize)]
                        batchY += standardized[(r * outputs)..<((r + 1) * outputs)]
                    }
                    if dropoutRate > 0 { Self.dropInputs(&batchX, rate: dropoutRate, using: &generator) }
                    let inputs = try Tensor(shape: [rows.count, window, features], scalars: batchX)
                    let targets = try Tensor(shape: [rows.count, outputs], scalars: batchY)
                    let variables = parameters.map { $0.requiringGradient() }
                    let loss = try meanSquaredErrorLoss(try model.replacingParameters(variables)(inputs), targets)
                    guard loss.scalar.isFinite else {
                        throw StrategiesError.trainingDiverged(component: name, step: step, message: "MSE is \(loss.scalar)")
                    }
                    var gradients = gradient(of: loss, wrt: variables)
                    try GradientClipping.clipByGlobalNorm(&gradients, maxNorm: configuration.gradientClip)
                    try optimizer.update(&parameters, gradients: gradients)
                    step += 1
                }
            }
            model = try model.replacingParameters(parameters)
            trained.append(model.inEvalMode())
        }
        members = trained
        targetLocation = location
        targetScale = scale
        inputShape = (window, features)
        residualVariance = [Double](repeating: 0, count: outputs)
        if validationRows > 0 {
            let held = data.inputs.sliced(alongAxis: 0, from: n - validationRows, to: n)
            let forecast = try predict(held)
            for j in 0..<outputs {
                var sum = 0.0
                for i in 0..<validationRows {
                    let e = y[(n - validationRows + i) * outputs + j] - forecast.mean[i][j]
                    sum += e * e
                }
                residualVariance[j] = sum / Double(validationRows)
            }
        }
    }

    /// The members' mean forecast and predictive variance for `inputs`; with MC dropout the masks come
    /// from a generator seeded by `configuration.seed`, so the same seed gives the same bits.
    ///
    /// - Throws: as ``predict(_:using:)``.
    public func predict(_ inputs: Tensor<Double>) throws -> Forecast {
        var generator = Xoshiro256StarStar(seed: mixSeed(configuration.seed, 1_000_000))   // beyond every member index
        return try predict(inputs, using: &generator)
    }

    /// The mean forecast and predictive variance over the members (and, with MC dropout, over
    /// `passes` input masks per member drawn from `generator`, member by member, pass by pass, row by row,
    /// so a row's masks depend on its position in `inputs`, never on other rows' values).
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` before ``fit(_:)`` or for inputs of
    ///   another window or feature count, or non-finite inputs.
    public func predict(_ inputs: Tensor<Double>, using generator: inout Xoshiro256StarStar) throws -> Forecast {
        guard !members.isEmpty else { throw StrategiesError.invalidData(component: name, message: "predict called before fit") }
        guard inputs.rank == 3, inputs.shape[0] > 0, inputs.shape[1] == inputShape.window, inputs.shape[2] == inputShape.features else {
            throw StrategiesError.invalidData(component: name,
                                              message: "inputs \(inputs.shape) must be [m, \(inputShape.window), \(inputShape.features)]")
        }
        guard inputs.scalars.allSatisfy(\.isFinite) else {
            throw StrategiesError.invalidData(component: name, message: "inputs must be finite")
        }
        let m = inputs.shape[0], outputs = targetLocation.count
        let (rate, passes) = configuration.dropout
        var outputsByMember: [[Double]] = []
        if rate > 0 {
            for member in members {
                for _ in 0..<passes {
                    var dropped = inputs.scalars
                    Self.dropInputs(&dropped, rate: rate, using: &generator)
                    let masked = try Tensor(shape: inputs.shape.dimensions, scalars: dropped)
                    outputsByMember.append(withoutGradients { member(masked).scalars })
                }
            }
        } else {
            outputsByMember = withoutGradients { members.map { $0(inputs).scalars } }
        }
        var mean = [[Double]](repeating: [Double](repeating: 0, count: outputs), count: m), variance = mean
        let count = Double(outputsByMember.count)
        for i in 0..<m {
            for j in 0..<outputs {
                let values = outputsByMember.map { $0[i * outputs + j] * targetScale[j] + targetLocation[j] }
                let mu = values.reduce(0, +) / count
                mean[i][j] = mu
                variance[i][j] = values.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / count + residualVariance[j]
            }
        }
        return Forecast(checkedMean: mean, variance: variance)
    }
}

extension EnsembleForecaster {
    /// Inverted input dropout: each value is zeroed with probability `rate` (one uniform draw per value, in
    /// order) and the survivors are scaled by `1/(1 − rate)`.
    static func dropInputs(_ values: inout [Double], rate: Double, using generator: inout Xoshiro256StarStar) {
        let keep = 1 / (1 - rate)
        for i in values.indices {
            values[i] = generator.nextUniform() < rate ? 0 : values[i] * keep
        }
    }
}

/// Fisher–Yates with the package generator, so the order is the same on every platform.
func shuffle(_ values: inout [Int], using generator: inout Xoshiro256StarStar) {
    guard values.count > 1 else { return }
    for i in stride(from: values.count - 1, to: 0, by: -1) {
        let j = Int(generator.next() % UInt64(i + 1))
        values.swapAt(i, j)
    }
}

/// A seed derived from `seed` and `k` by SplitMix64 finalization, so that neighbouring seeds share no stream.
func mixSeed(_ seed: UInt64, _ k: Int) -> UInt64 {
    var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(k + 1)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
