import Autodiff
import Linalg
import Testing
@testable import NN

/// The fixture's loss `Σₖ Σ (½·aₖ·(θₖ − cₖ)² + ¼·q·θₖ⁴)`, whose gradient depends on the parameters.
private func objective<S: TensorScalar>(_ parameters: [Tensor<S>], _ a: [Tensor<S>], _ c: [Tensor<S>],
                                        _ q: Double) -> Tensor<S> {
    var total = Tensor<S>(0)
    for (k, p) in parameters.enumerated() {
        let quadratic = S(0.5) * a[k] * (p - c[k]).squared()
        total = total + (quadratic + S(0.25) * S(q) * p.squared().squared()).sum()
    }
    return total
}

/// The optimizer a fixture case describes, with PyTorch's defaults for missing options.
private func makeOptimizer<S: TensorScalar>(_ c: OptimizerCase, _: S.Type) throws -> any Optimizer<S> {
    let o = c.options
    let lr = o.number("lr", default: 1e-3)
    let betas = o.list("betas").map { ($0[0], $0[1]) } ?? (0.9, 0.999)
    switch c.optimizer {
    case "SGD":
        return try SGD<S>(learningRate: lr, momentum: o.number("momentum", default: 0),
                               dampening: o.number("dampening", default: 0),
                               weightDecay: o.number("weight_decay", default: 0),
                               nesterov: o.flag("nesterov"), maximize: o.flag("maximize"))
    case "Adam":
        return try Adam<S>(learningRate: lr, betas: betas, epsilon: o.number("eps", default: 1e-8),
                                weightDecay: o.number("weight_decay", default: 0), amsgrad: o.flag("amsgrad"),
                                maximize: o.flag("maximize"))
    case "AdamW":
        return try AdamW<S>(learningRate: lr, betas: betas, epsilon: o.number("eps", default: 1e-8),
                                 weightDecay: o.number("weight_decay", default: 1e-2), amsgrad: o.flag("amsgrad"),
                                 maximize: o.flag("maximize"))
    case "RMSprop":
        return try RMSProp<S>(learningRate: o.number("lr", default: 1e-2), alpha: o.number("alpha", default: 0.99),
                                   epsilon: o.number("eps", default: 1e-8),
                                   weightDecay: o.number("weight_decay", default: 0),
                                   momentum: o.number("momentum", default: 0), centered: o.flag("centered"),
                                   maximize: o.flag("maximize"))
    default:
        throw FixtureError(description: "unknown optimizer \(c.optimizer)")
    }
}

/// Runs the fixture's loop: gradients of the objective by Autodiff, then one update, `steps` times.
private func train<O: Optimizer>(_ optimizer: inout O, from initial: [Tensor<O.Scalar>],
                                 section: OptimizerSection, steps: Int) throws -> [Tensor<O.Scalar>] {
    let a = try section.a.map { try $0.tensor(O.Scalar.self) }
    let c = try section.c.map { try $0.tensor(O.Scalar.self) }
    var parameters = initial.map { $0.requiringGradient() }
    for _ in 0..<steps {
        let g = gradient(of: objective(parameters, a, c, section.q), wrt: parameters)
        try optimizer.update(&parameters, gradients: g)
    }
    return parameters
}

@Suite("Optimizers: PyTorch parity and validation")
struct OptimizerTests {
    static let caseNames = ["sgd_plain", "sgd_momentum", "sgd_dampening_decay", "sgd_nesterov", "sgd_maximize",
                            "adam_default", "adam_amsgrad_decay", "adam_betas_eps", "adam_maximize",
                            "adamw_default", "adamw_amsgrad", "rmsprop_default", "rmsprop_centered",
                            "rmsprop_momentum_decay", "rmsprop_all"]

    /// Ten steps from PyTorch's initialization reproduce torch.optim's parameters to 1e-10 (Double; the
    /// first step separately to 1e-12) and, run in Float, PyTorch's float32 parameters to 2e-6; errors are
    /// scaled by max(1, |expected|).
    @Test(arguments: caseNames)
    func tenStepsMatchPyTorch(name: String) throws {
        let fixture = try NNOptimFixture.load()
        let section = fixture.optimizers
        let c = try #require(section.cases.first { $0.name == name })
        let initial = try section.initial.map { try $0.tensor(Double.self) }
        var first = try makeOptimizer(c, Double.self)
        let afterOne = try train(&first, from: initial, section: section, steps: 1)
        for (k, p) in afterOne.enumerated() {
            expectClose(p.doubles, c.afterStep1[k].data, tolerance: 1e-12, "\(name) step 1 parameter \(k)")
        }
        var optimizer = try makeOptimizer(c, Double.self)
        let final = try train(&optimizer, from: initial, section: section, steps: section.steps)
        #expect(section.cases.count == Self.caseNames.count)
        for (k, p) in final.enumerated() {
            #expect(p.requiresGradient, "parameter \(k) is a variable again after the update")
            expectClose(p.doubles, c.afterStep10[k].data, tolerance: 1e-10, "\(name) step 10 parameter \(k)")
        }
        var single = try makeOptimizer(c, Float.self)
        let finalSingle = try train(&single, from: section.initial.map { try $0.tensor(Float.self) }, section: section,
                                    steps: section.steps)
        for (k, p) in finalSingle.enumerated() {
            expectClose(p.doubles, c.afterStep10Float32[k].data, tolerance: 2e-6, "\(name) Float step 10 parameter \(k)")
        }
    }

    /// The keyed variant gives the same parameters as the list variant (exactly), and skips parameters
    /// without a gradient, leaving their state unadvanced.
    @Test func keyedUpdateMatchesIndexedAndSkipsMissingGradients() throws {
        let w = try Tensor<Double>([[0.3, -1.2], [0.7, 0.1], [-0.4, 2.0]]), b = Tensor<Double>([0.5, -0.9])
        let gw = try Tensor<Double>([[1.1, -0.2], [0.05, 0.8], [-1.5, 0.3]]), gb = Tensor<Double>([-0.6, 0.25])
        var listed = try Adam<Double>(learningRate: 0.1, amsgrad: true)
        var keyed = listed
        var list = [w, b]
        var dictionary = ["weight": w, "bias": b]
        for _ in 0..<3 {
            try listed.update(&list, gradients: [gw, gb])
            try keyed.update(&dictionary, gradients: ["weight": gw, "bias": gb])
        }
        #expect(dictionary["weight"]!.scalars == list[0].scalars)
        #expect(dictionary["bias"]!.scalars == list[1].scalars)
        let frozen = dictionary["bias"]!.scalars
        try keyed.update(&dictionary, gradients: ["weight": gw])
        #expect(dictionary["bias"]!.scalars == frozen)
        #expect(keyed.state.named["bias"]?.step == 3)
        #expect(keyed.state.named["weight"]?.step == 4)
        #expect(keyed.state.entry(.name("weight"))?.values.maxSecondMoment?.shape == [3, 2])
    }

    /// Bad inputs throw errors naming the parameter, and nothing is updated.
    @Test func mismatchedGradientsThrowAndLeaveParametersUnchanged() throws {
        var optimizer = try SGD<Double>(learningRate: 0.1, momentum: 0.9)
        let p0 = Tensor<Double>([1, 2, 3]), p1 = Tensor<Double>([4, 5])
        var parameters = [p0, p1]
        #expect(throws: OptimizerError.gradientCountMismatch(parameters: 2, gradients: 1)) {
            try optimizer.update(&parameters, gradients: [p0])
        }
        #expect(throws: OptimizerError.gradientShapeMismatch(parameter: .index(1), parameterShape: [2],
                                                             gradientShape: [3])) {
            try optimizer.update(&parameters, gradients: [p0, p0])
        }
        #expect(parameters[0].scalars == [1, 2, 3] && parameters[1].scalars == [4, 5])
        #expect(optimizer.state.indexed.isEmpty)
        try optimizer.update(&parameters, gradients: [p0, p1])
        var reshaped = [p0, Tensor<Double>([4, 5, 6])]
        #expect(throws: OptimizerError.stateShapeMismatch(parameter: .index(1), stateShape: [2],
                                                          parameterShape: [3])) {
            try optimizer.update(&reshaped, gradients: [p0, Tensor<Double>([1, 1, 1])])
        }
        var named = ["w": p0]
        #expect(throws: OptimizerError.gradientWithoutParameter(name: "v")) {
            try optimizer.update(&named, gradients: ["w": p0, "v": p1])
        }
        #expect(throws: OptimizerError.gradientShapeMismatch(parameter: .name("w"), parameterShape: [3],
                                                             gradientShape: [2])) {
            try optimizer.update(&named, gradients: ["w": p1])
        }
        #expect(named["w"]!.scalars == [1, 2, 3])
    }

    /// Hyperparameters outside PyTorch's ranges are rejected at creation and at update time.
    @Test func invalidHyperparametersThrow() throws {
        #expect(throws: OptimizerError.invalidHyperparameter(owner: "Adam", name: "betas.0", value: 1,
                                                             requirement: "must be in [0, 1)")) {
            try Adam<Double>(betas: (1, 0.999))
        }
        #expect(throws: OptimizerError.self) { try AdamW<Float>(epsilon: -1) }
        #expect(throws: OptimizerError.self) { try SGD<Double>(learningRate: .nan) }
        #expect(throws: OptimizerError.invalidHyperparameter(owner: "SGD", name: "momentum", value: 0,
                                                             requirement: "Nesterov momentum requires momentum > 0")) {
            try SGD<Double>(nesterov: true)
        }
        #expect(throws: OptimizerError.self) { try SGD<Double>(momentum: 0.9, dampening: 0.1, nesterov: true) }
        #expect(throws: OptimizerError.self) { try RMSProp<Double>(alpha: -0.5) }
        var optimizer = try RMSProp<Double>()
        optimizer.learningRate = -1
        var parameters = [Tensor<Double>([1])]
        #expect(throws: OptimizerError.invalidHyperparameter(owner: "RMSProp", name: "learningRate", value: -1,
                                                             requirement: "must be finite and ≥ 0")) {
            try optimizer.update(&parameters, gradients: [Tensor<Double>([1])])
        }
    }

    /// Float parameters follow the same rule: one Adam step from θ = 1 with g = 0.5 moves θ by
    /// −lr·m̂/(√v̂ + ε) = −0.1·0.5/(0.5 + 1e-8) (to 1e-6 in Float).
    @Test func floatAdamFirstStep() throws {
        var optimizer = try Adam<Float>(learningRate: 0.1)
        var parameters = [Tensor<Float>([1, -2])]
        try optimizer.update(&parameters, gradients: [Tensor<Float>([0.5, -0.25])])
        #expect(Swift.abs(parameters[0].scalars[0] - 0.9) < 1e-6)
        #expect(Swift.abs(parameters[0].scalars[1] - -1.9) < 1e-6)
        #expect(!parameters[0].requiresGradient)
    }
}

@Suite("Gradient clipping: PyTorch parity")
struct ClippingTests {
    /// Total norms and clipped gradients match clip_grad_norm_ and clip_grad_value_:
    /// 1e-12 (scaled) in Double, 1e-6 in Float.
    @Test func clippingMatchesPyTorch() throws {
        let section = try NNOptimFixture.load().clipping
        for c in section.cases {
            let label = "\(c.kind) \(c.dtype) max \(c.maxNorm ?? 0) p \(c.normOrder)"
            if c.dtype == "float32" {
                var g = try section.gradients.map { try $0.tensor(Float.self) }
                let total = try GradientClipping.clipByGlobalNorm(&g, maxNorm: c.maxNorm!, normType: c.normOrder)
                expectClose([Double(total)], [c.totalNorm!], tolerance: 1e-6, "\(label) norm")
                for (k, t) in g.enumerated() { expectClose(t.doubles, c.clipped[k].data, tolerance: 1e-6, "\(label) \(k)") }
                continue
            }
            var g = try section.gradients.map { try $0.tensor(Double.self) }
            if c.kind == "value" {
                try GradientClipping.clipByValue(&g, limit: c.limit!)
            } else {
                let total = try GradientClipping.clipByGlobalNorm(&g, maxNorm: c.maxNorm!, normType: c.normOrder)
                expectClose([total], [c.totalNorm!], tolerance: 1e-12, "\(label) norm")
            }
            for (k, t) in g.enumerated() { expectClose(t.doubles, c.clipped[k].data, tolerance: 1e-12, "\(label) \(k)") }
        }
    }

    /// Exact: the per-tensor loop gives the same bits as the sequence form it replaced, for every norm order.
    @Test(arguments: [1.0, 2.0, 3.5, Double.infinity])
    func bufferNormEqualsSequenceNorm(order: Double) {
        var generator = Xoshiro256StarStar(seed: 11)
        let doubles = (0..<1000).map { _ in generator.nextNormal() * 3 }
        let floats = doubles.map { Float($0) }
        doubles.withUnsafeBufferPointer { buffer in
            #expect(GradientClipping.bufferNorm(buffer, order) == GradientClipping.pNorm(doubles, order))
        }
        floats.withUnsafeBufferPointer { buffer in
            #expect(GradientClipping.bufferNorm(buffer, order) == GradientClipping.pNorm(floats.lazy.map { Double($0) }, order))
        }
        [1.0, .nan, 2].withUnsafeBufferPointer { #expect(GradientClipping.bufferNorm($0, order).isNaN) }
    }

    /// Keyed clipping scales by the same global norm as the list form.
    @Test func keyedClippingMatchesListClipping() throws {
        let section = try NNOptimFixture.load().clipping
        var list = try section.gradients.map { try $0.tensor(Double.self) }
        var named = Dictionary(uniqueKeysWithValues: list.enumerated().map { ("g\($0.offset)", $0.element) })
        let a = try GradientClipping.clipByGlobalNorm(&list, maxNorm: 1)
        let b = try GradientClipping.clipByGlobalNorm(&named, maxNorm: 1)
        #expect(Swift.abs(a - b) <= 1e-14 * a)
        for k in list.indices { expectClose(named["g\(k)"]!.doubles, list[k].doubles, tolerance: 1e-15, "g\(k)") }
        try GradientClipping.clipByValue(&named, limit: 0.1)
        #expect(named.values.allSatisfy { $0.scalars.allSatisfy { Swift.abs($0) <= 0.1 } })
    }

    /// A non-finite norm throws when asked (gradients untouched); bad limits throw.
    @Test func clippingErrors() throws {
        var g = [Tensor<Double>([1, .nan]), Tensor<Double>([2])]
        #expect(throws: OptimizerError.self) {
            try GradientClipping.clipByGlobalNorm(&g, maxNorm: 1, errorIfNonFinite: true)
        }
        #expect(g[1].scalars == [2])
        var h = [Tensor<Double>([1, .infinity])]
        #expect(throws: OptimizerError.nonFiniteGradientNorm(.infinity)) {
            try GradientClipping.clipByGlobalNorm(&h, maxNorm: 1, errorIfNonFinite: true)
        }
        #expect(throws: OptimizerError.self) { try GradientClipping.clipByGlobalNorm(&g, maxNorm: -1) }
        #expect(throws: OptimizerError.self) { try GradientClipping.clipByGlobalNorm(&g, maxNorm: 1, normType: 0) }
        #expect(throws: OptimizerError.self) { try GradientClipping.clipByValue(&g, limit: -0.1) }
    }
}
