import Autodiff
import Backtest
import Foundation
import Linalg
import Market
import MetaLearn
import NN
import Portfolio
@testable import Strategies
import Testing

/// The embedded universe and its indicators, loaded once.
private let embedded: (universe: MultiAssetUniverse, indicators: MarketIndicators) = {
    let universe = try! MultiAssetUniverse.extended()
    return (universe, try! MarketIndicators.embedded(alignedTo: universe.index))
}()

/// A short backtest of an allocator on the embedded universe: quick settings, `decisions` monthly
/// decisions from the first bar the allocator can decide at.
private func runAllocator(training: AllocatorTraining, profile: InvestorProfile = .moderate, seed: UInt64 = 1,
                          decisions: Int = 30, panel: PricePanel? = nil, indicators: MarketIndicators? = nil)
    throws -> (allocator: MetaAllocator, result: BacktestResult) {
    var settings = MainJobConfiguration.quick.allocator
    settings.seed = seed
    let panel = panel ?? embedded.universe.panel
    let first = settings.requiredHistory - 1
    let backtest = BacktestConfiguration(costs: try TransactionCostModel(rate: 0.001, method: .exact), cash: CashAsset(),
                                         unavailableAssets: .redistribute, firstDecisionBar: first, lastBar: first + decisions,
                                         maximumGrossLeverage: profile.maximumGrossLeverage > 1 ? profile.maximumGrossLeverage : nil)
    var allocator = try MetaAllocator(assets: panel.assets, assetClasses: panel.assetClasses,
                                      indicators: indicators ?? embedded.indicators, profile: profile, training: training,
                                      configuration: settings)
    let result = try BacktestEngine(panel: panel, configuration: backtest).run(&allocator)
    return (allocator, result)
}

/// Synthetic packed targets for `n` rows: random long-only candidates, relatives around 1, and base budgets.
private func syntheticTargets(_ objective: AllocationObjective, rows n: Int, seed: UInt64) throws -> Tensor<Double> {
    var g = Xoshiro256StarStar(seed: seed)
    var packed: [[Double]] = []
    for _ in 0..<n {
        let candidates = (0..<objective.candidateCount).map { _ -> [Double] in
            let raw = (0..<objective.assetCount).map { _ in Double.random(in: 0.05...1, using: &g) }
            let total = raw.reduce(0, +)
            return raw.map { $0 / total }
        }
        let relatives = (0..<objective.assetCount).map { _ in Double.random(in: 0.9...1.12, using: &g) }
        let budgets = [Double](repeating: 1 / Double(objective.classCount), count: objective.classCount)
        packed.append(try objective.packRow(candidates: candidates, priceRelatives: relatives, cashRelative: 1.001, baseBudgets: budgets))
    }
    return try Tensor(shape: [n, objective.candidateCount + 2, objective.assetCount + 1], scalars: packed.flatMap { $0 })
}

@Suite("Meta-allocator: objective, meta-gradients, causality, constraints and log")
struct MetaAllocatorTests {
    /// The objective's gradient in the policy outputs against central differences, for both risk
    /// measures and both transaction-remainder factors. Tolerance 1e-6 absolute + 1e-5 relative:
    /// ε = 1e-6 central differences carry about 1e-10 error on a loss of order 0.1; the exact μ's
    /// unrolled iteration stops within 1e-13.
    @Test(arguments: [(AllocationObjective.Risk.variance, EIIETransactionRemainder.firstOrder),
                      (.downside, .exact), (.variance, .exact)])
    func objectiveGradientMatchesFiniteDifferences(risk: AllocationObjective.Risk, remainder: EIIETransactionRemainder) throws {
        let objective = try AllocationObjective(candidateCount: 3, assetCount: 4, assetClassPositions: [0, 0, 1, nil], classCount: 2,
                                                commission: 0.01, transactionRemainder: remainder, riskPenalty: 2, risk: risk,
                                                turnoverPenalty: 0.05, maximumClassTilt: 0.5)
        let targets = try syntheticTargets(objective, rows: 6, seed: 3)
        var g = Xoshiro256StarStar(seed: 9)
        let outputs = Tensor<Double>.normal([6, objective.outputCount], standardDeviation: 0.7, using: &g)
        let report = GradientCheck.firstOrder(at: [outputs]) { xs in try! objective.loss(outputs: xs[0], targets: targets) }
        #expect(report.passed, "\(report)")
    }

    /// Without tilts every row's class shares equal its base budgets (1e-12); with tilts each share
    /// stays within a factor e^(2τ) of its budget; the weights are long-only and fully invested.
    @Test func classBudgetsHoldInThePortfolios() throws {
        let objective = try AllocationObjective(candidateCount: 3, assetCount: 5, assetClassPositions: [0, 0, 1, 2, 2], classCount: 3,
                                                maximumClassTilt: 0.5)
        var g = Xoshiro256StarStar(seed: 4)
        var rows: [[Double]] = []
        let base = [0.5, 0.3, 0.2]
        for _ in 0..<4 {
            let candidates = (0..<3).map { _ -> [Double] in
                let raw = (0..<5).map { _ in Double.random(in: 0.01...1, using: &g) }
                return raw.map { $0 / raw.reduce(0, +) }
            }
            rows.append(try objective.packRow(candidates: candidates, priceRelatives: [1, 1, 1, 1, 1], cashRelative: 1, baseBudgets: base))
        }
        let targets = try Tensor<Double>(shape: [4, 5, 6], scalars: rows.flatMap { $0 })
        var untilted = [Double](repeating: 0, count: 4 * 6)
        for r in 0..<4 { for c in 0..<3 { untilted[r * 6 + c] = Double(c) } }
        let tiltScalars = (0..<24).map { Double(($0 * 7) % 5) - 2 }
        for (scalars, tilted) in [(untilted, false), (tiltScalars, true)] {
            let weights = objective.portfolios(outputs: try Tensor(shape: [4, 6], scalars: scalars), targets: targets).scalars
            for r in 0..<4 {
                let row = Array(weights[(r * 6)..<(r * 6 + 6)])
                #expect(row[0] == 0 && row.allSatisfy { $0 >= 0 })
                #expect(abs(row.reduce(0, +) - 1) <= 1e-12)
                let shares = [row[1] + row[2], row[3], row[4] + row[5]]
                for c in 0..<3 {
                    if tilted {
                        #expect(shares[c] / base[c] <= Foundation.exp(1.0) + 1e-12 && shares[c] / base[c] >= Foundation.exp(-1.0) - 1e-12)
                    } else {
                        #expect(abs(shares[c] - base[c]) <= 1e-12)
                    }
                }
            }
        }
    }

    /// The meta-gradient of the allocation objective through one and two inner steps against central
    /// differences of the post-adaptation query loss (Double, ε = 1e-5, tolerance 1e-7 scaled), and
    /// different from the first-order meta-gradient (so the check sees the second-order terms).
    @Test(arguments: [1, 2])
    func metaGradientMatchesCentralDifferences(steps: Int) throws {
        let objective = try AllocationObjective(candidateCount: 3, assetCount: 4, assetClassPositions: [0, 0, 1, 1], classCount: 2,
                                                commission: 0.01, riskPenalty: 2, turnoverPenalty: 0.05)
        var g = Xoshiro256StarStar(seed: 21)
        let model = try MLP<Double>(sizes: [3, 4, objective.outputCount], activation: .tanh, using: &g)
        func data(_ rows: Int, _ seed: UInt64) throws -> TaskData<Double> {
            var inputs = Xoshiro256StarStar(seed: seed + 100)
            return try TaskData(inputs: Tensor.normal([rows, 3], using: &inputs), targets: syntheticTargets(objective, rows: rows, seed: seed))
        }
        let tasks = [MetaTask(support: try data(5, 1), query: try data(3, 2)), MetaTask(support: try data(5, 3), query: try data(3, 4))]
        let loss: TaskLoss<MLP<Double>> = objective.taskLoss
        let alpha = 0.5
        let (analytic, _) = try MAML(model, innerLearningRate: alpha, innerSteps: steps).metaGradients(on: tasks, loss: loss)
        let (firstOrder, _) = try MAML(model, innerLearningRate: alpha, innerSteps: steps, firstOrder: true).metaGradients(on: tasks, loss: loss)
        let named = model.namedParameters()
        let numeric = GradientCheck.numericalGradient(at: named.map(\.value), epsilon: 1e-5) { values in
            let perturbed = try! model.replacingParameters(Dictionary(uniqueKeysWithValues: zip(named.map(\.key), values)))
            let maml = try! MAML(perturbed, innerLearningRate: alpha, innerSteps: steps, firstOrder: true)
            return tasks.reduce(0.0) { total, task in
                total + (try! loss(try! maml.adapted(to: task.support, steps: steps, loss: loss), task.query)).scalar
            } / Double(tasks.count)
        }
        var worst = 0.0, secondOrderEffect = 0.0
        for (i, (key, _)) in named.enumerated() {
            let a = analytic.parameters[key]!.scalars, f = firstOrder.parameters[key]!.scalars
            for e in a.indices {
                worst = max(worst, abs(a[e] - numeric[i][e]) / (1 + abs(numeric[i][e])))
                secondOrderEffect = max(secondOrderEffect, abs(a[e] - f[e]))
            }
        }
        #expect(worst <= 1e-7, "worst scaled |analytic − numeric| = \(worst)")
        #expect(secondOrderEffect > 1e-6, "second- and first-order meta-gradients agree to \(secondOrderEffect)")
    }

    /// Scrambling every price and indicator after bar t leaves every decision up to t bit-identical
    /// (regime fits, features, tasks and adaptation included), and changes later ones.
    @Test func laterDataCannotChangeEarlierDecisions() throws {
        let original = embedded.universe.panel
        let settings = MainJobConfiguration.quick.allocator
        let t = settings.requiredHistory + 15
        var g = Xoshiro256StarStar(seed: 5)
        var close = original.close, values = embedded.indicators.values
        for row in (t + 1)..<close.rows {
            for a in 0..<close.columns where close[row, a].isFinite { close[row, a] *= Double.random(in: 0.5...1.5, using: &g) }
            for c in 0..<values.columns where values[row, c].isFinite { values[row, c] *= Double.random(in: 0.5...1.5, using: &g) }
        }
        let scrambled = try PricePanel(index: original.index, assets: original.assets, close: close,
                                       assetClasses: original.assetClasses, mask: original.mask)
        let indicators = try MarketIndicators(index: original.index, values: values)
        let a = try runAllocator(training: .maml, decisions: 40).allocator.decisions
        let b = try runAllocator(training: .maml, decisions: 40, panel: scrambled, indicators: indicators).allocator.decisions
        let upTo = a.filter { $0.bar <= t }
        #expect(upTo.count >= 10)
        #expect(upTo == b.filter { $0.bar <= t })
        #expect(a.filter { $0.bar > t } != b.filter { $0.bar > t }, "the scrambled future reaches later decisions")
    }

    /// Same seed, same bits; another seed, another policy.
    @Test func seedsAreDeterministic() throws {
        let first = try runAllocator(training: .maml, seed: 7, decisions: 12)
        let again = try runAllocator(training: .maml, seed: 7, decisions: 12)
        let other = try runAllocator(training: .maml, seed: 8, decisions: 12)
        #expect(first.allocator.decisions == again.allocator.decisions)
        #expect(first.result.wealth == again.result.wealth)
        #expect(first.allocator.decisions.map(\.mixtureWeights) != other.allocator.decisions.map(\.mixtureWeights))
    }

    /// Every rebalance of every profile: long-only, gross exposure within the profile's limit, single
    /// names at most at the cap, the volatility-target leverage within the limit.
    @Test(arguments: InvestorProfile.presets)
    func profilesHoldTheirConstraintsAtEveryRebalance(profile: InvestorProfile) throws {
        let (allocator, result) = try runAllocator(training: .maml, profile: profile, decisions: 24)
        let classes = embedded.universe.assetClasses
        #expect(allocator.decisions.count == result.decisions.count)
        for decision in allocator.decisions {
            #expect(decision.weights.allSatisfy { $0 >= 0 })
            #expect(decision.weights.reduce(0, +) <= profile.maximumGrossLeverage + 1e-12)
            #expect(decision.constraints.leverage <= profile.maximumGrossLeverage + 1e-12)
            for (weight, assetClass) in zip(decision.weights, classes) where InvestorProfile.cappedClasses.contains(assetClass) {
                #expect(weight <= profile.maximumAssetWeight + 1e-12)
            }
        }
        for decision in result.decisions {
            let risky = decision.weightsAfter.dropLast()
            #expect(risky.reduce(0) { $0 + abs($1) } <= profile.maximumGrossLeverage + 1e-9)
        }
    }

    /// The design note's split, and the class shares of the equal mixture at each decision equal the
    /// base budgets renormalized over the classes present (no tilts without a policy).
    @Test func designNoteBudgetsAndEqualMixtureShares() throws {
        #expect(ClassBudgets.designNote.entries.map(\.assetClass) == [.equity, .bond, .etf, .derivative])
        #expect(ClassBudgets.designNote.entries.map(\.budget) == [0.4, 0.3, 0.2, 0.1])
        let (allocator, _) = try runAllocator(training: .equalMixture, decisions: 6)
        for decision in allocator.decisions {
            // Before 2014 the ETFs have not listed: the others share their 20 % pro rata.
            #expect(abs(decision.classBudgets[0] - 0.5) <= 1e-12 && abs(decision.classBudgets[1] - 0.375) <= 1e-12)
            #expect(decision.classBudgets[2] == 0 && abs(decision.classBudgets[3] - 0.125) <= 1e-12)
            #expect(decision.mixtureWeights.allSatisfy { abs($0 - 0.25) <= 1e-15 })
        }
    }

    /// One log entry per rebalance, each complete: probabilities and mixture weights summing to 1,
    /// a class share per budgeted class, losses where the training mode has them, refits on schedule.
    @Test(arguments: [AllocatorTraining.maml, .conventional, .regimeSwitch])
    func decisionLogIsComplete(training: AllocatorTraining) throws {
        let (allocator, result) = try runAllocator(training: training, decisions: 40)
        let log = allocator.decisions
        #expect(log.count == result.decisions.count && log.count >= 35)
        #expect(log.map(\.bar) == result.decisions.map(\.decisionBar))
        let refitEvery = MainJobConfiguration.quick.allocator.refitEvery
        for (k, decision) in log.enumerated() {
            #expect(abs(decision.regimeProbabilities.reduce(0, +) - 1) <= 1e-9 && decision.regimeProbabilities.count == 3)
            #expect(["calm", "normal", "stressed"].contains(decision.regime))
            #expect(abs(decision.mixtureWeights.reduce(0, +) - 1) <= 1e-9 && decision.mixtureWeights.count == 4)
            #expect(decision.classBudgets.count == 4 && abs(decision.classBudgets.reduce(0, +) - 1) <= 1e-9)
            #expect((decision.lossBeforeAdaptation != nil) == training.trainsPolicy)
            #expect((decision.lossAfterAdaptation != nil) == training.adapts)
            #expect(decision.refitted == (k % refitEvery == 0))
            #expect(decision.weights.count == 29 && decision.label == result.decisions[k].decisionDate)
        }
        if training == .maml {
            #expect(log.contains { $0.lossAfterAdaptation! < $0.lossBeforeAdaptation! }, "adaptation lowers the support loss somewhere")
        }
    }

    @Test func badSettingsThrowNamingTheField() throws {
        var settings = MetaAllocatorConfiguration()
        settings.supportPeriods = 0
        #expect(throws: StrategiesError.invalidArgument(component: "MetaAllocatorConfiguration", parameter: "supportPeriods",
                                                        message: "0 must be in 1…10000")) { try settings.validate() }
        #expect(throws: StrategiesError.self) { try ClassBudgets([.equity: 0.5, .bond: 0.4]) }
        #expect(throws: StrategiesError.self) { try ClassBudgets([.equity: 0.5, .equity: 0.5]) }
        #expect(throws: StrategiesError.self) {
            try InvestorProfile(name: "x", riskPenalty: 1, turnoverPenalty: 0, classBudgets: .designNote, maximumAssetWeight: 0.1,
                                volatilityTarget: 0.1, maximumGrossLeverage: 2)
        }
        #expect(throws: StrategiesError.self) { try MarketIndicators(index: embedded.universe.index, values: Matrix(rows: 2, columns: 6)) }
        var job = MainJobConfiguration.quick
        job.benchmark = "nope"
        #expect(throws: StrategiesError.self) {
            try MainJob.run(universe: embedded.universe, indicators: embedded.indicators, configuration: job)
        }
        // Too early a first decision for the allocator's tasks is refused before any work.
        job = MainJobConfiguration.quick
        job.firstDecision = try MarketDate(year: 1993, month: 1, day: 29)
        #expect(throws: StrategiesError.self) {
            try MainJob.run(universe: embedded.universe, indicators: embedded.indicators, configuration: job)
        }
    }

    /// The indicators use nothing after each label: VIX is missing before its first day (2014-01-03)
    /// and the realized volatility of a month uses that month's days only.
    @Test func indicatorsAreAlignedWithoutLookAhead() throws {
        let indicators = embedded.indicators, dates = indicators.index.dates!
        let vix = indicators.column("VIX")!
        for (row, date) in dates.enumerated() {
            if date < (try MarketDate(year: 2014, month: 1, day: 31)) { #expect(vix[row].isNaN) } else { #expect(vix[row].isFinite) }
        }
        let sp500 = try Dataset.sp500Index.load()
        let spDates = sp500.index.dates!, close = try sp500.series("SP500")
        let row = dates.firstIndex(of: try MarketDate(year: 2008, month: 10, day: 31))!
        let last = spDates.lastIndex { $0 <= dates[row] }!
        #expect(indicators.values[row, 0] == close[last])
        let first = spDates.firstIndex { $0 > dates[row - 1] }!
        let returns = (first...last).map { Foundation.log(close[$0] / close[$0 - 1]) }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
        #expect(abs(indicators.values[row, 1] - (variance * 252).squareRoot()) <= 1e-12)
    }
}
