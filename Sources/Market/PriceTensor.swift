import Linalg

/// The normalized price tensor of Jiang, Xu & Liang (2017), "A deep reinforcement
/// learning framework for the financial portfolio management problem" (arXiv:1706.10059), §3.2.
///
/// For a decision at time step `t`, a window of the last `window` rows
/// `t−window+1 … t`, and features `f` (close, high, low by default):
/// `values[f, w, a] = field_f[t−window+1+w, a] / close[t, a]`, so the last
/// close of every asset is exactly 1 and the network sees relative prices only.
///
/// Layout: `features × window × assets`, row-major
/// (`values[(f · window + w) · assetCount + a]`). ``mask`` is `window × assets`
/// from the panel's availability; ``tradable`` is its last row. Run the panel
/// through ``PricePanel/flatFilledBeforeListing()`` first so assets listed later
/// have flat (finite) pre-listing prices while staying untradable.
public struct PriceTensor: Sendable, Hashable {
    /// The fields, in order (first axis).
    public let features: [PriceField]
    /// Rows in the window (second axis).
    public let window: Int
    /// Asset names (third axis).
    public let assets: [String]
    /// The position in the panel of the window's last row (the decision time).
    public let time: Int
    /// Its label.
    public let label: TimeLabel
    /// Normalized values, row-major `features × window × assets`.
    public let values: [Double]
    /// Availability over the window, `window × assets`.
    public let mask: AvailabilityMask

    /// Number of assets.
    public var assetCount: Int { assets.count }

    /// The value of feature `f`, window row `w`, asset `a`.
    public subscript(feature f: Int, step w: Int, asset a: Int) -> Double {
        values[(f * window + w) * assets.count + a]
    }

    /// Whether each asset can be traded at the decision time (the mask's last row).
    public var tradable: [Bool] { (0..<assets.count).map { mask[window - 1, $0] } }
}

extension PricePanel {
    /// The price tensor for the window ending at row `time`; see ``PriceTensor``.
    ///
    /// - Throws: ``MarketError/notPrices(operation:)`` for a series panel;
    ///   ``MarketError/invalidArgument(operation:message:)`` for an empty feature list, a volume
    ///   feature, a window below 1 or a `time` without a full window;
    ///   ``MarketError/missingField(operation:field:)`` for a field the panel lacks;
    ///   ``MarketError/invalidValue(field:asset:time:value:reason:)`` for a missing value inside the window
    ///   (flat-fill the panel first). Complexity: O(features × window × assets).
    public func priceTensor(at time: Int, window: Int, features: [PriceField] = [.close, .high, .low]) throws -> PriceTensor {
        let operation = "PricePanel.priceTensor"
        guard kind == .prices else { throw MarketError.notPrices(operation: operation) }
        guard !features.isEmpty, !features.contains(.volume) else {
            throw MarketError.invalidArgument(operation: operation, message: "features must be non-empty price fields")
        }
        guard window >= 1, time >= window - 1, time < timeCount else {
            throw MarketError.invalidArgument(operation: operation,
                                              message: "window \(window) ending at row \(time) does not fit \(timeCount) rows")
        }
        let matrices = try features.map { field -> Matrix in
            guard let m = fields[field] else { throw MarketError.missingField(operation: operation, field: field) }
            return m
        }
        let n = assetCount, first = time - window + 1
        let latest = close.row(time)
        for a in 0..<n where latest[a].isNaN {
            throw MarketError.invalidValue(field: .close, asset: assets[a], time: index.label(at: time), value: .nan,
                                           reason: "no close to normalize by; flat-fill the panel first")
        }
        var values = [Double](repeating: 0, count: features.count * window * n)
        for (f, matrix) in matrices.enumerated() {
            for w in 0..<window {
                for a in 0..<n {
                    let value = matrix[first + w, a]
                    guard !value.isNaN else {
                        throw MarketError.invalidValue(field: features[f], asset: assets[a], time: index.label(at: first + w),
                                                       value: value, reason: "missing inside the window; flat-fill the panel first")
                    }
                    values[(f * window + w) * n + a] = value / latest[a]
                }
            }
        }
        return PriceTensor(features: features, window: window, assets: assets, time: time, label: index.label(at: time),
                           values: values, mask: mask.rows(first..<(time + 1)))
    }

    /// Every price tensor of the panel in time order: windows ending at rows
    /// `window−1, window−1+stride, …, timeCount−1` (lazily computed).
    ///
    /// - Throws: the argument errors of ``priceTensor(at:window:features:)`` up front (stride < 1 too);
    ///   value errors surface when the offending window is reached.
    public func priceTensors(window: Int, stride: Int = 1,
                             features: [PriceField] = [.close, .high, .low]) throws -> PriceTensorWindows {
        guard stride >= 1 else {
            throw MarketError.invalidArgument(operation: "PricePanel.priceTensors", message: "stride \(stride) must be ≥ 1")
        }
        guard window >= 1, window <= timeCount else {
            throw MarketError.invalidArgument(operation: "PricePanel.priceTensors",
                                              message: "window \(window) does not fit \(timeCount) rows")
        }
        guard kind == .prices else { throw MarketError.notPrices(operation: "PricePanel.priceTensors") }
        for field in features where fields[field] == nil || field == .volume {
            throw MarketError.missingField(operation: "PricePanel.priceTensors", field: field)
        }
        return PriceTensorWindows(panel: self, window: window, stride: stride, features: features)
    }
}

/// A sliding-window sequence of ``PriceTensor``s over a panel; see ``PricePanel/priceTensors(window:stride:features:)``.
public struct PriceTensorWindows: Sequence, Sendable {
    /// The source panel.
    public let panel: PricePanel
    /// Rows per window.
    public let window: Int
    /// Rows between consecutive decision times.
    public let stride: Int
    /// The features.
    public let features: [PriceField]

    /// The decision times (window end rows).
    public var times: StrideTo<Int> { Swift.stride(from: window - 1, to: panel.timeCount, by: stride) }

    /// The number of windows.
    public var count: Int { times.underestimatedCount }

    /// An iterator yielding `Result`s so a bad window is reported, not swallowed.
    public struct Iterator: IteratorProtocol {
        var times: StrideToIterator<Int>
        let windows: PriceTensorWindows

        /// The next tensor, or the error its window raised.
        public mutating func next() -> Result<PriceTensor, MarketError>? {
            guard let t = times.next() else { return nil }
            do {
                return .success(try windows.panel.priceTensor(at: t, window: windows.window, features: windows.features))
            } catch let error as MarketError {
                return .failure(error)
            } catch {
                return .failure(.invalidArgument(operation: "PriceTensorWindows", message: "\(error)"))
            }
        }
    }

    /// An iterator over the windows.
    public func makeIterator() -> Iterator { Iterator(times: times.makeIterator(), windows: self) }
}
