import Autodiff
import Foundation
import Signals

/// One stage of a ``ForecastFeaturePipeline``: fitted on training rows, then applied causally to any rows.
///
/// A stage maps a run of consecutive feature rows (oldest first) to rows of its own columns. The output
/// for input row `i` reads input rows `i − lookback … i` only, so no transformed row sees a later row.
/// The fitted state is `Codable`, so a fitted pipeline can be saved and loaded.
public protocol ForecastFeatureStage: Sendable, Codable {
    /// Earlier rows a transformed row reads besides its own (0 for a row-wise stage).
    var lookback: Int { get }
    /// The stage's output column names for input columns `columns`.
    func outputColumns(_ columns: [String]) -> [String]
    /// Fits on `rows` (training rows only, oldest first) named by `columns`; every random draw comes from `seed`.
    mutating func fit(_ rows: [[Double]], columns: [String], seed: UInt64) throws
    /// The transforms of input rows `lookback …` of `rows`: `rows.count − lookback` rows, oldest first.
    func transform(_ rows: [[Double]]) throws -> [[Double]]
}

/// Standardization with the training rows' mean and population deviation (Signals' `StandardScaler`);
/// a constant training column gets scale 1.
public struct StandardizationStage: ForecastFeatureStage, Hashable {
    /// Training means per column (empty before ``fit(_:columns:seed:)``).
    public private(set) var location: [Double] = []
    /// Training deviations per column (1 for a constant column).
    public private(set) var scale: [Double] = []

    /// An unfitted stage.
    public init() {}

    /// Row-wise.
    public var lookback: Int { 0 }

    /// The input columns.
    public func outputColumns(_ columns: [String]) -> [String] { columns }

    /// Fits the mean and deviation of every column.
    ///
    /// - Throws: Signals' errors for no rows, ragged rows or a non-finite value.
    public mutating func fit(_ rows: [[Double]], columns: [String], seed: UInt64) throws {
        let scaler = try StandardScaler(fitting: rows)
        (location, scale) = (scaler.location, scaler.scale)
    }

    /// `(x − location)/scale` per column, the arithmetic of Signals' `StandardScaler.transform`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` before fitting, for a row of another
    ///   width or a non-finite value.
    public func transform(_ rows: [[Double]]) throws -> [[Double]] {
        try checkRows(rows, width: location.count, component: "StandardizationStage")
        return rows.map { row in (0..<location.count).map { (row[$0] - location[$0]) / scale[$0] } }
    }
}

/// Clipping of every value to `[−bound, bound]`, so that one crash day cannot dominate a window.
public struct ClippingStage: ForecastFeatureStage, Hashable {
    /// The bound (8 standard deviations after standardization by default).
    public let bound: Double

    /// A stage clipping at `±bound`.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming `bound` unless it is finite and > 0.
    public init(bound: Double = 8) throws {
        try require(bound.isFinite && bound > 0, "ClippingStage", "bound", "must be finite and > 0, not \(bound)")
        self.bound = bound
    }

    /// A stage clipping at `±bound`, which the caller guarantees finite and > 0.
    init(checkedBound bound: Double) {
        self.bound = bound
    }

    /// Row-wise.
    public var lookback: Int { 0 }

    /// The input columns.
    public func outputColumns(_ columns: [String]) -> [String] { columns }

    /// Nothing to fit.
    public mutating func fit(_ rows: [[Double]], columns: [String], seed: UInt64) throws {}

    /// `min(bound, max(−bound, x))` per value.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a bad decoded bound.
    public func transform(_ rows: [[Double]]) throws -> [[Double]] {
        try require(bound.isFinite && bound > 0, "ClippingStage", "bound", "must be finite and > 0, not \(bound)")
        return rows.map { $0.map { Swift.min(bound, Swift.max(-bound, $0)) } }
    }
}

/// A stage of a ``ForecastFeaturePipeline``, one case per stage type (so that a pipeline encodes as plain JSON).
public enum ForecastPipelineStage: ForecastFeatureStage {
    /// Standardization on the training rows.
    case standardize(StandardizationStage)
    /// Clipping at `±bound`.
    case clip(ClippingStage)
    /// A U-Net denoising autoencoder per wavelet component.
    case denoise(WaveletDenoisingStage)
    /// Compression of each row to a variational autoencoder's latent mean.
    case compress(VariationalCompressionStage)

    /// The wrapped stage.
    public var stage: any ForecastFeatureStage {
        switch self {
        case let .standardize(stage): stage
        case let .clip(stage): stage
        case let .denoise(stage): stage
        case let .compress(stage): stage
        }
    }

    /// The wrapped stage's lookback.
    public var lookback: Int { stage.lookback }

    /// The wrapped stage's output columns.
    public func outputColumns(_ columns: [String]) -> [String] { stage.outputColumns(columns) }

    /// Fits the wrapped stage.
    ///
    /// - Throws: the wrapped stage's errors.
    public mutating func fit(_ rows: [[Double]], columns: [String], seed: UInt64) throws {
        switch self {
        case var .standardize(stage): try stage.fit(rows, columns: columns, seed: seed); self = .standardize(stage)
        case var .clip(stage): try stage.fit(rows, columns: columns, seed: seed); self = .clip(stage)
        case var .denoise(stage): try stage.fit(rows, columns: columns, seed: seed); self = .denoise(stage)
        case var .compress(stage): try stage.fit(rows, columns: columns, seed: seed); self = .compress(stage)
        }
    }

    /// Transforms with the wrapped stage.
    ///
    /// - Throws: the wrapped stage's errors.
    public func transform(_ rows: [[Double]]) throws -> [[Double]] { try stage.transform(rows) }

    /// A short name for tables and report headers.
    public var summary: String {
        switch self {
        case .standardize: "standardize"
        case let .clip(stage): "clip ±" + String(format: "%g", stage.bound)
        case let .denoise(stage): "unet-denoise(length \(stage.configuration.length))"
        case let .compress(stage): "vae(latent \(stage.configuration.latentSize))"
        }
    }
}

/// Feature stages applied in order to a ``ForecastFeatures`` series: fitted on the training rows of a
/// fold, then turned into the `[n, window, features]` windows the forecasters read.
///
/// ``standard`` (standardize, then clip at ±8) reproduces ``ForecastFeatures/windows(at:scaler:)`` bit
/// for bit. Stages with a lookback need that many complete rows before a window's first row, which moves
/// ``firstOrigin(of:)`` later. A fitted pipeline is `Codable`: ``jsonData()`` and ``init(jsonData:)``
/// save and load it, its network weights as safetensors inside the JSON.
public struct ForecastFeaturePipeline: Sendable, Codable {
    /// The stages, applied in order.
    public private(set) var stages: [ForecastPipelineStage]
    /// The feature columns the pipeline was fitted on (empty before ``fit(_:rows:seed:)``).
    public private(set) var fittedColumns: [String] = []

    /// A pipeline of `stages` (unfitted).
    public init(stages: [ForecastPipelineStage]) {
        self.stages = stages
    }

    /// Standardize and clip at ±8: the pipeline of ``ForecastFeatures/windows(at:scaler:)``.
    public static var standard: ForecastFeaturePipeline {
        ForecastFeaturePipeline(stages: [.standardize(StandardizationStage()), .clip(ClippingStage(checkedBound: 8))])
    }

    /// ``standard``, then optionally a U-Net denoiser of the wavelet components, then optionally a VAE compression.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming a bad setting.
    public static func standard(denoiser: WaveletDenoiserConfiguration? = nil,
                                compression: VariationalCompressionConfiguration? = nil) throws -> ForecastFeaturePipeline {
        var stages = standard.stages
        if let denoiser { stages.append(.denoise(try WaveletDenoisingStage(denoiser))) }
        if let compression { stages.append(.compress(try VariationalCompressionStage(compression))) }
        return ForecastFeaturePipeline(stages: stages)
    }

    /// Rows before a window's first row that the stages read.
    public var lookback: Int { stages.reduce(0) { $0 + $1.lookback } }

    /// The stages' short names joined, for report headers.
    public var summary: String { stages.map(\.summary).joined(separator: ", ") }

    /// The output column names for input columns `columns`.
    public func outputColumns(_ columns: [String]) -> [String] {
        stages.reduce(columns) { $1.outputColumns($0) }
    }

    /// The first origin whose window (and the rows the stages read before it) is complete.
    public func firstOrigin(of features: ForecastFeatures) -> Int { features.firstOrigin + lookback }

    /// Fits every stage in order on the rows `rows` of `features` (training rows only) and the ``lookback``
    /// rows before them; each stage is fitted on the previous stages' output and draws from its own seed
    /// derived from `seed`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` when the rows (with the lookback) are not
    ///   all complete or leave the series, and the stages' errors.
    public mutating func fit(_ features: ForecastFeatures, rows: Range<Int>, seed: UInt64) throws {
        let first = rows.lowerBound - lookback
        guard !rows.isEmpty, first >= features.firstCompleteRow, rows.upperBound <= features.count else {
            throw StrategiesError.invalidData(component: "ForecastFeaturePipeline", message: """
                fit rows \(rows) with a lookback of \(lookback) need complete rows \(features.firstCompleteRow)..<\(features.count)
                """)
        }
        var current = Array(features.rows[first..<rows.upperBound]), columns = features.names
        for index in stages.indices {
            try stages[index].fit(current, columns: columns, seed: mixSeed(seed, index))
            current = try stages[index].transform(current)
            columns = stages[index].outputColumns(columns)
        }
        fittedColumns = features.names
    }

    /// The transformed rows `rows` of `features` (each reading only rows up to itself).
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` before fitting, for features with other
    ///   columns than the fitted ones, or rows (with the lookback) outside the complete rows; the stages' errors.
    public func transform(_ features: ForecastFeatures, rows: ClosedRange<Int>) throws -> [[Double]] {
        let component = "ForecastFeaturePipeline"
        guard !fittedColumns.isEmpty else { throw StrategiesError.invalidData(component: component, message: "transform called before fit") }
        guard features.names == fittedColumns else {
            throw StrategiesError.invalidData(component: component, message: "features \(features.names) are not the fitted columns \(fittedColumns)")
        }
        let first = rows.lowerBound - lookback
        guard first >= features.firstCompleteRow, rows.upperBound < features.count else {
            throw StrategiesError.invalidData(component: component, message: """
                rows \(rows) with a lookback of \(lookback) need complete rows \(features.firstCompleteRow)..<\(features.count)
                """)
        }
        return try stages.reduce(Array(features.rows[first...rows.upperBound])) { try $1.transform($0) }
    }

    /// `[origins.count, window, columns]`: for each origin `t`, the transformed rows `t − window + 1 … t`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for no origin or one before
    ///   ``firstOrigin(of:)`` or past the end, and the errors of ``transform(_:rows:)``.
    public func windows(_ features: ForecastFeatures, at origins: [Int]) throws -> Tensor<Double> {
        let window = features.configuration.window, firstOrigin = firstOrigin(of: features)
        if let bad = origins.first(where: { $0 < firstOrigin || $0 >= features.count }) {
            throw StrategiesError.invalidData(component: "ForecastFeaturePipeline", message: "origin \(bad) outside \(firstOrigin)..<\(features.count)")
        }
        guard let low = origins.min(), let high = origins.max() else {
            throw StrategiesError.invalidData(component: "ForecastFeaturePipeline", message: "no origins")
        }
        let start = low - window + 1
        let transformed = try transform(features, rows: start...high)
        let width = transformed.first?.count ?? 0
        var scalars: [Double] = []
        scalars.reserveCapacity(origins.count * window * width)
        for t in origins {
            for row in transformed[(t - window + 1 - start)...(t - start)] { scalars += row }
        }
        return try Tensor(shape: [origins.count, window, width], scalars: scalars)
    }

    /// The pipeline (stages and fitted state) as JSON with sorted keys.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` when a value cannot be encoded.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return try encoder.encode(self) } catch {
            throw StrategiesError.invalidData(component: "ForecastFeaturePipeline", message: "cannot be encoded: \(error)")
        }
    }

    /// A pipeline decoded from ``jsonData()``.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for malformed JSON or network weights.
    public init(jsonData: Data) throws {
        do { self = try JSONDecoder().decode(ForecastFeaturePipeline.self, from: jsonData) } catch {
            throw StrategiesError.invalidData(component: "ForecastFeaturePipeline", message: "cannot be decoded: \(error)")
        }
    }
}

/// Throws unless the stage is fitted (`width > 0`) and every row has `width` finite values.
func checkRows(_ rows: [[Double]], width: Int, component: String) throws {
    guard width > 0 else { throw StrategiesError.invalidData(component: component, message: "transform called before fit") }
    if let bad = rows.firstIndex(where: { $0.count != width }) {
        throw StrategiesError.invalidData(component: component, message: "row \(bad) has \(rows[bad].count) values, fitted on \(width)")
    }
    if let bad = rows.firstIndex(where: { !$0.allSatisfy(\.isFinite) }) {
        throw StrategiesError.invalidData(component: component, message: "row \(bad) is not finite")
    }
}
