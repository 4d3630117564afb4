/// The report's colours: saturated solid lines for strategies, muted dashed lines
/// for benchmarks, and evenly spread hues for the assets of a stacked-weights chart.
package enum ReportPalette {
    /// Strategy line colours, in legend order (repeated when there are more strategies).
    package static let strategies = ["#1f5fbf", "#d1495b", "#2a9d8f", "#8e5cc7", "#e0892b",
                             "#c2457a", "#5b8c3a", "#4a5bd4", "#a0522d", "#138a9e"]
    /// Benchmark line colours.
    package static let benchmarks = ["#3d4451", "#8a8f98", "#a07c4f", "#5e7d8f"]
    /// Benchmark dash patterns (user units), combined with the colours above.
    package static let benchmarkDashes = ["7 4", "2 3", "9 3 2 3", "4 4", "1 2"]

    /// The line style of the `index`-th series of `role`.
    static func lineStyle(role: ReportSeries.Role, index: Int) -> LineStyle {
        switch role {
        case .strategy:
            return LineStyle(color: strategies[index % strategies.count], dash: nil)
        case .benchmark:
            return LineStyle(color: benchmarks[index % benchmarks.count],
                             dash: benchmarkDashes[index % benchmarkDashes.count])
        }
    }

    /// The fill of asset `index`: hues a golden angle (≈137.5°) apart so neighbours differ
    /// strongly for any asset count, lightness alternating for extra contrast.
    static func assetColor(_ index: Int) -> String {
        let hue = (Double(index) * 137.508 + 210).truncatingRemainder(dividingBy: 360)
        let lightness = index % 2 == 0 ? 48 : 66
        let saturation = index % 3 == 2 ? 45 : 62
        return "hsl(\(Int(hue.rounded())),\(saturation)%,\(lightness)%)"
    }
}
