import Autodiff
import Linalg

/// The observation model `p(x | z)` of a ``VariationalAutoencoder``: what its decoder's output means and
/// which reconstruction term the ELBO uses (summed over features, per example).
public enum ReconstructionLikelihood: Sendable, Hashable {
    /// A Gaussian with the decoder output as mean and a fixed variance `σ²`:
    /// `−log p(x | z) = ½·Σ[(x − x̂)²/σ² + log(2πσ²)]`.
    case gaussian(variance: Double)
    /// The squared error `Σ(x − x̂)²` (`mse_loss(reduction='sum')`), a Gaussian with `σ² = ½` without its constant.
    case squaredError
    /// Independent Bernoulli variables with the decoder output as logits and targets in `[0, 1]`:
    /// `Σ binary_cross_entropy_with_logits(x̂, x)`.
    case bernoulli
}

/// What a ``VariationalAutoencoder`` computes for a batch.
public struct VariationalAutoencoderOutput<Scalar: TensorScalar>: Sendable {
    /// The decoder's output `[batch, inputSize]`: the mean (Gaussian) or the logits (Bernoulli).
    public let reconstruction: Tensor<Scalar>
    /// The posterior mean `μ` `[batch, latentSize]`.
    public let mean: Tensor<Scalar>
    /// The posterior log-variance `log σ²` `[batch, latentSize]`.
    public let logVariance: Tensor<Scalar>
    /// The latent sample `z = μ + σ·ε` `[batch, latentSize]`.
    public let latent: Tensor<Scalar>
}

/// The terms of the evidence lower bound for a batch, each averaged over the batch.
public struct EvidenceLowerBound<Scalar: TensorScalar>: Sendable {
    /// The loss to minimize: `reconstruction + β·klDivergence`, the negative (β-weighted) ELBO per example.
    public let loss: Tensor<Scalar>
    /// `−E_q[log p(x | z)]`, estimated with the one sample `z`, per example.
    public let reconstruction: Tensor<Scalar>
    /// `KL(q(z | x) ‖ N(0, I)) = −½·Σ(1 + log σ² − μ² − σ²)` per example (analytic).
    public let klDivergence: Tensor<Scalar>
}

/// A variational autoencoder (Kingma & Welling 2014, "Auto-Encoding Variational Bayes") with
/// fully connected encoder and decoder and a diagonal Gaussian posterior.
///
/// Encoder: `encoder.k` (``Linear``, each followed by `activation`), then the heads `mu` and `logvar`
/// to the latent size. Decoder: `decoder.k` (``Linear`` with `activation`) and `output` (``Linear`` to
/// the input size, no activation). The latent is reparameterized as `z = μ + exp(½·log σ²)·ε` with
/// `ε ~ N(0, I)`, so gradients reach `μ` and `log σ²`. Shapes: `[batch, inputSize]` in and out.
public struct VariationalAutoencoder<Scalar: TensorScalar>: Module {
    /// The encoder's hidden layers.
    public var encoder: [Linear<Scalar>]
    /// The posterior mean head.
    public var meanHead: Linear<Scalar>
    /// The posterior log-variance head.
    public var logVarianceHead: Linear<Scalar>
    /// The decoder's hidden layers.
    public var decoder: [Linear<Scalar>]
    /// The decoder's output layer.
    public var output: Linear<Scalar>
    /// The activation after every hidden layer.
    public let activation: Activation
    /// Latent dimensions.
    public let latentSize: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A VAE with PyTorch's default `Linear` initialization, drawn in state-dict order.
    ///
    /// - Parameters:
    ///   - inputSize: features per example.
    ///   - hiddenSizes: the encoder's hidden widths, in order.
    ///   - latentSize: latent dimensions.
    ///   - decoderHiddenSizes: the decoder's hidden widths; `nil` mirrors the encoder (`hiddenSizes` reversed).
    ///   - activation: applied after every hidden layer.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for a non-positive size.
    public init(inputSize: Int, hiddenSizes: [Int], latentSize: Int, decoderHiddenSizes: [Int]? = nil,
                activation: Activation = .relu, using generator: inout Xoshiro256StarStar) throws {
        let decoderSizes = decoderHiddenSizes ?? Array(hiddenSizes.reversed())
        guard inputSize > 0, latentSize > 0, (hiddenSizes + decoderSizes).allSatisfy({ $0 > 0 }) else {
            throw NNError.invalidConfiguration(layer: "VariationalAutoencoder", reason: """
                input \(inputSize), hidden \(hiddenSizes), latent \(latentSize), decoder hidden \(decoderSizes): \
                sizes must be positive
                """)
        }
        func layers(_ sizes: [Int], from first: Int) throws -> [Linear<Scalar>] {
            try zip([first] + sizes.dropLast(), sizes).map { try Linear(inFeatures: $0, outFeatures: $1, using: &generator) }
        }
        encoder = try layers(hiddenSizes, from: inputSize)
        let encoded = hiddenSizes.last ?? inputSize
        meanHead = try Linear(inFeatures: encoded, outFeatures: latentSize, using: &generator)
        logVarianceHead = try Linear(inFeatures: encoded, outFeatures: latentSize, using: &generator)
        decoder = try layers(decoderSizes, from: latentSize)
        output = try Linear(inFeatures: decoderSizes.last ?? latentSize, outFeatures: inputSize, using: &generator)
        (self.activation, self.latentSize) = (activation, latentSize)
    }

    /// Presents `encoder.*`, `mu`, `logvar`, `decoder.*`, `output`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.children("encoder", &encoder)
        visitor.child("mu", &meanHead)
        visitor.child("logvar", &logVarianceHead)
        visitor.children("decoder", &decoder)
        visitor.child("output", &output)
    }

    /// The posterior parameters `(μ, log σ²)`, each `[batch, latentSize]`, for `input` `[batch, inputSize]`.
    public func encode(_ input: Tensor<Scalar>) -> (mean: Tensor<Scalar>, logVariance: Tensor<Scalar>) {
        precondition(input.rank == 2 && input.shape[1] == (encoder.first ?? meanHead).weight.shape[1],
                     "VariationalAutoencoder: input of shape \(input.shape) is not [batch, \(output.weight.shape[0])]")
        let hidden = encoder.reduce(input) { x, layer in activation(layer(x)) }
        return (meanHead(hidden), logVarianceHead(hidden))
    }

    /// The decoder's output `[batch, inputSize]` (mean or logits) for latents `[batch, latentSize]`.
    public func decode(_ latent: Tensor<Scalar>) -> Tensor<Scalar> {
        output(decoder.reduce(latent) { z, layer in activation(layer(z)) })
    }

    /// Encodes, samples `z = μ + σ·noise` with the given standard-normal `noise` `[batch, latentSize]`, and decodes.
    public func callAsFunction(_ input: Tensor<Scalar>, noise: Tensor<Scalar>) -> VariationalAutoencoderOutput<Scalar> {
        let (mean, logVariance) = encode(input)
        precondition(noise.shape == mean.shape, "VariationalAutoencoder: noise of shape \(noise.shape) is not \(mean.shape)")
        let latent = mean + (0.5 * logVariance).exp() * noise
        return VariationalAutoencoderOutput(reconstruction: decode(latent), mean: mean, logVariance: logVariance,
                                            latent: latent)
    }

    /// Encodes, samples `z` with noise drawn from `generator` in training mode (`z = μ` in eval mode), and decodes.
    public func callAsFunction(_ input: Tensor<Scalar>, using generator: inout Xoshiro256StarStar)
        -> VariationalAutoencoderOutput<Scalar> {
        guard settings.isTraining else { return self(input, noise: .zeros([input.shape[0], latentSize])) }
        return self(input, noise: .normal([input.shape[0], latentSize], using: &generator))
    }

    /// The negative evidence lower bound of `input` under `result` (from this model), averaged over the batch:
    /// `loss = reconstruction + β·KL` (β-VAE, Higgins et al. 2017; β = 1 is the ELBO).
    ///
    /// - Parameters:
    ///   - input: the batch `[batch, inputSize]` that was encoded.
    ///   - result: this model's output for `input`.
    ///   - likelihood: the reconstruction term.
    ///   - klWeight: `β ≥ 0`.
    /// - Throws: ``LossError/invalidOption(loss:name:value:requirement:)`` for a negative or non-finite `β` or a
    ///   non-positive variance; ``LossError/shapeMismatch(loss:argument:expected:actual:)`` when `input` is not
    ///   shaped like the reconstruction; ``LossError/invalidValue(loss:argument:position:value:requirement:)`` for a
    ///   Bernoulli target outside `[0, 1]`.
    public func evidenceLowerBound(input: Tensor<Scalar>, result: VariationalAutoencoderOutput<Scalar>,
                                   likelihood: ReconstructionLikelihood, klWeight: Double = 1) throws
        -> EvidenceLowerBound<Scalar> {
        let name = "evidenceLowerBound"
        guard klWeight >= 0, klWeight.isFinite else {
            throw LossError.invalidOption(loss: name, name: "klWeight", value: klWeight, requirement: "finite and ≥ 0")
        }
        let batch = Scalar(result.mean.shape[0])
        let summed: Tensor<Scalar>
        switch likelihood {
        case .gaussian(let variance):
            guard variance > 0, variance.isFinite else {
                throw LossError.invalidOption(loss: name, name: "variance", value: variance, requirement: "finite and > 0")
            }
            // The variance floor ε is set to σ² itself, so it never clamps.
            summed = try gaussianNegativeLogLikelihoodLoss(
                mean: result.reconstruction, targets: input, variance: .full(result.reconstruction.shape, Scalar(variance)),
                full: true, epsilon: variance, reduction: .sum)
        case .squaredError:
            summed = try meanSquaredErrorLoss(result.reconstruction, input, reduction: .sum)
        case .bernoulli:
            if let position = input.scalars.firstIndex(where: { !(0...1).contains($0) }) {
                throw LossError.invalidValue(loss: name, argument: "input", position: position,
                                             value: Double(input.scalars[position]), requirement: "a Bernoulli target in [0, 1]")
            }
            summed = try binaryCrossEntropyWithLogitsLoss(logits: result.reconstruction, targets: input, reduction: .sum)
        }
        let reconstruction = summed / batch
        let v = result.logVariance
        let klSum: Tensor<Scalar> = (1 + v - result.mean.squared() - v.exp()).sum()
        let klDivergence = klSum * Scalar(-0.5) / batch
        return EvidenceLowerBound(loss: reconstruction + Scalar(klWeight) * klDivergence,
                                  reconstruction: reconstruction, klDivergence: klDivergence)
    }
}
