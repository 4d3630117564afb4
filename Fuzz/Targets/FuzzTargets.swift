import Backtest
import Foundation
import Market
import MetaFolio
import NN

/// The fuzz targets. Each reads arbitrary bytes and must return without trapping or hanging:
/// a typed error is a normal outcome and is caught here. libFuzzer drives them through the
/// executables in `Fuzz/Entries` (built by `Fuzz/fuzz.sh`); the test suite replays the committed
/// corpora in `Fuzz/corpus` through the same functions.
package enum FuzzTargets {
    /// Target names (the corpus folders) and their functions.
    package static let all: [(name: String, run: @Sendable ([UInt8]) -> Void)] = [
        ("csv", csv), ("safetensors", safetensors), ("config", config), ("report-format", reportFormat),
    ]

    /// `PanelCSVReader` and `CryptoDataDownloadReader` on the bytes after the first; the first
    /// byte picks the reader's layout, date column, kind, delimiter and date format.
    package static func csv(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        let layouts: [PanelCSVReader.Layout] = [.wide, .long(assetColumn: nil), .ohlcv(asset: "X"), .long(assetColumn: "asset")]
        let layout = layouts[Int(first & 3)]
        let dateColumn: PanelCSVReader.DateColumn = first & 4 == 0 ? .first : (layout == .wide ? .none : .named("date"))
        let dateFormat: DateFormat? = first & 32 == 0 ? nil : DateFormat.allCases[Int(first >> 6) % DateFormat.allCases.count]
        let reader = PanelCSVReader(layout: layout, dateColumn: dateColumn, dateFormat: dateFormat,
                                    kind: first & 8 == 0 ? .prices : .series,
                                    delimiter: first & 16 == 0 ? UInt8(ascii: ",") : UInt8(ascii: ";"))
        if let panel = try? reader.read(bytes: body, name: "fuzz.csv") {
            // Touch what the reader built: every label and value.
            var sum = 0.0
            for t in 0..<panel.timeCount {
                _ = panel.index.label(at: t).description
                for a in 0..<panel.assetCount { let v = panel.close[t, a]; if v.isFinite { sum += v } }
            }
            blackHole(sum)
        }
        if first & 64 != 0 {
            let order: CryptoDataDownloadReader.OutOfOrderRows = first & 128 == 0 ? .reject : .skip
            _ = try? CryptoDataDownloadReader(outOfOrderRows: order).read(text: String(decoding: body, as: UTF8.self), name: "fuzz.csv")
        }
    }

    /// `SafeTensorsFile(bytes:)`, then every record's values and tensor, then loading into a
    /// small layer (lenient, converting widths) and writing it back.
    package static func safetensors(_ bytes: [UInt8]) {
        guard let file = try? SafeTensorsFile(bytes: bytes) else { return }
        var sum = 0.0
        for record in file.records.prefix(16) where record.byteRange.count <= 1 << 16 {
            sum += file.values(of: record, as: Double.self).reduce(0, +)
            _ = try? file.tensor(named: record.name, as: Float.self)
        }
        blackHole(sum)
        if var layer = try? Linear<Double>(weight: Tensor(shape: [2, 3], scalars: Array(repeating: 0, count: 6)),
                                           bias: Tensor(shape: [2], scalars: [0, 0])) {
            if (try? layer.load(file, strict: false, allowingConversion: true)) != nil {
                blackHole(Double(layer.safetensorsBytes(dtype: .float32).count))
            }
        }
    }

    /// The `metafolio backtest --config` parser on the bytes as a file's content.
    package static func config(_ bytes: [UInt8]) {
        _ = try? BacktestConfigFile.parse(Data(bytes), path: "fuzz.json")
        _ = JSONObjectKeys.topLevel(Data(bytes))
    }

    /// The report's number and text formatting: fixed-point numbers, SVG coordinates, escaping
    /// and the value axes (linear and log, each label style), on doubles read from the bytes'
    /// bit patterns and on the bytes as text.
    package static func reportFormat(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let control = bytes[0], digits = Int(Int8(bitPattern: bytes[1]))
        var values: [Double] = []
        var i = 2
        while i + 8 <= bytes.count, values.count < 8 {
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            values.append(Double(bitPattern: bits))
            i += 8
        }
        var texts: [String] = [ReportFormat.escaped(String(decoding: bytes[i...], as: UTF8.self))]
        for value in values {
            texts.append(ReportFormat.fixed(value, digits: digits))
            texts.append(ReportFormat.coordinate(value))
        }
        let styles: [ValueStyle] = [.growth, .percent, .number]
        let style = styles[Int(control % 3)]
        let a = values.first ?? 0, b = values.dropFirst().first ?? 1
        let target = Int(control >> 2) % 12 + 1
        for axis in [ValueAxis.linear(minimum: a, maximum: b, style: style, target: target, includeZero: control & 128 != 0),
                     ValueAxis.log(minimum: a, maximum: b, style: style, target: target)] {
            texts += axis.ticks.map(\.label)
            for value in values { blackHole(axis.position(value, top: 10, bottom: 300)) }
        }
        if values.count >= 3 { texts.append(ValueAxis.label(values[2], step: values.count >= 4 ? values[3] : 1, style: style)) }
        blackHole(Double(texts.reduce(0) { $0 + $1.utf8.count }))
    }

    /// Keeps a result alive so the optimizer cannot drop the work that made it.
    @inline(never)
    static func blackHole(_ value: Double) {
        if value == 0x1p-1070 { print("", terminator: "") }
    }
}
