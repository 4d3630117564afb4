#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A learning rate as a function of the step (epoch) counter, in closed form.
///
/// `learningRate(atStep: k)` is the rate PyTorch's scheduler holds after `k`
/// calls of `scheduler.step()` (its `last_epoch == k`); step 0 is the initial
/// rate. Set it on the optimizer before each update:
///
/// ```swift
/// let schedule = try CosineAnnealing(baseLearningRate: 0.1, period: 100)
/// for epoch in 0..<100 {
///     optimizer.learningRate = schedule.learningRate(atStep: epoch)
///     // … updates of this epoch …
/// }
/// ```
///
/// PyTorch computes most schedules recursively (multiplying the previous
/// rate); the closed forms here agree with them to rounding (a few ulps).
public protocol LearningRateSchedule: Sendable {
    /// The learning rate after `step` scheduler steps (`step ≥ 0`; negative steps count as 0).
    func learningRate(atStep step: Int) -> Double
}

/// Multiplies the rate by `gamma` every `stepSize` steps: `γ₀·gamma^⌊k/stepSize⌋` (PyTorch's `StepLR`).
public struct StepDecay: LearningRateSchedule {
    /// `γ₀`, the rate at step 0.
    public let baseLearningRate: Double
    /// Steps between decays (≥ 1).
    public let stepSize: Int
    /// The decay factor (> 0; PyTorch's default 0.1).
    public let gamma: Double

    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative
    ///   base rate, a step size below 1 or a non-positive gamma.
    public init(baseLearningRate: Double, stepSize: Int, gamma: Double = 0.1) throws {
        try requireNonNegative(baseLearningRate, "StepDecay", "baseLearningRate")
        try require(stepSize >= 1, "StepDecay", "stepSize", Double(stepSize), "must be ≥ 1")
        try require(gamma.isFinite && gamma > 0, "StepDecay", "gamma", gamma, "must be finite and > 0")
        self.baseLearningRate = baseLearningRate
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// `γ₀·gamma^⌊k/stepSize⌋`.
    public func learningRate(atStep step: Int) -> Double {
        baseLearningRate * pow(gamma, Double(Swift.max(step, 0) / stepSize))
    }
}

/// Multiplies the rate by `gamma` at each milestone: `γ₀·gamma^#{mᵢ ≤ k}` (PyTorch's `MultiStepLR`).
public struct MultiStepDecay: LearningRateSchedule {
    /// `γ₀`, the rate at step 0.
    public let baseLearningRate: Double
    /// Steps at which the rate decays, increasing (a repeated milestone decays twice there, as in PyTorch).
    public let milestones: [Int]
    /// The decay factor (> 0; PyTorch's default 0.1).
    public let gamma: Double

    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative base
    ///   rate, a non-positive gamma, or milestones that are negative or decrease.
    public init(baseLearningRate: Double, milestones: [Int], gamma: Double = 0.1) throws {
        try requireNonNegative(baseLearningRate, "MultiStepDecay", "baseLearningRate")
        try require(gamma.isFinite && gamma > 0, "MultiStepDecay", "gamma", gamma, "must be finite and > 0")
        for (i, m) in milestones.enumerated() {
            try require(m >= 0, "MultiStepDecay", "milestones[\(i)]", Double(m), "must be ≥ 0")
            if i > 0 {
                try require(m >= milestones[i - 1], "MultiStepDecay", "milestones[\(i)]", Double(m),
                            "milestones must not decrease")
            }
        }
        self.baseLearningRate = baseLearningRate
        self.milestones = milestones
        self.gamma = gamma
    }

    /// `γ₀·gamma^n` with `n` the number of milestones `≤ k`.
    public func learningRate(atStep step: Int) -> Double {
        let passed = milestones.lazy.filter { $0 <= step }.count
        return baseLearningRate * pow(gamma, Double(passed))
    }
}

/// Multiplies the rate by `gamma` every step: `γ₀·gammaᵏ` (PyTorch's `ExponentialLR`).
public struct ExponentialDecay: LearningRateSchedule {
    /// `γ₀`, the rate at step 0.
    public let baseLearningRate: Double
    /// The per-step factor (> 0).
    public let gamma: Double

    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative base
    ///   rate or a non-positive gamma.
    public init(baseLearningRate: Double, gamma: Double) throws {
        try requireNonNegative(baseLearningRate, "ExponentialDecay", "baseLearningRate")
        try require(gamma.isFinite && gamma > 0, "ExponentialDecay", "gamma", gamma, "must be finite and > 0")
        self.baseLearningRate = baseLearningRate
        self.gamma = gamma
    }

    /// `γ₀·gammaᵏ`.
    public func learningRate(atStep step: Int) -> Double {
        baseLearningRate * pow(gamma, Double(Swift.max(step, 0)))
    }
}

/// Cosine annealing without restarts (Loshchilov & Hutter, "SGDR", ICLR 2017; PyTorch's `CosineAnnealingLR`):
/// `η_min + (γ₀ − η_min)·(1 + cos(π·k/T))/2`.
///
/// Past step `T` the closed form keeps following the cosine (rising again
/// towards `γ₀` at `2T`), as PyTorch's scheduler does.
public struct CosineAnnealing: LearningRateSchedule {
    /// `γ₀`, the rate at step 0.
    public let baseLearningRate: Double
    /// `T`, the number of steps from `γ₀` down to `η_min` (≥ 1; PyTorch's `T_max`).
    public let period: Int
    /// `η_min`, the rate reached at step `T` (≥ 0; default 0).
    public let minimumLearningRate: Double

    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative rate
    ///   or a period below 1.
    public init(baseLearningRate: Double, period: Int, minimumLearningRate: Double = 0) throws {
        try requireNonNegative(baseLearningRate, "CosineAnnealing", "baseLearningRate")
        try require(period >= 1, "CosineAnnealing", "period", Double(period), "must be ≥ 1")
        try requireNonNegative(minimumLearningRate, "CosineAnnealing", "minimumLearningRate")
        self.baseLearningRate = baseLearningRate
        self.period = period
        self.minimumLearningRate = minimumLearningRate
    }

    /// `η_min + (γ₀ − η_min)·(1 + cos(π·k/T))/2`.
    public func learningRate(atStep step: Int) -> Double {
        let k = Double(Swift.max(step, 0))
        return minimumLearningRate
            + (baseLearningRate - minimumLearningRate) * (1 + cos(Double.pi * k / Double(period))) / 2
    }
}

/// A linear warm-up followed by another schedule.
///
/// For `k < W` the rate is `γ₀·(s + (1 − s)·k/W)` with `γ₀` the following
/// schedule's rate at its step 0 and `s` the start factor; from step `W` on it
/// is `schedule.learningRate(atStep: k − W)`. This is PyTorch's
/// `SequentialLR([LinearLR(start_factor: s, total_iters: W), schedule], milestones: [W])`
/// (Goyal et al., "Accurate, large minibatch SGD", arXiv:1706.02677, 2017, on warm-up).
public struct LinearWarmup<Following: LearningRateSchedule>: LearningRateSchedule {
    /// `W`, the number of warm-up steps (≥ 1).
    public let warmupSteps: Int
    /// `s`, the fraction of the base rate used at step 0 (in `(0, 1]`; PyTorch's `LinearLR` default 1/3).
    public let startFactor: Double
    /// The schedule that takes over at step `W`, restarted at its own step 0.
    public let following: Following

    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for fewer than one
    ///   warm-up step or a start factor outside `(0, 1]`.
    public init(warmupSteps: Int, startFactor: Double = 1.0 / 3.0, then following: Following) throws {
        try require(warmupSteps >= 1, "LinearWarmup", "warmupSteps", Double(warmupSteps), "must be ≥ 1")
        try require(startFactor > 0 && startFactor <= 1, "LinearWarmup", "startFactor", startFactor,
                    "must be in (0, 1]")
        self.warmupSteps = warmupSteps
        self.startFactor = startFactor
        self.following = following
    }

    /// The warm-up ramp before step `W`, the following schedule after.
    public func learningRate(atStep step: Int) -> Double {
        let k = Swift.max(step, 0)
        guard k < warmupSteps else { return following.learningRate(atStep: k - warmupSteps) }
        let factor = startFactor + (1 - startFactor) * Double(k) / Double(warmupSteps)
        return following.learningRate(atStep: 0) * factor
    }
}
