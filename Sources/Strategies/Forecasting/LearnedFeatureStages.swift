import Autodiff
import Foundation
import Linalg
import NN

/// Settings of a ``WaveletDenoisingStage``.
public struct WaveletDenoiserConfiguration: Sendable, Hashable, Codable {
    /// Columns whose name starts with this prefix are denoised (the causal MRA components `mraD1 … mraSJ`).
    public var columnPrefix: String
    /// Rows in the window ending at `t` that the U-Net reads to denoise row `t` (≥ 2^depth).
    public var length: Int
    /// Down-sampling steps of the U-Net.
    public var depth: Int
    /// Channels of the U-Net's first level.
    public var baseChannels: Int
    /// Width of the U-Net's convolutions.
    public var kernelSize: Int
    /// Standard deviation of the corrupting Gaussian noise, relative to the column's training deviation.
    public var noise: Double
    /// Passes over the training windows.
    public var epochs: Int
    /// Windows per Adam step.
    public var batchSize: Int
    /// Adam learning rate.
    public var learningRate: Double

    /// The defaults: windows of 16 rows, a depth-2 U-Net with 4 base channels and kernel 3, noise 0.5, 10 epochs.
    public init(columnPrefix: String = "mra", length: Int = 16, depth: Int = 2, baseChannels: Int = 4, kernelSize: Int = 3,
                noise: Double = 0.5, epochs: Int = 10, batchSize: Int = 64, learningRate: Double = 1e-3) {
        self.columnPrefix = columnPrefix
        self.length = length
        self.depth = depth
        self.baseChannels = baseChannels
        self.kernelSize = kernelSize
        self.noise = noise
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
    }

    /// Throws unless every field is in its domain.
    func validate() throws {
        let component = "WaveletDenoiserConfiguration"
        try require(!columnPrefix.isEmpty, component, "columnPrefix", "must not be empty")
        try require((1...8).contains(depth), component, "depth", "must be in 1...8, not \(depth)")
        try require(length >= 1 << depth, component, "length", "must be ≥ 2^depth = \(1 << depth), not \(length)")
        try require(baseChannels >= 1 && baseChannels <= 256, component, "baseChannels", "must be in 1...256, not \(baseChannels)")
        try require(kernelSize >= 1, component, "kernelSize", "must be ≥ 1, not \(kernelSize)")
        try require(noise.isFinite && noise >= 0, component, "noise", "must be finite and ≥ 0, not \(noise)")
        try validateTraining(component, epochs: epochs, batchSize: batchSize, learningRate: learningRate)
    }

    /// The U-Net of one component: one channel in and out, no batch normalization (its training-mode
    /// statistics would mix the windows of a batch).
    var network: UNet1DConfiguration {
        UNet1DConfiguration(inChannels: 1, outChannels: 1, baseChannels: baseChannels, depth: depth, kernelSize: kernelSize,
                            downsampling: .maxPool, batchNorm: false)
    }
}

/// A denoising autoencoder (Vincent et al. 2008) per wavelet component: a ``UNet1D`` trained to
/// reconstruct the component's window of `length` rows from a copy corrupted by Gaussian noise.
///
/// Training uses the windows that end at each training row; row `t` is then replaced by the last
/// value of the U-Net's output for the clean window ending at `t`, so it reads rows `t − length + 1 … t`
/// only. Other columns pass through. Each component's network and noise draw from a seed derived from
/// the fit seed and the component's position.
public struct WaveletDenoisingStage: ForecastFeatureStage {
    /// The settings.
    public let configuration: WaveletDenoiserConfiguration
    /// Positions of the denoised columns (empty before fitting).
    public private(set) var columns: [Int] = []
    /// One trained network per denoised column, in eval mode.
    public private(set) var networks: [UNet1D<Double>] = []
    /// Columns of the fitted rows.
    public private(set) var width = 0

    /// An unfitted stage.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming a bad setting.
    public init(_ configuration: WaveletDenoiserConfiguration = WaveletDenoiserConfiguration()) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// `length − 1` rows.
    public var lookback: Int { configuration.length - 1 }

    /// The input columns (denoised in place).
    public func outputColumns(_ columns: [String]) -> [String] { columns }

    /// Trains one U-Net per column named with the prefix on the windows of `rows`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for no such column, fewer than 2 windows
    ///   or non-finite rows; ``StrategiesError/trainingDiverged(component:step:message:)`` for a non-finite loss.
    public mutating func fit(_ rows: [[Double]], columns names: [String], seed: UInt64) throws {
        let component = "WaveletDenoisingStage", c = configuration, length = c.length
        try configuration.validate()
        try checkRows(rows, width: names.count, component: component)
        let picked = names.indices.filter { names[$0].hasPrefix(c.columnPrefix) }
        guard !picked.isEmpty else {
            throw StrategiesError.invalidData(component: component, message: "no column starts with \(c.columnPrefix) among \(names)")
        }
        let windowCount = rows.count - length + 1
        guard windowCount >= 2 else {
            throw StrategiesError.invalidData(component: component, message: "\(rows.count) rows leave \(windowCount) windows of \(length); need ≥ 2")
        }
        var trained: [UNet1D<Double>] = []
        for (k, column) in picked.enumerated() {
            var generator = Xoshiro256StarStar(seed: mixSeed(seed, k))
            let series = rows.map { $0[column] }
            let mean = series.reduce(0, +) / Double(series.count)
            let deviation = (series.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(series.count)).squareRoot()
            let sigma = c.noise * (deviation > 0 ? deviation : 1)
            let network = try UNet1D<Double>(c.network, using: &generator)
            var parameters = network.parameters()
            try trainWithAdam(&parameters, rowCount: windowCount, epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate,
                              component: component, using: &generator) { variables, batch, generator in
                var clean: [Double] = []
                clean.reserveCapacity(batch.count * length)
                for r in batch { clean += series[r..<(r + length)] }
                let target = try Tensor(shape: [batch.count, 1, length], scalars: clean)
                let noisy = target + Tensor<Double>.normal([batch.count, 1, length], standardDeviation: sigma, using: &generator)
                var model = try network.replacingParameters(variables)
                return try meanSquaredErrorLoss(model(noisy), target)
            }
            trained.append(try network.replacingParameters(parameters).inEvalMode())
        }
        (columns, networks, width) = (picked, trained, names.count)
    }

    /// Rows `length − 1 …` of `rows` with each denoised column replaced by its network's last output on the
    /// window ending at that row.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` before fitting, for rows of another
    ///   width, non-finite values or fewer rows than `length`.
    public func transform(_ rows: [[Double]]) throws -> [[Double]] {
        let component = "WaveletDenoisingStage", length = configuration.length
        try checkRows(rows, width: networks.isEmpty ? 0 : width, component: component)
        let count = rows.count - length + 1
        guard count >= 1 else {
            throw StrategiesError.invalidData(component: component, message: "\(rows.count) rows are fewer than the window of \(length)")
        }
        var output = Array(rows[(length - 1)...])
        for (column, network) in zip(columns, networks) {
            var scalars: [Double] = []
            scalars.reserveCapacity(count * length)
            for i in 0..<count { for r in i..<(i + length) { scalars.append(rows[r][column]) } }
            let input = try Tensor(shape: [count, 1, length], scalars: scalars)
            var model = network
            let denoised = withoutGradients { model(input).scalars }
            for i in 0..<count { output[i][column] = denoised[i * length + length - 1] }
        }
        return output
    }

    private enum CodingKeys: String, CodingKey { case configuration, columns, width, networks }

    /// Decodes the settings, the denoised columns and each network's safetensors weights.
    ///
    /// - Throws: `DecodingError` for bad JSON, settings or weights.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try container.decode(WaveletDenoiserConfiguration.self, forKey: .configuration)
        columns = try container.decode([Int].self, forKey: .columns)
        width = try container.decode(Int.self, forKey: .width)
        let weights = try container.decode([Data].self, forKey: .networks)
        let settings = configuration
        guard weights.count == columns.count, columns.allSatisfy({ (0..<width).contains($0) }) else {
            throw DecodingError.dataCorruptedError(forKey: .networks, in: container, debugDescription: "columns and networks do not match")
        }
        networks = try decodeWeights(weights, key: .networks, in: container) { generator in
            try settings.validate()
            return try UNet1D<Double>(settings.network, using: &generator)
        }
    }

    /// Encodes the settings, the denoised columns and each network's weights as safetensors (F64, exact).
    ///
    /// - Throws: `EncodingError` from the encoder.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(configuration, forKey: .configuration)
        try container.encode(columns, forKey: .columns)
        try container.encode(width, forKey: .width)
        try container.encode(networks.map { Data($0.safetensorsBytes()) }, forKey: .networks)
    }
}

/// Settings of a ``VariationalCompressionStage``.
public struct VariationalCompressionConfiguration: Sendable, Hashable, Codable {
    /// Latent dimensions: the columns after compression.
    public var latentSize: Int
    /// The encoder's hidden widths (the decoder mirrors them).
    public var hiddenSizes: [Int]
    /// β of the β-VAE loss (1 is the ELBO).
    public var klWeight: Double
    /// Passes over the training rows.
    public var epochs: Int
    /// Rows per Adam step.
    public var batchSize: Int
    /// Adam learning rate.
    public var learningRate: Double

    /// The defaults: 4 latent dimensions, one hidden layer of 16, β = 1, 20 epochs.
    public init(latentSize: Int = 4, hiddenSizes: [Int] = [16], klWeight: Double = 1, epochs: Int = 20, batchSize: Int = 64,
                learningRate: Double = 1e-3) {
        self.latentSize = latentSize
        self.hiddenSizes = hiddenSizes
        self.klWeight = klWeight
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
    }

    /// Throws unless every field is in its domain.
    func validate() throws {
        let component = "VariationalCompressionConfiguration"
        try require(latentSize >= 1, component, "latentSize", "must be ≥ 1, not \(latentSize)")
        try require(hiddenSizes.allSatisfy { $0 >= 1 }, component, "hiddenSizes", "must be ≥ 1, not \(hiddenSizes)")
        try require(klWeight.isFinite && klWeight >= 0, component, "klWeight", "must be finite and ≥ 0, not \(klWeight)")
        try validateTraining(component, epochs: epochs, batchSize: batchSize, learningRate: learningRate)
    }
}

/// Compression of each feature row to the posterior mean of a ``VariationalAutoencoder`` (Kingma &
/// Welling 2014) fitted on the training rows: row-wise, so row `t` reads row `t` only.
///
/// The VAE is trained with Adam on the squared-error ELBO (`reconstruction + β·KL`), its initialization,
/// shuffles and latent noise drawn from the fit seed. The output columns are `z1 … zK`.
public struct VariationalCompressionStage: ForecastFeatureStage {
    /// The settings.
    public let configuration: VariationalCompressionConfiguration
    /// The trained VAE in eval mode (`nil` before fitting).
    public private(set) var network: VariationalAutoencoder<Double>?
    /// Columns of the fitted rows.
    public private(set) var width = 0

    /// An unfitted stage.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming a bad setting.
    public init(_ configuration: VariationalCompressionConfiguration = VariationalCompressionConfiguration()) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Row-wise.
    public var lookback: Int { 0 }

    /// `z1 … zK`.
    public func outputColumns(_ columns: [String]) -> [String] { (1...configuration.latentSize).map { "z\($0)" } }

    /// Trains the VAE on `rows`.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming `latentSize` when it
    ///   exceeds the column count; ``StrategiesError/invalidData(component:message:)`` for fewer than 2 rows or
    ///   non-finite rows; ``StrategiesError/trainingDiverged(component:step:message:)`` for a non-finite loss.
    public mutating func fit(_ rows: [[Double]], columns: [String], seed: UInt64) throws {
        let component = "VariationalCompressionStage", c = configuration, d = columns.count
        try c.validate()
        try require(c.latentSize <= d, component, "latentSize", "must be ≤ the \(d) feature columns, not \(c.latentSize)")
        try checkRows(rows, width: d, component: component)
        guard rows.count >= 2 else { throw StrategiesError.invalidData(component: component, message: "\(rows.count) rows; need ≥ 2") }
        var generator = Xoshiro256StarStar(seed: seed)
        let vae = try VariationalAutoencoder<Double>(inputSize: d, hiddenSizes: c.hiddenSizes, latentSize: c.latentSize, using: &generator)
        var parameters = vae.parameters()
        try trainWithAdam(&parameters, rowCount: rows.count, epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate,
                          component: component, using: &generator) { variables, batch, generator in
            let input = try Tensor(shape: [batch.count, d], scalars: batch.flatMap { rows[$0] })
            let model = try vae.replacingParameters(variables)
            return try model.evidenceLowerBound(input: input, result: model(input, using: &generator), likelihood: .squaredError,
                                                klWeight: c.klWeight).loss
        }
        network = try vae.replacingParameters(parameters).inEvalMode()
        width = d
    }

    /// Each row's posterior mean `μ(x)`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` before fitting, for rows of another width
    ///   or non-finite values.
    public func transform(_ rows: [[Double]]) throws -> [[Double]] {
        try checkRows(rows, width: network == nil ? 0 : width, component: "VariationalCompressionStage")
        guard let network, !rows.isEmpty else { return [] }
        let k = configuration.latentSize
        let input = try Tensor(shape: [rows.count, width], scalars: rows.flatMap { $0 })
        let means = withoutGradients { network.encode(input).mean.scalars }
        return (0..<rows.count).map { Array(means[($0 * k)..<(($0 + 1) * k)]) }
    }

    private enum CodingKeys: String, CodingKey { case configuration, width, network }

    /// Decodes the settings and the VAE's safetensors weights (absent before fitting).
    ///
    /// - Throws: `DecodingError` for bad JSON, settings or weights.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try container.decode(VariationalCompressionConfiguration.self, forKey: .configuration)
        width = try container.decode(Int.self, forKey: .width)
        let settings = configuration, inputSize = width
        network = try decodeWeights(try container.decodeIfPresent(Data.self, forKey: .network).map { [$0] } ?? [],
                                    key: .network, in: container) { generator in
            try settings.validate()
            return try VariationalAutoencoder<Double>(inputSize: inputSize, hiddenSizes: settings.hiddenSizes,
                                                      latentSize: settings.latentSize, using: &generator)
        }.first
    }

    /// Encodes the settings and the VAE's weights as safetensors (F64, exact).
    ///
    /// - Throws: `EncodingError` from the encoder.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(configuration, forKey: .configuration)
        try container.encode(width, forKey: .width)
        try container.encodeIfPresent(network.map { Data($0.safetensorsBytes()) }, forKey: .network)
    }
}

/// Networks built by `make` (initial weights irrelevant) with each of `weights` (safetensors bytes) loaded
/// strictly, in eval mode; any failure becomes a `DecodingError` at `key`.
private func decodeWeights<Network: Module, Key: CodingKey>(
    _ weights: [Data], key: Key, in container: KeyedDecodingContainer<Key>,
    make: (inout Xoshiro256StarStar) throws -> Network) throws -> [Network] {
    do {
        return try weights.map { bytes in
            var generator = Xoshiro256StarStar(seed: 0)
            var network = try make(&generator)
            try network.load(SafeTensorsFile(bytes: [UInt8](bytes)))
            return network.inEvalMode()
        }
    } catch let error as DecodingError {
        throw error
    } catch {
        throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "network weights: \(error)")
    }
}

/// Throws ``StrategiesError/invalidArgument(component:parameter:message:)`` naming `epochs`, `batchSize` or
/// `learningRate` unless the first two are ≥ 1 and the rate finite and > 0.
func validateTraining(_ component: String, epochs: Int, batchSize: Int, learningRate: Double) throws {
    try require(epochs >= 1, component, "epochs", "must be ≥ 1, not \(epochs)")
    try require(batchSize >= 1, component, "batchSize", "must be ≥ 1, not \(batchSize)")
    try require(learningRate.isFinite && learningRate > 0, component, "learningRate", "must be finite and > 0, not \(learningRate)")
}

/// Adam on shuffled mini-batches of `rowCount` rows for `epochs` passes, the gradient's global norm clipped
/// at 1; `loss` builds a batch's loss from the parameter variables, the batch's rows and the generator.
///
/// - Throws: ``StrategiesError/trainingDiverged(component:step:message:)`` for a non-finite loss, and `loss`'s errors.
func trainWithAdam(_ parameters: inout [Tensor<Double>], rowCount: Int, epochs: Int, batchSize: Int, learningRate: Double,
                   component: String, using generator: inout Xoshiro256StarStar,
                   loss: ([Tensor<Double>], ArraySlice<Int>, inout Xoshiro256StarStar) throws -> Tensor<Double>) throws {
    var optimizer = try Adam<Double>(learningRate: learningRate)
    var order = Array(0..<rowCount), step = 0
    for _ in 0..<epochs {
        shuffle(&order, using: &generator)
        for start in stride(from: 0, to: rowCount, by: batchSize) {
            let variables = parameters.map { $0.requiringGradient() }
            let value = try loss(variables, order[start..<Swift.min(start + batchSize, rowCount)], &generator)
            guard value.scalar.isFinite else {
                throw StrategiesError.trainingDiverged(component: component, step: step, message: "loss is \(value.scalar)")
            }
            var gradients = gradient(of: value, wrt: variables)
            try GradientClipping.clipByGlobalNorm(&gradients, maxNorm: 1)
            try optimizer.update(&parameters, gradients: gradients)
            step += 1
        }
    }
}
