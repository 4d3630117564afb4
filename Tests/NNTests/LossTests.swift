import Autodiff
import Testing
@testable import NN

/// The loss a fixture case describes, applied to `inputs` (by the script's input names).
private func evaluateLoss<S: TensorScalar>(_ c: LossCase, _ x: [String: Tensor<S>],
                                           _ reduction: LossReduction) throws -> Tensor<S> {
    let o = c.options
    let targets = o.list("targets").map { $0.map { Int($0) } }
    switch c.name {
    case "mse": return try meanSquaredErrorLoss(x["predictions"]!, x["targets"]!, reduction: reduction)
    case "l1": return try meanAbsoluteErrorLoss(x["predictions"]!, x["targets"]!, reduction: reduction)
    case "huber":
        return try huberLoss(x["predictions"]!, x["targets"]!, delta: o.number("delta", default: 1), reduction: reduction)
    case "smooth_l1":
        return try smoothL1Loss(x["predictions"]!, x["targets"]!, beta: o.number("beta", default: 1),
                                reduction: reduction)
    case "cross_entropy_indices", "cross_entropy_class_weights":
        return try crossEntropyLoss(logits: x["logits"]!, classIndices: targets!, classWeights: x["class_weights"],
                                    ignoreIndex: Int(o.number("ignore_index", default: -100)),
                                    labelSmoothing: o.number("label_smoothing", default: 0), reduction: reduction)
    case "cross_entropy_indices_3d", "cross_entropy_class_weights_3d":
        let shape = o.list("targets_shape")!.map { Int($0) }
        return try crossEntropyLoss(logits: x["logits"]!, classIndices: TensorIndices(shape: shape, values: targets!),
                                    classWeights: x["class_weights"],
                                    labelSmoothing: o.number("label_smoothing", default: 0), reduction: reduction)
    case "cross_entropy_probabilities", "cross_entropy_probabilities_class_weights":
        return try crossEntropyLoss(logits: x["logits"]!, targetProbabilities: x["targets"]!,
                                    classWeights: x["class_weights"],
                                    labelSmoothing: o.number("label_smoothing", default: 0), reduction: reduction)
    case "nll", "nll_class_weights":
        return try negativeLogLikelihoodLoss(logProbabilities: x["log_probabilities"]!,
                                             classIndices: TensorIndices(shape: [targets!.count], values: targets!),
                                             classWeights: x["class_weights"], reduction: reduction)
    case "bce_logits", "bce_logits_pos_weight":
        return try binaryCrossEntropyWithLogitsLoss(logits: x["logits"]!, targets: x["targets"]!,
                                                    positiveWeight: x["pos_weight"], reduction: reduction)
    case "gaussian_nll_full", "gaussian_nll_shared_variance", "gaussian_nll_column_variance":
        return try gaussianNegativeLogLikelihoodLoss(mean: x["mean"]!, targets: x["targets"]!,
                                                     variance: x["variance"]!, full: o.flag("full"),
                                                     epsilon: o.number("eps", default: 1e-6), reduction: reduction)
    case "portfolio_reward":
        return try portfolioLogReturnReward(weights: x["weights"]!, priceRelatives: x["price_relatives"]!,
                                            previousWeights: x["previous_weights"]!,
                                            transactionRemainder: ProportionalCommission(rate: o.number("commission", default: 0)))
    default:
        throw FixtureError(description: "unknown loss \(c.name)")
    }
}

private let reductions: [String: LossReduction] = ["none": .none, "mean": .mean, "sum": .sum]

/// Value and gradients of `Σ loss·w` in `S`, compared with PyTorch's at `tolerance` (scaled by max(1, |x|)).
private func checkAgainstPyTorch<S: TensorScalar>(_ c: LossCase, _ reductionName: String, _ expected: LossOutput,
                                                  cotangent: TensorJSON, _: S.Type, tolerance: Double) throws {
    var inputs: [String: Tensor<S>] = [:]
    for (name, t) in c.inputs {
        let value = try t.tensor(S.self)
        inputs[name] = c.differentiable.contains(name) ? value.requiringGradient() : value
    }
    let output = try evaluateLoss(c, inputs, reductions[reductionName]!)
    let label = "\(c.name) \(reductionName) \(S.self)"
    #expect(output.shape.dimensions == expected.output.shape, "\(label) output shape")
    expectClose(output.doubles, expected.output.data, tolerance: tolerance, "\(label) output")
    let seeded = (output * (try cotangent.tensor(S.self))).sum()
    let gradients = gradient(of: seeded, wrt: c.differentiable.map { inputs[$0]! })
    for (name, g) in zip(c.differentiable, gradients) {
        expectClose(g.doubles, expected.gradients[name]!.data, tolerance: tolerance, "\(label) ∂/∂\(name)")
    }
}

@Suite("Losses: PyTorch parity, gradient checks and errors")
struct LossTests {
    static let caseNames = ["mse", "l1", "huber", "smooth_l1", "cross_entropy_indices", "cross_entropy_indices_3d",
                            "cross_entropy_probabilities", "nll", "bce_logits", "bce_logits_pos_weight",
                            "gaussian_nll_full", "gaussian_nll_shared_variance", "gaussian_nll_column_variance",
                            "portfolio_reward", "cross_entropy_class_weights", "cross_entropy_class_weights_3d",
                            "cross_entropy_probabilities_class_weights", "nll_class_weights"]

    /// Values and input gradients match torch.nn.functional for every reduction: 1e-12 in Double,
    /// 1e-5 in Float (mean reduction), both scaled by max(1, |expected|).
    @Test(arguments: caseNames)
    func matchesPyTorch(name: String) throws {
        let fixture = try NNOptimFixture.load()
        #expect(fixture.losses.count == Self.caseNames.count)
        let c = try #require(fixture.losses.first { $0.name == name })
        for (reduction, result) in c.results {
            try checkAgainstPyTorch(c, reduction, result.float64, cotangent: result.cotangent, Double.self,
                                    tolerance: 1e-12)
            if let single = result.float32 {
                try checkAgainstPyTorch(c, reduction, single, cotangent: result.cotangent, Float.self, tolerance: 1e-5)
            }
        }
    }

    /// Central differences (Autodiff's GradientCheck, ε = 1e-6, pass rule 1e-6 + 1e-5·|numeric|) agree with
    /// the reverse-mode gradients of every loss with respect to its differentiable inputs. The case with a
    /// variance below ε is left out: there PyTorch's clamp passes a gradient the value does not have.
    @Test(arguments: caseNames.filter { $0 != "gaussian_nll_full" })
    func finiteDifferences(name: String) throws {
        let c = try #require(try NNOptimFixture.load().losses.first { $0.name == name })
        let fixed = try c.inputs.mapValues { try $0.tensor(Double.self) }
        let reduction: LossReduction = name == "portfolio_reward" ? .mean : .none
        let point = c.differentiable.map { fixed[$0]! }
        let report = GradientCheck.firstOrder(at: point) { xs in
            var inputs = fixed
            for (name, x) in zip(c.differentiable, xs) { inputs[name] = x }
            return (try? evaluateLoss(c, inputs, reduction)) ?? Tensor(Double.nan)
        }
        #expect(report.passed, "\(name): \(report)")
    }

    /// The closure form of the reward equals the protocol form; the drift helper matches its formula,
    /// and zero commission makes the reward the mean log of y·w.
    @Test func portfolioRewardForms() throws {
        let w = try Tensor<Double>([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
        let y = try Tensor<Double>([[1, 1.1, 0.9], [1, 0.8, 1.2]])
        let previous = try driftedWeights(w, priceRelatives: y)
        let expectedFirst = [0.2, 0.55, 0.27].map { $0 / 1.02 }
        expectClose(Array(previous.doubles.prefix(3)), expectedFirst, tolerance: 1e-15, "drifted row 0")
        let commission = try ProportionalCommission(rate: 0.01)
        let a = try portfolioLogReturnReward(weights: w, priceRelatives: y, previousWeights: previous,
                                             transactionRemainder: commission)
        let b = try portfolioLogReturnReward(weights: w, priceRelatives: y, previousWeights: previous) {
            commission.remainder(previousWeights: $0, newWeights: $1)
        }
        #expect(a.scalar == b.scalar)
        let free = try portfolioLogReturnReward(weights: w, priceRelatives: y, previousWeights: previous,
                                                transactionRemainder: ProportionalCommission(rate: 0))
        let expected = (Double._log(1.02) + Double._log(0.6 + 0.08 + 0.36)) / 2
        #expect(Swift.abs(free.scalar - expected) <= 1e-15)
        #expect(a.scalar < free.scalar)
    }

    /// The exact factor with purchase and sale rates matches a NumPy fixed-point iteration to 1e-14, passes a
    /// finite-difference check inside the reward (1e-6 + 1e-5·|numeric|), and lies within the first-order
    /// approximation's neighbourhood (both costs are below 1%).
    @Test func iterativeCommissionMatchesReference() throws {
        let r = try NNOptimFixture.load().transactionRemainder
        let factor = try IterativeCommission(purchaseRate: r.purchaseRate, saleRate: r.saleRate)
        let previous = try r.previous.tensor(Double.self), new = try r.new.tensor(Double.self)
        let mu = factor.remainder(previousWeights: previous, newWeights: new)
        expectClose(mu.doubles, r.mu, tolerance: 1e-14, "μ")
        let approximate = try ProportionalCommission(rate: (r.purchaseRate + r.saleRate) / 2)
            .remainder(previousWeights: previous, newWeights: new)
        #expect(zip(mu.doubles, approximate.doubles).allSatisfy { Swift.abs($0 - $1) < 0.01 })
        let muFloat = factor.remainder(previousWeights: try r.previous.tensor(Float.self), newWeights: try r.new.tensor(Float.self))
        expectClose(muFloat.doubles, r.mu, tolerance: 1e-6, "μ in Float")
        var relatives = [Double](repeating: 1, count: 20)
        for i in 0..<20 where i % 5 != 0 {
            let shift: Double = Double(i % 7) - 3
            relatives[i] = 1 + shift / 100
        }
        let y = try Tensor<Double>(shape: [4, 5], scalars: relatives)
        let report = GradientCheck.firstOrder(at: [new, previous]) { xs in
            (try? portfolioLogReturnReward(weights: xs[0], priceRelatives: y, previousWeights: xs[1],
                                           transactionRemainder: factor)) ?? Tensor(Double.nan)
        }
        #expect(report.passed, "\(report)")
        #expect(throws: LossError.self) { try IterativeCommission(purchaseRate: 0.01, saleRate: -0.01) }
    }

    /// Bad inputs throw errors naming the loss, the argument and the position.
    @Test func lossErrors() throws {
        let x = Tensor<Double>([1, 2, 3]), logits = try Tensor<Double>([[1, 2], [3, 4]])
        #expect(throws: LossError.shapeMismatch(loss: "meanSquaredErrorLoss", argument: "targets", expected: [3],
                                                actual: [2])) {
            try meanSquaredErrorLoss(x, Tensor<Double>([1, 2]))
        }
        #expect(throws: LossError.self) { try huberLoss(x, x, delta: 0) }
        #expect(throws: LossError.self) { try smoothL1Loss(x, x, beta: -1) }
        #expect(throws: LossError.classIndexOutOfRange(loss: "crossEntropyLoss", position: 1, index: 2,
                                                       classCount: 2)) {
            try crossEntropyLoss(logits: logits, classIndices: [0, 2])
        }
        #expect(throws: LossError.allTargetsIgnored(loss: "crossEntropyLoss")) {
            try crossEntropyLoss(logits: logits, classIndices: [-100, -100], ignoreIndex: -100)
        }
        let ignoredSum = try crossEntropyLoss(logits: logits, classIndices: [-100, -100], ignoreIndex: -100,
                                              reduction: .sum)
        #expect(ignoredSum.scalar == 0)
        #expect(throws: LossError.self) { try crossEntropyLoss(logits: logits, classIndices: [0, 1], labelSmoothing: 1.5) }
        #expect(throws: LossError.shapeMismatch(loss: "crossEntropyLoss", argument: "classIndices", expected: [2],
                                                actual: [3])) {
            try crossEntropyLoss(logits: logits, classIndices: [0, 1, 1])
        }
        #expect(throws: LossError.self) {
            try crossEntropyLoss(logits: logits, targetProbabilities: Tensor<Double>([0.5, 0.5]))
        }
        #expect(throws: LossError.shapeMismatch(loss: "crossEntropyLoss", argument: "classWeights", expected: [2],
                                                actual: [3])) {
            try crossEntropyLoss(logits: logits, classIndices: [0, 1], classWeights: Tensor<Double>([1, 2, 3]))
        }
        #expect(throws: LossError.shapeMismatch(loss: "crossEntropyLoss", argument: "classWeights", expected: [2],
                                                actual: [1])) {
            try crossEntropyLoss(logits: logits, targetProbabilities: logits, classWeights: Tensor<Double>([1]))
        }
        // The counted targets' weights sum to 0: the weighted mean is undefined (PyTorch returns NaN).
        #expect(throws: LossError.invalidOption(loss: "negativeLogLikelihoodLoss", name: "classWeights", value: 0,
                                                requirement: "the weights of the counted targets must have a finite, non-zero sum for the mean")) {
            try negativeLogLikelihoodLoss(logProbabilities: logits, classIndices: TensorIndices(shape: [2], values: [1, 1]),
                                          classWeights: Tensor<Double>([1, 0]))
        }
        let zeroWeightSum = try negativeLogLikelihoodLoss(logProbabilities: logits,
                                                          classIndices: TensorIndices(shape: [2], values: [1, 1]),
                                                          classWeights: Tensor<Double>([1, 0]), reduction: .sum)
        #expect(zeroWeightSum.scalar == 0)
        #expect(throws: LossError.self) {
            try binaryCrossEntropyWithLogitsLoss(logits: logits, targets: logits, positiveWeight: Tensor<Double>([1, 2, 3]))
        }
        #expect(throws: LossError.invalidValue(loss: "gaussianNegativeLogLikelihoodLoss", argument: "variance",
                                               position: 1, value: -1, requirement: "must be ≥ 0")) {
            try gaussianNegativeLogLikelihoodLoss(mean: logits, targets: logits, variance: Tensor<Double>([1, -1]))
        }
        #expect(throws: LossError.self) {
            try gaussianNegativeLogLikelihoodLoss(mean: logits, targets: logits, variance: Tensor<Double>([1, 1, 1]))
        }
    }

    /// Portfolio inputs are validated: shapes, price relatives, the factor's shape and the growth's sign.
    @Test func portfolioRewardErrors() throws {
        let w = try Tensor<Double>([[0.5, 0.5], [0.2, 0.8]])
        let commission = try ProportionalCommission(rate: 0.0025)
        #expect(throws: LossError.self) { try ProportionalCommission(rate: 1) }
        #expect(throws: LossError.invalidValue(loss: "portfolioLogReturnReward", argument: "priceRelatives",
                                               position: 3, value: 0, requirement: "must be finite and > 0")) {
            try portfolioLogReturnReward(weights: w, priceRelatives: Tensor([[1, 1.1], [1, 0]]), previousWeights: w,
                                         transactionRemainder: commission)
        }
        #expect(throws: LossError.self) {
            try portfolioLogReturnReward(weights: Tensor([0.5, 0.5]), priceRelatives: Tensor([1, 1]),
                                         previousWeights: Tensor([0.5, 0.5]), transactionRemainder: commission)
        }
        #expect(throws: LossError.nonPositiveGrowth(row: 1, value: -1)) {
            try portfolioLogReturnReward(weights: Tensor([[0.5, 0.5], [2, -1]]), priceRelatives: Tensor([[1, 1], [1, 3]]),
                                         previousWeights: w) { _, _ in Tensor<Double>([1, 1]) }
        }
        #expect(throws: LossError.self) {
            try portfolioLogReturnReward(weights: w, priceRelatives: w, previousWeights: w) { _, _ in Tensor<Double>([1]) }
        }
    }
}
