import Autodiff
import Market

/// The price history an EIIE agent learns from: the chosen fields of every bar, checked once, with
/// the batch builders that turn windows of it into network inputs.
///
/// Bars are appended as the backtest reveals them (online learning), never read ahead. Every price
/// must be finite and positive: the network's input divides by the latest close and the reward takes
/// logarithms of price relatives, so a gap cannot be skipped silently. Restrict the panel to the bars
/// where every asset trades (or pre-select assets that do) before building a market.
public struct EIIEMarket: Sendable {
    /// Asset names, in panel order.
    public let assets: [String]
    /// The fields per bar, in the network's feature order (`F` of the price tensor).
    public let features: [PriceField]
    /// Labels of the bars held.
    public private(set) var labels: [TimeLabel] = []
    /// Per feature, row-major `bars × assets`.
    private var values: [[Double]]
    /// Closes, row-major `bars × assets` (the normalizer and the relatives).
    private var closes: [Double] = []

    /// Number of assets `m`.
    public var assetCount: Int { assets.count }
    /// Bars held.
    public var barCount: Int { labels.count }

    /// A market from every bar of `panel`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for fewer than two assets (the
    ///   policy chooses between assets; with one there is nothing to learn beyond cash), no features,
    ///   a volume feature, a field the panel lacks, or a price that is missing, non-finite or not
    ///   positive (naming the field, asset and bar).
    public init(panel: PricePanel, features: [PriceField] = [.close, .high, .low]) throws {
        let component = "EIIEMarket"
        guard panel.assetCount >= 2 else {
            throw StrategiesError.invalidData(component: component,
                                              message: "\(panel.assetCount) asset(s); the EIIE agent needs at least 2 to allocate between")
        }
        guard !features.isEmpty, !features.contains(.volume), Set(features).count == features.count else {
            throw StrategiesError.invalidData(component: component,
                                              message: "features \(features.map(\.rawValue)) must be distinct price fields, at least one")
        }
        assets = panel.assets
        self.features = features
        values = Array(repeating: [], count: features.count)
        try append(panel)
    }

    /// Appends the bars of `panel` (same assets and fields), after checking every value.
    ///
    /// - Throws: as ``init(panel:features:)``; an asset list that differs. Nothing is appended then.
    public mutating func append(_ panel: PricePanel) throws {
        let component = "EIIEMarket"
        guard panel.assets == assets else {
            throw StrategiesError.invalidData(component: component, message: "the panel's assets \(panel.assets) differ from \(assets)")
        }
        let blocks = try features.map { try checkedValues(of: $0, in: panel) }
        let closeElements = try checkedValues(of: .close, in: panel)
        for f in features.indices { values[f] += blocks[f] }
        closes += closeElements
        labels += panel.index.allLabels
    }

    /// The values of `field`, row-major, after checking that each is finite and positive.
    private func checkedValues(of field: PriceField, in panel: PricePanel) throws -> [Double] {
        guard let matrix = panel.field(field) else {
            throw StrategiesError.invalidData(component: "EIIEMarket", message: "the panel has no \(field.rawValue) prices")
        }
        let elements = matrix.elements
        if let bad = elements.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            let (bar, asset) = bad.quotientAndRemainder(dividingBy: assetCount)
            throw StrategiesError.invalidData(
                component: "EIIEMarket",
                message: "\(field.rawValue) of \(assets[asset]) at \(panel.index.label(at: bar)) is \(elements[bad]); prices must be finite and > 0")
        }
        return elements
    }

    /// The close of `asset` at `bar`.
    public func close(bar: Int, asset: Int) -> Double { closes[bar * assetCount + asset] }

    /// `[batch, F, window, m]`: for each decision bar `t` of `times`, every feature over the window
    /// `t − window + 1 … t` divided by the asset's close at `t` (§3.2 of the paper; Market's
    /// `PriceTensor` layout with a batch axis in front).
    /// - Precondition: every `t` has a full window inside the market.
    // Specialized for the two tensor scalars: called from generic code in other modules, the
    // unspecialized copy converted and stored every element through the generic witnesses.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func priceTensor<Scalar: TensorScalar>(times: [Int], window: Int, as _: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        let (m, f) = (assetCount, features.count)
        let perRow = f * window * m
        for t in times {
            precondition(t >= window - 1 && t < barCount, "EIIEMarket: no full window of \(window) bars ends at bar \(t)")
        }
        let storage = TensorStorage<Scalar>(unsafeUninitializedCapacity: times.count * perRow) { buffer, initialized in
            closes.withUnsafeBufferPointer { closes in
                for k in 0..<f {
                    values[k].withUnsafeBufferPointer { feature in
                        for (b, t) in times.enumerated() {
                            let first = t - window + 1, latest = t * m
                            for w in 0..<window {
                                let source = (first + w) * m, target = b * perRow + (k * window + w) * m
                                for a in 0..<m { buffer[target + a] = Scalar(feature[source + a] / closes[latest + a]) }
                            }
                        }
                    }
                }
            }
            initialized = times.count * perRow
        }
        return try! Tensor(shape: [times.count, f, window, m], storage: storage)
    }

    /// `[batch, 1 + m]`, cash first: the price relatives `yₜ = closeₜ / closeₜ₋₁` of the period
    /// ending at each bar of `times` (1 for cash).
    /// - Precondition: `1 ≤ t < barCount` for every `t`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func priceRelatives<Scalar: TensorScalar>(times: [Int], as _: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        let m = assetCount
        let storage = TensorStorage<Scalar>(unsafeUninitializedCapacity: times.count * (m + 1)) { buffer, initialized in
            for (b, t) in times.enumerated() {
                precondition(t >= 1 && t < barCount, "EIIEMarket: no price relative ends at bar \(t)")
                buffer[b * (m + 1)] = 1
                for a in 0..<m { buffer[b * (m + 1) + 1 + a] = Scalar(closes[t * m + a] / closes[(t - 1) * m + a]) }
            }
            initialized = times.count * (m + 1)
        }
        return try! Tensor(shape: [times.count, m + 1], storage: storage)
    }
}
