import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio optimize`: portfolio weights from prices by one of the Portfolio optimizers.
struct OptimizeCommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Portfolio weights from prices: mean-variance, equal weight, inverse volatility, HRP, HERC, risk parity, Black–Litterman or hierarchical asset-class budgets.",
        discussion: """
        Returns are simple returns of the closes, annualized by --periods-per-year (252; 12 for the \
        monthly multi-asset universe). --dataset multi-asset is MultiAssetUniverse.standard() (29 assets \
        in four classes). Black–Litterman uses an equally weighted market as its prior, δ implied by that \
        market's returns, and views given as --view AAPL=0.10 (absolute) or --view MSFT-AMD=0.02 (relative).
        """
    )

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case minVariance = "min-variance", maxSharpe = "max-sharpe", maxUtility = "max-utility"
        case equalWeight = "equal-weight", inverseVolatility = "inverse-volatility"
        case blackLitterman = "black-litterman", hierarchical
        case hrp, herc, riskParity = "risk-parity"

        init?(argument: String) {
            self.init(rawValue: argument == "equal" ? "equal-weight" : argument)
        }
    }

    enum CovarianceChoice: String, ExpressibleByArgument, CaseIterable {
        case sample, ledoitWolf = "ledoit-wolf", ledoitWolfConstantCorrelation = "ledoit-wolf-constant-correlation"
        case oas, ewma

        var method: CovarianceEstimator.Method {
            switch self {
            case .sample: return .sample(ddof: 1)
            case .ledoitWolf: return .ledoitWolf(.identity)
            case .ledoitWolfConstantCorrelation: return .ledoitWolf(.constantCorrelation)
            case .oas: return .oracleApproximating
            case .ewma: return .ewma(.span(180), centering: .sampleMean)
            }
        }
    }

    @Option(name: .long, help: "Method: \(Method.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: Method

    @OptionGroup var source: PriceSource

    @Option(name: .long, help: "Covariance estimator: \(CovarianceChoice.allCases.map(\.rawValue).joined(separator: ", ")) (ewma: span 180).")
    var covariance: CovarianceChoice = .sample

    @Option(name: .long, help: "Largest weight of any asset (mean-variance methods and hierarchical).")
    var maxWeight: Double?

    @Option(name: .long, help: "Smallest weight of any asset (mean-variance methods; default 0, long-only).")
    var minWeight: Double?

    @Option(name: .long, help: "Annual risk-free rate (max-sharpe objective and reported Sharpe ratio).")
    var riskFree: Double = 0

    @Option(name: .long, help: "Periods per year for annualization (default 252, 12 for multi-asset).")
    var periodsPerYear: Double?

    @Option(name: .long, help: "Risk aversion δ for max-utility (default 1) and Black–Litterman (default: market-implied).")
    var riskAversion: Double?

    @Option(name: .long, help: "Black–Litterman view ASSET=RETURN or LONG-SHORT=SPREAD (annual); repeatable.")
    var view: [String] = []

    @Option(name: .long, help: "Black–Litterman view confidence in [0, 1], one per --view (Idzorek's Ω); repeatable.")
    var confidence: [Double] = []

    @Option(name: .long, help: "Black–Litterman τ (default 0.05).")
    var tau: Double = 0.05

    @Option(name: .long, help: "Hierarchical class budget CLASS=WEIGHT; repeatable (default the design note's equity 0.4, bond 0.3, etf 0.2, derivative 0.1).")
    var budget: [String] = []

    @Option(name: .long, help: "Optimizer inside each class for hierarchical: min-variance, equal-weight, inverse-volatility, hrp, herc or risk-parity.")
    var innerMethod: Method = .inverseVolatility

    @Option(name: .long, help: "Linkage of hrp and herc: single, complete, average or ward.")
    var linkage: String = "single"

    @Flag(name: .long, help: "Print the allocation as one JSON object.")
    var json = false

    func validate() throws {
        try requireFinite(riskFree, option: "--risk-free")
        try requireFinite(maxWeight, option: "--max-weight")
        try requireFinite(minWeight, option: "--min-weight")
        try requireFinite(riskAversion, option: "--risk-aversion")
        try requireFinite(tau, option: "--tau")
        for value in confidence where !(value >= 0 && value <= 1) {
            throw ValidationError("--confidence must be in [0, 1], not \(value)")
        }
        if let factor = periodsPerYear, !(factor > 0 && factor.isFinite) {
            throw ValidationError("--periods-per-year must be a positive number, not \(factor)")
        }
        if !view.isEmpty || !confidence.isEmpty, method != .blackLitterman {
            throw ValidationError("--view and --confidence apply only to --method black-litterman")
        }
        if !confidence.isEmpty, confidence.count != view.count {
            throw ValidationError("give one --confidence per --view (\(view.count) views, \(confidence.count) confidences)")
        }
        if !budget.isEmpty, method != .hierarchical { throw ValidationError("--budget applies only to --method hierarchical") }
        if minWeight != nil, ![.minVariance, .maxSharpe, .maxUtility].contains(method) {
            throw ValidationError("--min-weight applies only to min-variance, max-sharpe and max-utility")
        }
        if maxWeight != nil, ![.minVariance, .maxSharpe, .maxUtility, .hierarchical].contains(method) {
            throw ValidationError("--max-weight applies only to min-variance, max-sharpe, max-utility and hierarchical")
        }
        guard LinkageMethod(rawValue: linkage) != nil else {
            throw ValidationError("--linkage must be single, complete, average or ward, got \(linkage)")
        }
        guard [.minVariance, .equalWeight, .inverseVolatility, .hrp, .herc, .riskParity].contains(innerMethod) else {
            throw ValidationError("--inner-method must be min-variance, equal-weight, inverse-volatility, hrp, herc or risk-parity")
        }
    }

    /// Closes of the chosen source, and the periods per year of its calendar unless given.
    func loadPrices() throws -> (panel: PricePanel, source: String, periodsPerYear: Double) {
        let (panel, source) = try source.load()
        return (panel, source, periodsPerYear ?? panel.periodsPerYear())
    }

    /// The optimizer for `choice` under the command's options.
    func optimizer(_ choice: Method, returns: ReturnObservations, factor: Double) throws -> any PortfolioOptimizer {
        let bounds = PortfolioConstraints(minimumWeight: minWeight ?? 0, maximumWeight: maxWeight ?? 1)
        switch choice {
        case .minVariance:
            return MeanVarianceOptimizer(objective: .minimumVariance, constraints: bounds, riskFreeRate: riskFree)
        case .maxSharpe:
            return MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: riskFree), constraints: bounds)
        case .maxUtility:
            return MeanVarianceOptimizer(objective: .maximumUtility(riskAversion: riskAversion ?? 1), constraints: bounds,
                                         riskFreeRate: riskFree)
        case .equalWeight:
            return EqualWeight(riskFreeRate: riskFree)
        case .inverseVolatility:
            return InverseVolatility(riskFreeRate: riskFree)
        case .hrp:
            return HierarchicalRiskParity(linkage: LinkageMethod(rawValue: linkage) ?? .single, riskFreeRate: riskFree)
        case .herc:
            return HierarchicalEqualRiskContribution(linkage: LinkageMethod(rawValue: linkage) ?? .single, riskFreeRate: riskFree)
        case .riskParity:
            return RiskBudgeting(riskFreeRate: riskFree)
        case .blackLitterman:
            let n = returns.assetCount
            let market = (0..<returns.periodCount).map { t in (0..<n).reduce(0) { $0 + returns.values[t, $1] } / Double(n) }
            let delta = try riskAversion ?? BlackLittermanModel.marketImpliedRiskAversion(
                returns: market, annualizationFactor: factor, riskFreeRate: riskFree)
            let views = try view.enumerated().map { k, text in
                try parseView(text, confidence: confidence.isEmpty ? nil : confidence[k])
            }
            return BlackLittermanModel(prior: .marketImplied(marketCapitalizations: Dictionary(uniqueKeysWithValues: returns.assets.map { ($0, 1.0) }),
                                                             riskFreeRate: riskFree),
                                       views: views, tau: tau, riskAversion: delta,
                                       uncertainty: confidence.isEmpty ? .heLitterman : .idzorek, riskFreeRate: riskFree)
        case .hierarchical:
            let parsed = try budget.map(parseBudget)
            if let repeated = parsed.map(\.0).enumerated().first(where: { index, key in parsed[..<index].contains { $0.0 == key } }) {
                throw ValidationError("--budget names class \(repeated.element.rawValue) twice")
            }
            let budgets: [AssetClass: Double] = parsed.isEmpty
                ? Dictionary(uniqueKeysWithValues: ClassBudgets.designNote.entries.map { ($0.assetClass, $0.budget) })
                : Dictionary(uniqueKeysWithValues: parsed)
            // The overall --max-weight is the hierarchy's cap (enforced as cap/budget inside min-variance), not the inner one.
            var inner = self
            inner.maxWeight = nil
            return AssetClassBudgeting(budgets: budgets, optimizer: try inner.optimizer(innerMethod, returns: returns, factor: factor),
                                       maximumAssetWeight: maxWeight, riskFreeRate: riskFree)
        }
    }

    /// `ASSET=RETURN` (absolute) or `LONG-SHORT=SPREAD` (relative).
    func parseView(_ text: String, confidence: Double?) throws -> BlackLittermanView {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let value = Double(parts[1]), value.isFinite else {
            throw ValidationError("--view \(text): expected ASSET=RETURN or LONG-SHORT=SPREAD with a finite number")
        }
        let legs = parts[0].split(separator: "-").map(String.init)
        switch legs.count {
        case 1: return .absolute(legs[0], expectedReturn: value, confidence: confidence)
        case 2: return .relative(legs[0], over: legs[1], by: value, confidence: confidence)
        default: throw ValidationError("--view \(text): expected ASSET=RETURN or LONG-SHORT=SPREAD")
        }
    }

    /// `CLASS=WEIGHT`.
    func parseBudget(_ text: String) throws -> (AssetClass, Double) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let value = Double(parts[1]) else { throw ValidationError("--budget \(text): expected CLASS=WEIGHT") }
        return (AssetClass(rawValue: parts[0]), value)
    }

    func execute() throws {
        let (panel, source, factor) = try loadPrices()
        let returns: ReturnObservations
        do { returns = try ReturnObservations(simpleReturnsOf: panel) } catch let PortfolioError.nonFinite(_, _, asset, period?) {
            // Return `period` spans rows `period` and `period + 1` of the prices.
            let date = panel.index.label(at: Swift.min(period + 1, panel.index.count - 1))
            throw CommandFailure(description: "\(source): the return of \(asset) ending \(date) is missing or not finite (a missing or bad price); fill or drop it first")
        }
        let prior = EstimationPrior(covariance: CovarianceEstimator(method: covariance.method, annualizationFactor: factor),
                                    expectedReturns: ExpectedReturnsEstimator(annualizationFactor: factor))
        let inputs = try prior.inputs(returns)
        let allocation = try optimizer(method, returns: returns, factor: factor).fit(inputs)
        if json { try printJSON(allocation); return }
        print("\(allocation.method) weights of \(inputs.count) assets from \(source) (\(returns.periodCount) returns, \(covariance.rawValue) covariance, annualized by \(formatted(factor)))")
        let width = Swift.max(5, inputs.assets.map(\.count).max() ?? 5)
        func pad(_ text: String, _ size: Int) -> String { text + String(repeating: " ", count: Swift.max(1, size - text.count)) }
        print(pad("asset", width + 2) + pad("class", 14) + "weight")
        for (i, asset) in inputs.assets.enumerated() {
            print(pad(asset, width + 2) + pad(inputs.assetClasses[i].rawValue, 14) + String(format: "%9.6f", abs(allocation.weights[i]) < 5e-7 ? 0 : allocation.weights[i]))
        }
        if let r = allocation.expectedReturn { print("expected return \(formatted(r))") }
        print("volatility \(formatted(allocation.volatility))")
        if let sharpe = allocation.sharpeRatio { print("Sharpe ratio \(formatted(sharpe)) (risk-free \(formatted(riskFree)))") }
        if let diagnostics = allocation.diagnostics {
            print("solver \(diagnostics.status), \(diagnostics.iterations) iterations, KKT residuals \(diagnostics.residuals)")
        }
    }
}
