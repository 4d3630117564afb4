/// The OLPS algorithms by command-line name, each with the OLPS toolbox defaults
/// (Li, Sahoo & Hoi 2016, "OLPS: a toolbox for on-line portfolio selection", JMLR 17) or, under
/// ``OLPSConvention/paper``, the published algorithms' defaults.
public enum OLPSAlgorithm: String, Sendable, Hashable, CaseIterable, Codable {
    /// ``UniformBuyAndHold``.
    case ubah
    /// ``ConstantRebalanced`` with uniform weights.
    case ucrp
    /// ``BestConstantRebalanced`` (hindsight).
    case bcrp
    /// ``BestStock`` (hindsight).
    case best
    /// ``ExponentiatedGradient``.
    case eg
    /// ``OnlineNewtonStep``.
    case ons
    /// ``UniversalPortfolio``.
    case up
    /// ``Anticor`` (variant `single`) or `BAH_30(Anticor)` (variant `bah`, the default).
    case anticor
    /// ``PassiveAggressiveMeanReversion`` (variants `0`, `1`, `2`).
    case pamr
    /// ``ConfidenceWeightedMeanReversion`` (variants `var`, `stdev`).
    case cwmr
    /// ``MovingAverageReversion`` (variants `1`, `2`).
    case olmar
    /// ``RobustMedianReversion``.
    case rmr
    /// ``CORN``.
    case corn

    /// The variants an algorithm accepts, the first being the default (empty when it has none).
    public var variants: [String] {
        switch self {
        case .anticor: return ["bah", "single"]
        case .pamr: return ["0", "1", "2"]
        case .cwmr: return ["stdev", "var"]
        case .olmar: return ["1", "2"]
        default: return []
        }
    }

    /// The algorithm called `name`.
    ///
    /// - Throws: ``OLPSError/unknownAlgorithm(name:known:)``.
    public init(named name: String) throws {
        guard let algorithm = OLPSAlgorithm(rawValue: name.lowercased()) else {
            throw OLPSError.unknownAlgorithm(name: name, known: OLPSAlgorithm.allCases.map(\.rawValue))
        }
        self = algorithm
    }

    /// A selector with the OLPS toolbox's conventions and defaults:
    /// ``makeSelector(variant:relatives:convention:)`` with ``OLPSConvention/toolbox``.
    ///
    /// - Throws: as ``makeSelector(variant:relatives:convention:)``.
    public func makeSelector(variant: String? = nil, relatives: PriceRelatives) throws -> any OnlinePortfolioSelector {
        try makeSelector(variant: variant, relatives: relatives, convention: .toolbox)
    }

    /// A selector with the default parameters of `convention`. Hindsight benchmarks (`bcrp`,
    /// `best`) are fitted on `relatives`, which the online algorithms ignore.
    ///
    /// - Parameter convention: the toolbox's run loops or the published algorithms; see
    ///   ``OLPSConvention`` for what differs.
    /// - Throws: ``OLPSError/unknownAlgorithm(name:known:)`` for an unknown variant; solver
    ///   failure of BCRP.
    public func makeSelector(variant: String? = nil, relatives: PriceRelatives,
                             convention: OLPSConvention) throws -> any OnlinePortfolioSelector {
        let chosen = variant ?? variants.first ?? ""
        if variants.isEmpty ? variant != nil : !variants.contains(chosen) {
            throw OLPSError.unknownAlgorithm(name: "\(rawValue) variant \(chosen)",
                                             known: variants.isEmpty ? ["(no variants)"] : variants)
        }
        switch self {
        case .ubah: return UniformBuyAndHold()
        case .ucrp: return try ConstantRebalanced()
        case .bcrp: return try BestConstantRebalanced(hindsight: relatives)
        case .best: return BestStock(hindsight: relatives)
        case .eg: return try ExponentiatedGradient()
        case .ons: return try OnlineNewtonStep()
        case .up: return try UniversalPortfolio(convention: convention)
        case .anticor:
            return chosen == "single" ? try Anticor(convention: convention) as any OnlinePortfolioSelector
                : try BuyAndHoldCombination.anticor(convention: convention)
        case .pamr: return try PassiveAggressiveMeanReversion(variant: .init(rawValue: Int(chosen)!)!, convention: convention)
        case .cwmr:
            return try ConfidenceWeightedMeanReversion(variant: chosen == "var" ? .variance : .standardDeviation, convention: convention)
        case .olmar: return try MovingAverageReversion(variant: chosen == "2" ? .exponential : .simple, convention: convention)
        case .rmr: return try RobustMedianReversion(convention: convention)
        case .corn: return try CORN(convention: convention)
        }
    }
}
