import Foundation
import Linalg
import Regimes

/// Settings of the regime model whose filtered state probabilities become forecaster inputs (and the
/// task labels of ``MetaReturnEvaluation``).
///
/// The model is fitted, in each walk-forward fold, on the training rows only; its observations per row
/// are the trailing 20-period log return and the log of the 20-period volatility (features `ret20` and
/// `vol20`), standardized with the fitting rows' mean and deviation. Log VIX is left out: the embedded
/// VIX covers 2014–2018 only, and an HMM needs the same observations on every row.
public struct RegimeFeatureConfiguration: Sendable, Hashable {
    /// HMM (forward-filtered) or GMM (responsibilities of each row alone).
    public var kind: RegimeModelKind
    /// Number of states (2…6), ordered by mean log volatility (calm first).
    public var states: Int
    /// EM restarts per fit.
    public var restarts: Int
    /// Seed of the EM restarts; each fold derives its own.
    public var seed: UInt64

    /// A configuration: a 3-state HMM with 3 restarts.
    public init(kind: RegimeModelKind = .hmm, states: Int = 3, restarts: Int = 3, seed: UInt64 = 1) {
        self.kind = kind
        self.states = states
        self.restarts = restarts
        self.seed = seed
    }

    /// The model called `name`: `hmm` or `gmm` (case-insensitive), or `nil` for `none`.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming `regimeFeatures`
    ///   for any other name.
    public static func kind(named name: String) throws -> RegimeModelKind? {
        if name.lowercased() == "none" { return nil }
        guard let kind = RegimeModelKind(rawValue: name.lowercased()) else {
            throw StrategiesError.invalidArgument(component: "RegimeFeatureConfiguration", parameter: "regimeFeatures",
                                                  message: "'\(name)' is not one of none, hmm, gmm")
        }
        return kind
    }

    /// Throws unless every field is in its domain.
    func validate() throws {
        try require((2...6).contains(states), "RegimeFeatureConfiguration", "regimeStates", "must be in 2…6, not \(states)")
        try require(restarts >= 1, "RegimeFeatureConfiguration", "restarts", "must be ≥ 1, not \(restarts)")
    }
}

/// A regime model of one price series fitted on a range of feature rows, read causally: its
/// probabilities at row `t` use observations up to `t` only (the HMM's forward filter, never the
/// smoothed posterior; the GMM's responsibilities of row `t` alone).
public struct ForecastRegimeModel: Sendable {
    /// The settings used.
    public let configuration: RegimeFeatureConfiguration
    private let hmm: GaussianHMM?
    private let mixture: GaussianMixture?
    private let center: [Double]
    private let scale: [Double]

    /// The observations of every row, `[ret20, log vol20]` (NaN in the warm-up).
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` when the features lack `ret20` or `vol20`.
    static func observations(_ features: ForecastFeatures) throws -> [[Double]] {
        guard let r = features.names.firstIndex(of: "ret20"), let v = features.names.firstIndex(of: "vol20") else {
            throw StrategiesError.invalidData(component: "ForecastRegimeModel", message: "the features lack ret20 or vol20")
        }
        return features.rows.map { [$0[r], Foundation.log(Swift.max($0[v], 1e-6))] }
    }

    /// Fits the model on `rows` of `features` with `configuration.seed`.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a bad setting;
    ///   ``StrategiesError/invalidData(component:message:)`` for fewer than `10·states` rows, a row outside
    ///   the series or a missing observation; Regimes' fitting errors.
    public init(fitting features: ForecastFeatures, rows: Range<Int>, configuration: RegimeFeatureConfiguration) throws {
        let component = "ForecastRegimeModel"
        try configuration.validate()
        guard rows.lowerBound >= 0, rows.upperBound <= features.count, rows.count >= 10 * configuration.states else {
            throw StrategiesError.invalidData(component: component, message: "rows \(rows) of \(features.count) cannot fit "
                                              + "\(configuration.states) states (at least \(10 * configuration.states) rows are needed)")
        }
        let observed = Array(try Self.observations(features)[rows])
        guard observed.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            throw StrategiesError.invalidData(component: component, message: "a regime observation is missing in rows \(rows)")
        }
        let n = Double(observed.count)
        let center = (0..<2).map { c in observed.reduce(0) { $0 + $1[c] } / n }
        scale = (0..<2).map { c in
            Swift.max((observed.reduce(0) { $0 + ($1[c] - center[c]) * ($1[c] - center[c]) } / (n - 1)).squareRoot(), 1e-12)
        }
        self.center = center
        self.configuration = configuration
        let data = try Self.standardized(observed, center: center, scale: scale)
        switch configuration.kind {
        case .hmm:
            hmm = try BaumWelch(states: configuration.states, restarts: configuration.restarts, covariancePrior: 1e-3,
                                ordering: .byMean(feature: 1)).fit(data, seed: configuration.seed).model
            mixture = nil
        case .gmm:
            mixture = try GaussianMixtureEstimator(components: configuration.states, regularization: 1e-3, restarts: configuration.restarts,
                                                   ordering: .byMean(feature: 1)).fit(data, seed: configuration.seed).model
            hmm = nil
        }
    }

    private static func standardized(_ observed: [[Double]], center: [Double], scale: [Double]) throws -> Matrix {
        try Matrix(rows: observed.count, columns: 2, elements: observed.flatMap { o in (0..<2).map { (o[$0] - center[$0]) / scale[$0] } })
    }

    /// Filtered state probabilities of every row of `features`, `[row][state]`: the HMM's forward filter
    /// run from the first complete row, NaN before it. Row `t` depends on rows up to `t` only.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for a missing observation after the
    ///   first complete row; Regimes' errors.
    public func filteredProbabilities(_ features: ForecastFeatures) throws -> [[Double]] {
        let observed = Array(try Self.observations(features)[features.firstCompleteRow...])
        guard observed.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            throw StrategiesError.invalidData(component: "ForecastRegimeModel", message: "a regime observation is missing after row \(features.firstCompleteRow)")
        }
        let data = try Self.standardized(observed, center: center, scale: scale)
        let p = try hmm.map { try $0.filteredProbabilities(data) } ?? mixture!.responsibilities(data)
        let warmUp = [[Double]](repeating: [Double](repeating: .nan, count: configuration.states), count: features.firstCompleteRow)
        return warmUp + (0..<p.rows).map { r in (0..<p.columns).map { p[r, $0] } }
    }
}

extension ForecastFeatures {
    /// The same features with `columns` (one value per period) appended under `extraNames`.
    init(_ base: ForecastFeatures, appending extraNames: [String], columns: [[Double]]) {
        configuration = base.configuration
        names = base.names + extraNames
        prices = base.prices
        dates = base.dates
        rows = base.rows.enumerated().map { t, row in row + columns.map { $0[t] } }
        firstCompleteRow = base.firstCompleteRow
        targets = base.targets
        slopeLabels = base.slopeLabels
    }

    /// These features with the filtered probabilities of a regime model fitted on `fitRows` only appended
    /// as columns `regime1 … regimeK` (calm first), or these features unchanged when `regimes` is `nil`.
    ///
    /// - Parameter seed: the fit's seed (replaces `regimes.seed`, so that each fold draws its own).
    /// - Throws: the errors of ``ForecastRegimeModel``.
    public func appendingRegimeProbabilities(_ regimes: RegimeFeatureConfiguration?, fittedOn fitRows: Range<Int>,
                                             seed: UInt64) throws -> ForecastFeatures {
        guard var settings = regimes else { return self }
        settings.seed = seed
        let p = try ForecastRegimeModel(fitting: self, rows: fitRows, configuration: settings).filteredProbabilities(self)
        return ForecastFeatures(self, appending: (1...settings.states).map { "regime\($0)" },
                                columns: (0..<settings.states).map { k in p.map { $0[k] } })
    }
}
