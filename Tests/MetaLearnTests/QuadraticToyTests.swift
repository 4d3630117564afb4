import Autodiff
import Linalg
import MetaLearn
import NN
import Testing

/// MAML, first-order MAML, Meta-SGD and Reptile against updates derived by hand on quadratics.
///
/// The model is a point `θ ∈ ℝ²`. A task carries `(A, a)` in its support set and `(B, b)` in its query
/// set, with losses `½(θ − a)ᵀA(θ − a)` and `½(θ − b)ᵀB(θ − b)` (A, B symmetric positive definite).
/// One inner step is `θ' = θ − αA(θ − a)`, so by hand:
/// second-order MAML `∇θ = (I − αA)B(θ' − b)`, first-order `B(θ' − b)`, two steps
/// `(I − αA)²B(θ'' − b)`; Meta-SGD `∇θ = (I − A·diag α)B(θ' − b)`, `∇α = −A(θ − a) ⊙ B(θ' − b)`;
/// Reptile with `k` SGD steps of size `β`: `W = a + (I − βA)ᵏ(θ − a)`.
/// Tolerance 1e-13 scaled: the Swift results are a few floating-point operations from the formulas.
@Suite struct QuadraticToyTests {
    static let tolerance = 1e-13

    struct Point: Module {
        var theta: Tensor<Double>
        var settings = ModuleSettings()
        mutating func visitEntries(_ visitor: inout ModuleVisitor<Double>) { visitor.parameter("theta", &theta) }
    }

    /// `½(θ − c)ᵀM(θ − c)` with `M` the data's inputs `[2, 2]` and `c` its targets `[2, 1]`.
    static func quadratic(_ model: Point, _ data: TaskData<Double>) throws -> Tensor<Double> {
        let d = model.theta.reshaped([2, 1]) - data.targets
        return 0.5 * (d * data.inputs.matmul(d)).sum()
    }

    typealias Vector = [Double]
    typealias Matrix2 = [[Double]]
    static func times(_ m: Matrix2, _ v: Vector) -> Vector { [m[0][0] * v[0] + m[0][1] * v[1], m[1][0] * v[0] + m[1][1] * v[1]] }
    static func minus(_ a: Vector, _ b: Vector) -> Vector { [a[0] - b[0], a[1] - b[1]] }
    static func scaled(_ s: Double, _ v: Vector) -> Vector { [s * v[0], s * v[1]] }
    /// `v − α·M v`, i.e. `(I − αM)v`.
    static func contract(_ m: Matrix2, _ alpha: Double, _ v: Vector) -> Vector { minus(v, scaled(alpha, times(m, v))) }

    let theta0: Vector = [0.7, -1.3]
    let tasks: [(A: Matrix2, a: Vector, B: Matrix2, b: Vector)] = [
        ([[2.0, 0.5], [0.5, 1.0]], [1.0, 2.0], [[1.5, -0.3], [-0.3, 0.8]], [0.5, 1.5]),
        ([[0.9, -0.2], [-0.2, 3.0]], [-1.0, 0.5], [[2.2, 0.4], [0.4, 1.1]], [-0.7, 0.2]),
    ]

    func metaTasks() throws -> [MetaTask<Double>] {
        try tasks.map { t in
            MetaTask(support: try TaskData(inputs: Tensor(t.A), targets: Tensor(t.a.map { [$0] })),
                     query: try TaskData(inputs: Tensor(t.B), targets: Tensor(t.b.map { [$0] })))
        }
    }

    func model() -> Point { Point(theta: Tensor(theta0)) }

    func expectVector(_ actual: Tensor<Double>?, _ expected: Vector, _ what: String) {
        guard let actual else { Issue.record("\(what) missing"); return }
        let error = scaledError(actual, Tensor(expected))
        #expect(error <= Self.tolerance, "\(what): \(actual.scalars) vs \(expected)")
    }

    @Test func secondOrderMAMLOneAndTwoSteps() throws {
        let alpha = 0.1
        for steps in [1, 2] {
            let maml = try MAML(model(), innerLearningRate: alpha, innerSteps: steps)
            var expected: Vector = [0, 0]
            for t in tasks {
                var theta = theta0
                for _ in 0..<steps { theta = Self.minus(theta, Self.scaled(alpha, Self.times(t.A, Self.minus(theta, t.a)))) }
                var g = Self.times(t.B, Self.minus(theta, t.b))
                for _ in 0..<steps { g = Self.contract(t.A, alpha, g) }
                expected = [expected[0] + g[0] / 2, expected[1] + g[1] / 2]
            }
            let (gradients, _) = try maml.metaGradients(on: metaTasks(), loss: Self.quadratic)
            expectVector(gradients.parameters["theta"], expected, "MAML \(steps)-step meta-gradient")
        }
    }

    /// One differentiable Adam step from zero moments: `m̂ = g`, `v̂ = g²`, so `θ' = θ − α g/(|g| + ε)` and
    /// `∂θ'/∂θ = I − α·diag(ε/(|g| + ε)²)·A`; the meta-gradient is `(I − A·diag(αε/(|g| + ε)²))B(θ' − b)`.
    /// ε = 0.5 so the second-order term is large.
    @Test func secondOrderMAMLThroughAdam() throws {
        let alpha = 0.1, eps = 0.5
        let maml = try MAML(model(), innerLearningRate: alpha, innerSteps: 1,
                            innerOptimizer: .adam(beta1: 0.9, beta2: 0.999, epsilon: eps))
        var expected: Vector = [0, 0]
        for t in tasks {
            let g = Self.times(t.A, Self.minus(theta0, t.a))
            let adapted = (0..<2).map { theta0[$0] - alpha * g[$0] / (abs(g[$0]) + eps) }
            let q = Self.times(t.B, Self.minus(adapted, t.b))
            let d = (0..<2).map { alpha * eps / ((abs(g[$0]) + eps) * (abs(g[$0]) + eps)) }
            let meta = Self.minus(q, Self.times(t.A, [d[0] * q[0], d[1] * q[1]]))
            expected = [expected[0] + meta[0] / 2, expected[1] + meta[1] / 2]
        }
        let (gradients, _) = try maml.metaGradients(on: metaTasks(), loss: Self.quadratic)
        expectVector(gradients.parameters["theta"], expected, "MAML-through-Adam meta-gradient")
        // Deployment uses the same rule: one step gives θ'.
        let adapted = try maml.adapted(to: metaTasks()[0].support, steps: 1, loss: Self.quadratic)
        let g0 = Self.times(tasks[0].A, Self.minus(theta0, tasks[0].a))
        expectVector(adapted.theta, (0..<2).map { theta0[$0] - alpha * g0[$0] / (abs(g0[$0]) + eps) }, "Adam deployment step")
        #expect(throws: MetaLearnError.invalidHyperparameter(owner: "InnerOptimizer.adam", name: "beta1", value: 1,
                                                             requirement: "must be in [0, 1)")) {
            try MAML(model(), innerOptimizer: .adam(beta1: 1, beta2: 0.999, epsilon: 1e-8))
        }
    }

    @Test func firstOrderMAMLAndItsMetaStep() throws {
        let alpha = 0.1, eta = 0.3
        var maml = try MAML(model(), innerLearningRate: alpha, innerSteps: 1, firstOrder: true)
        var expected: Vector = [0, 0]
        for t in tasks {
            let adapted = Self.minus(theta0, Self.scaled(alpha, Self.times(t.A, Self.minus(theta0, t.a))))
            let g = Self.times(t.B, Self.minus(adapted, t.b))
            expected = [expected[0] + g[0] / 2, expected[1] + g[1] / 2]
        }
        let (gradients, _) = try maml.metaGradients(on: metaTasks(), loss: Self.quadratic)
        expectVector(gradients.parameters["theta"], expected, "FOMAML meta-gradient")
        var sgd = try SGD<Double>(learningRate: eta)
        try maml.metaStep(on: metaTasks(), optimizer: &sgd, loss: Self.quadratic)
        expectVector(maml.model.theta, Self.minus(theta0, Self.scaled(eta, expected)), "FOMAML meta-step")
    }

    @Test func metaSGDGradientsOfParametersAndRates() throws {
        let rates: Vector = [0.05, 0.2]
        let metaSGD = try MetaSGD(model(), learningRates: ["theta": Tensor(rates)], innerSteps: 1)
        var expectedTheta: Vector = [0, 0], expectedRates: Vector = [0, 0]
        for t in tasks {
            let g = Self.times(t.A, Self.minus(theta0, t.a))
            let adapted = [theta0[0] - rates[0] * g[0], theta0[1] - rates[1] * g[1]]
            let q = Self.times(t.B, Self.minus(adapted, t.b))
            // (I − A·diag α)q = q − A(α ⊙ q)
            let dTheta = Self.minus(q, Self.times(t.A, [rates[0] * q[0], rates[1] * q[1]]))
            expectedTheta = [expectedTheta[0] + dTheta[0] / 2, expectedTheta[1] + dTheta[1] / 2]
            expectedRates = [expectedRates[0] - g[0] * q[0] / 2, expectedRates[1] - g[1] * q[1] / 2]
        }
        let (gradients, _) = try metaSGD.metaGradients(on: metaTasks(), loss: Self.quadratic)
        expectVector(gradients.parameters["theta"], expectedTheta, "Meta-SGD ∂/∂θ")
        expectVector(gradients.learningRates["theta"], expectedRates, "Meta-SGD ∂/∂α")
    }

    /// `W = a + (I − βA)ᵏ(θ − a)` for `k` SGD steps of size β on `½(θ − a)ᵀA(θ − a)`.
    func reptileTarget(_ theta: Vector, _ t: (A: Matrix2, a: Vector, B: Matrix2, b: Vector), beta: Double, k: Int) -> Vector {
        var d = Self.minus(theta, t.a)
        for _ in 0..<k { d = Self.contract(t.A, beta, d) }
        return [t.a[0] + d[0], t.a[1] + d[1]]
    }

    @Test func reptileSerialAndBatched() throws {
        let beta = 0.2, epsilon = 0.5, k = 3
        let inner = try SGD<Double>(learningRate: beta)
        var serial = try Reptile(model(), innerSteps: k, outerStepSize: epsilon)
        try serial.serialStep(on: metaTasks(), innerOptimizer: inner, loss: Self.quadratic)
        var theta = theta0
        for t in tasks {
            let w = reptileTarget(theta, t, beta: beta, k: k)
            theta = [theta[0] + epsilon * (w[0] - theta[0]), theta[1] + epsilon * (w[1] - theta[1])]
        }
        expectVector(serial.model.theta, theta, "serial Reptile")

        var batched = try Reptile(model(), innerSteps: k, outerStepSize: epsilon)
        try batched.batchedStep(on: metaTasks(), innerOptimizer: inner, loss: Self.quadratic)
        let ws = tasks.map { reptileTarget(theta0, $0, beta: beta, k: k) }
        let expected = (0..<2).map { i in theta0[i] + epsilon * ((ws[0][i] - theta0[i]) + (ws[1][i] - theta0[i])) / 2 }
        expectVector(batched.model.theta, expected, "batched Reptile")
        // The two differ (serial moves before the second task), so the check above can tell them apart.
        #expect(scaledError(serial.model.theta, batched.model.theta) > 1e-3)
    }

    /// Reptile's meta-step with plain SGD of step ε on `(1/n) Σ (θ − Wᵢ)` is batched Reptile with step ε.
    @Test func reptileMetaStepWithSGDIsBatchedReptile() throws {
        let inner = try SGD<Double>(learningRate: 0.2)
        var batched = try Reptile(model(), innerSteps: 3, outerStepSize: 0.5)
        var viaOptimizer = batched
        try batched.batchedStep(on: metaTasks(), innerOptimizer: inner, loss: Self.quadratic)
        var outer = try SGD<Double>(learningRate: 0.5)
        try viaOptimizer.metaStep(on: metaTasks(), innerOptimizer: inner, metaOptimizer: &outer, loss: Self.quadratic)
        #expect(scaledError(viaOptimizer.model.theta, batched.model.theta) <= Self.tolerance)
        #expect(scaledError(batched.model.theta, Tensor(theta0)) > 1e-3)
    }

    /// Joint training takes one optimizer step on the mean over tasks of the loss on all their examples:
    /// for `ŷ = w·x` with MSE, `∂/∂w = mean over tasks of mean(2x(wx − y))` over support and query rows.
    @Test func jointTrainingStep() throws {
        struct Slope: Module {
            var w: Tensor<Double>
            var settings = ModuleSettings()
            mutating func visitEntries(_ visitor: inout ModuleVisitor<Double>) { visitor.parameter("w", &w) }
        }
        func loss(_ m: Slope, _ d: TaskData<Double>) throws -> Tensor<Double> {
            try meanSquaredErrorLoss(d.inputs * m.w, d.targets)
        }
        let rows: [(x: [Double], y: [Double])] = [([1, 2, 3], [2, 3, 7]), ([-1, 0.5, 2], [1, 1, 1])]
        let tasks = try rows.map { r in
            try task(r.x.prefix(2).map { [$0] }, r.y.prefix(2).map { [$0] }, [[r.x[2]]], [[r.y[2]]])
        }
        let w0 = 0.4, eta = 0.05
        var joint = JointTraining(Slope(w: Tensor([w0])))
        var sgd = try SGD<Double>(learningRate: eta)
        let before = try joint.step(on: tasks, optimizer: &sgd, loss: loss)
        var expectedLoss = 0.0, expectedGradient = 0.0
        for r in rows {
            expectedLoss += zip(r.x, r.y).reduce(0) { $0 + ($1.0 * w0 - $1.1) * ($1.0 * w0 - $1.1) } / 3 / 2
            expectedGradient += zip(r.x, r.y).reduce(0) { $0 + 2 * $1.0 * ($1.0 * w0 - $1.1) } / 3 / 2
        }
        #expect(abs(before - expectedLoss) <= Self.tolerance * (1 + expectedLoss))
        expectVector(joint.model.w, [w0 - eta * expectedGradient], "joint training step")
    }

    @Test func anilAdaptsOnlyTheSelectedParameters() throws {
        struct TwoPoints: Module {
            var body: Tensor<Double>
            var head: Tensor<Double>
            var settings = ModuleSettings()
            mutating func visitEntries(_ visitor: inout ModuleVisitor<Double>) {
                visitor.parameter("body", &body)
                visitor.parameter("head", &head)
            }
        }
        func loss(_ m: TwoPoints, _ data: TaskData<Double>) throws -> Tensor<Double> {
            ((m.body * m.head - data.targets.reshaped([2])).squared()).sum()
        }
        let model = TwoPoints(body: Tensor([1.0, 2.0]), head: Tensor([0.5, -0.5]))
        let anil = try MAML(model, innerLearningRate: 0.1, adapting: .prefixes(["head"]))
        #expect(anil.adaptedKeys == ["head"])
        var learner = anil.clone()
        let data = try TaskData(inputs: Tensor([[0.0], [0.0]]), targets: Tensor([[3.0], [1.0]]))
        try learner.adapt(on: data, loss: loss)
        #expect(learner.module.body.scalars == [1.0, 2.0])
        // head ← head − 0.1·2(body·head − y)·body
        let expectedHead = [0.5 - 0.1 * 2 * (1.0 * 0.5 - 3) * 1.0, -0.5 - 0.1 * 2 * (2.0 * -0.5 - 1) * 2.0]
        expectVector(learner.module.head, expectedHead, "ANIL head")
        // The body is still meta-learned: its meta-gradient is non-zero.
        let g = try learner.metaGradients(of: loss(learner.module, data))
        #expect(g.parameters["body"]!.scalars.contains { $0 != 0 })
        #expect(throws: MetaLearnError.noParametersSelected(selection: "prefix 'tail'")) {
            try MAML(model, adapting: .prefixes(["tail"]))
        }
    }

    @Test func deploymentAdaptationIsPlainGradientDescent() throws {
        let alpha = 0.1, t = tasks[0]
        let maml = try MAML(model(), innerLearningRate: alpha, innerSteps: 1)
        let adapted = try maml.adapted(to: metaTasks()[0].support, steps: 3, loss: Self.quadratic)
        #expect(!adapted.theta.requiresGradient)
        expectVector(adapted.theta, reptileTarget(theta0, t, beta: alpha, k: 3), "3 deployment steps")
        #expect(throws: MetaLearnError.invalidWindow(name: "steps", value: -1, requirement: "must be ≥ 0")) {
            try maml.adapted(to: metaTasks()[0].support, steps: -1, loss: Self.quadratic)
        }
    }

    /// Zero steps score the initialization itself: per-task query losses `½(θ − b)ᵀB(θ − b)`, their mean,
    /// sample standard deviation and `1.96·s/√n`; one step of size α gives `θ' = θ − αA(θ − a)`.
    @Test func adaptationCurveStatistics() throws {
        let alpha = 0.1
        func queryLoss(_ theta: Vector, _ t: (A: Matrix2, a: Vector, B: Matrix2, b: Vector)) -> Double {
            let d = Self.minus(theta, t.b), bd = Self.times(t.B, d)
            return 0.5 * (d[0] * bd[0] + d[1] * bd[1])
        }
        let curve = try AdaptationEvaluation.evaluate(model(), on: metaTasks(), learningRate: alpha, steps: [0, 1],
                                                      loss: Self.quadratic)
        #expect(curve.taskCount == 2 && curve.points.map(\.steps) == [0, 1])
        for (k, point) in curve.points.enumerated() {
            let losses = tasks.map { t in
                queryLoss(k == 0 ? theta0 : Self.minus(theta0, Self.scaled(alpha, Self.times(t.A, Self.minus(theta0, t.a)))), t)
            }
            let mean = (losses[0] + losses[1]) / 2
            let sd = abs(losses[0] - losses[1]) / 2.0.squareRoot()
            #expect(abs(point.meanLoss - mean) <= Self.tolerance * (1 + mean))
            #expect(abs(point.standardDeviation - sd) <= Self.tolerance * (1 + sd))
            #expect(abs(point.confidenceHalfWidth - 1.96 * sd / 2.0.squareRoot()) <= Self.tolerance * (1 + sd))
        }
        #expect(throws: MetaLearnError.invalidWindow(name: "steps", value: -1, requirement: "give at least one step count, each ≥ 0")) {
            try AdaptationEvaluation.evaluate(model(), on: metaTasks(), learningRate: alpha, steps: [-1], loss: Self.quadratic)
        }
    }

    @Test func lossErrorsAreTyped() throws {
        let maml = try MAML(model(), innerLearningRate: 0.1)
        var learner = maml.clone()
        let data = try metaTasks()[0].support
        // A loss from the meta-model itself (not the learner's module) carries no gradient history.
        #expect(throws: MetaLearnError.lossDetachedFromParameters(operation: "Learner.adapt")) {
            try learner.adapt(Self.quadratic(maml.model, data))
        }
        #expect(throws: MetaLearnError.lossNotScalar(operation: "Learner.adapt", shape: [2])) {
            try learner.adapt(learner.module.theta * 2)
        }
        #expect(throws: MetaLearnError.nonFiniteLoss(operation: "Learner.adapt", value: .infinity)) {
            try learner.adapt((learner.module.theta.sum() * 0) + Double.infinity)
        }
        #expect(throws: MetaLearnError.invalidHyperparameter(owner: "MAML", name: "innerLearningRate", value: -1,
                                                             requirement: "must be finite and ≥ 0")) {
            try MAML(model(), innerLearningRate: -1)
        }
        #expect(throws: MetaLearnError.noTasks(reason: "the meta-batch is empty")) {
            try maml.metaGradients(on: [], loss: Self.quadratic)
        }
    }
}
