import Testing
@testable import NN

@Suite("Learning-rate schedules: PyTorch parity")
struct ScheduleTests {
    /// The schedule a fixture case describes.
    private func makeSchedule(_ c: ScheduleCase) throws -> any LearningRateSchedule {
        let o = c.options
        switch c.name {
        case "step":
            return try StepDecay(baseLearningRate: c.baseLR, stepSize: Int(o.number("step_size", default: 0)),
                                 gamma: o.number("gamma", default: 0.1))
        case "multistep":
            return try MultiStepDecay(baseLearningRate: c.baseLR, milestones: o.list("milestones")!.map { Int($0) },
                                      gamma: o.number("gamma", default: 0.1))
        case "exponential":
            return try ExponentialDecay(baseLearningRate: c.baseLR, gamma: o.number("gamma", default: 0))
        case "cosine":
            return try CosineAnnealing(baseLearningRate: c.baseLR, period: Int(o.number("T_max", default: 0)),
                                       minimumLearningRate: o.number("eta_min", default: 0))
        case "warmup_cosine":
            let cosine = try CosineAnnealing(baseLearningRate: c.baseLR, period: Int(o.number("T_max", default: 0)))
            return try LinearWarmup(warmupSteps: Int(o.number("warmup", default: 0)),
                                    startFactor: o.number("start_factor", default: 1.0 / 3.0), then: cosine)
        default:
            throw FixtureError(description: "unknown schedule \(c.name)")
        }
    }

    /// Closed forms equal PyTorch's (recursive) schedulers over 30 steps to 1e-13 relative:
    /// the two differ only by rounding.
    @Test(arguments: ["step", "multistep", "exponential", "cosine", "warmup_cosine"])
    func scheduleMatchesPyTorch(name: String) throws {
        let c = try #require(try NNOptimFixture.load().schedules.first { $0.name == name })
        let schedule = try makeSchedule(c)
        #expect(c.lrs.count == 30)
        for (k, expected) in c.lrs.enumerated() {
            let lr = schedule.learningRate(atStep: k)
            #expect(Swift.abs(lr - expected) <= 1e-13 * expected + 1e-17, "\(name) step \(k): \(lr) vs \(expected)")
        }
    }

    /// A schedule drives an optimizer's learning rate.
    @Test func scheduleSetsOptimizerLearningRate() throws {
        var optimizer = try SGD<Double>(learningRate: 1)
        let schedule = try StepDecay(baseLearningRate: 0.5, stepSize: 2, gamma: 0.1)
        var rates: [Double] = []
        for epoch in 0..<4 {
            optimizer.learningRate = schedule.learningRate(atStep: epoch)
            rates.append(optimizer.learningRate)
        }
        #expect(rates.map { ($0 * 1e6).rounded() } == [500_000, 500_000, 50_000, 50_000])
    }

    /// Invalid schedule hyperparameters throw, naming the schedule and the hyperparameter.
    @Test func invalidSchedulesThrow() throws {
        #expect(throws: OptimizerError.invalidHyperparameter(owner: "StepDecay", name: "stepSize", value: 0,
                                                             requirement: "must be ≥ 1")) {
            try StepDecay(baseLearningRate: 0.1, stepSize: 0)
        }
        #expect(throws: OptimizerError.self) { try MultiStepDecay(baseLearningRate: 0.1, milestones: [5, 3]) }
        #expect(throws: OptimizerError.self) { try ExponentialDecay(baseLearningRate: 0.1, gamma: 0) }
        #expect(throws: OptimizerError.self) { try CosineAnnealing(baseLearningRate: -0.1, period: 10) }
        let cosine = try CosineAnnealing(baseLearningRate: 0.1, period: 10)
        #expect(throws: OptimizerError.self) { try LinearWarmup(warmupSteps: 3, startFactor: 0, then: cosine) }
    }
}
