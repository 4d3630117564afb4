import Foundation
import Market

/// How the values of a y-axis are labelled.
package enum ValueStyle {
    /// Growth of one unit: `1.5×`.
    case growth
    /// Fractions as percentages: `−20%`.
    case percent
    /// Plain numbers: `0.5`.
    case number
}

/// A labelled tick: its position in data units and its text.
package struct Tick {
    package let value: Double
    package let label: String
}

/// A y-axis: domain, scale and ticks.
package struct ValueAxis {
    package let lower: Double
    package let upper: Double
    package let isLog: Bool
    package let ticks: [Tick]

    /// Maps `value` into `[bottom, top]` pixels (SVG y grows downwards).
    package func position(_ value: Double, top: Double, bottom: Double) -> Double {
        let (a, b, v) = isLog ? (log10(lower), log10(upper), log10(value)) : (lower, upper, value)
        let fraction = (v - a) / (b - a)
        return bottom - Swift.min(1, Swift.max(0, fraction)) * (bottom - top)
    }

    /// A linear axis covering `[minimum, maximum]` with about `target` ticks at 1-2-5 steps,
    /// the domain widened to the outer ticks so lines never touch the frame unlabelled.
    package static func linear(minimum: Double, maximum: Double, style: ValueStyle, target: Int = 6,
                       includeZero: Bool = false) -> ValueAxis {
        // Clamped so the span, the step and every tick stay finite (values beyond sit on the frame).
        let bound = 1e306
        var low = Swift.min(Swift.max(includeZero ? Swift.min(0, minimum) : minimum, -bound), bound)
        var high = Swift.min(Swift.max(includeZero ? Swift.max(0, maximum) : maximum, -bound), bound)
        if low.isNaN || high.isNaN { (low, high) = (0, 1) }
        if !(high > low) {
            let pad = Swift.max(Swift.abs(low) * 0.05, 1e-3)
            (low, high) = (low - pad, high + pad)
        }
        let step = niceStep((high - low) / Double(target))
        // The tolerance keeps rounding noise (a weight sum of 1 + 1e-15) from adding a tick.
        let first = (low / step + 1e-9).rounded(.down), last = (high / step - 1e-9).rounded(.up)
        let lower = first * step, upper = last * step
        // About `target` ticks; a bound, whatever rounding does to the step at the ends of `Double`.
        guard step > 0, first.isFinite, last.isFinite, last - first <= Double(Swift.max(target, 1) * 4) else {
            return ValueAxis(lower: low, upper: high, isLog: false,
                             ticks: [low, high].map { Tick(value: $0, label: label($0, step: high - low, style: style)) })
        }
        let ticks = stride(from: first, through: last, by: 1).map { k -> Tick in
            let value = k * step
            return Tick(value: value, label: label(value, step: step, style: style))
        }
        return ValueAxis(lower: lower, upper: upper, isLog: false, ticks: ticks)
    }

    /// A base-10 log axis over positive `[minimum, maximum]`: ticks at 1-2-5 multiples of powers
    /// of ten (every `k`-th decade for wide ranges), or linear 1-2-5 ticks when the range spans
    /// less than about a factor of three.
    package static func log(minimum: Double, maximum: Double, style: ValueStyle, target: Int = 7) -> ValueAxis {
        let logLow = log10(minimum), logHigh = log10(maximum)
        guard logLow.isFinite, logHigh.isFinite, logHigh >= logLow else {
            return linear(minimum: minimum, maximum: maximum, style: style)
        }
        let pad = Swift.max((logHigh - logLow) * 0.04, 0.01)
        // The padded ends stay inside the normal doubles, so every power of ten below is finite
        // and non-zero (an equity curve can reach 1e300 or 1e-311).
        // A curve wholly below 1e-307 would put the clamped low end above the high one (found by
        // fuzzing: an empty decade range traps), so the high end is kept at or above the low end.
        let lowExponent = Swift.max(logLow - pad, -307), highExponent = Swift.max(Swift.min(logHigh + pad, 308), lowExponent)
        let lower = Swift.min(pow(10, lowExponent), minimum), upper = Swift.max(pow(10, highExponent), maximum)
        var candidates: [Double] = []
        let decades = Int(lowExponent.rounded(.down))...Int(highExponent.rounded(.up))
        for mantissas in [[1.0, 2, 5], [1.0, 3], [1.0]] {
            candidates = decades.flatMap { exponent in mantissas.map { $0 * pow(10, Double(exponent)) } }
                .filter { $0 >= lower && $0 <= upper }
            if candidates.count <= target { break }
        }
        if candidates.count > target {
            let stepDecades = Int((Double(candidates.count) / Double(target)).rounded(.up))
            candidates = candidates.filter { Int(log10($0).rounded()) % stepDecades == 0 }
        }
        if candidates.count < 3 {
            let linearTicks = ValueAxis.linear(minimum: lower, maximum: upper, style: style, target: 5).ticks
            return ValueAxis(lower: lower, upper: upper, isLog: true,
                             ticks: linearTicks.filter { $0.value >= lower && $0.value <= upper && $0.value > 0 })
        }
        return ValueAxis(lower: lower, upper: upper, isLog: true, ticks: candidates.map {
            Tick(value: $0, label: label($0, step: $0, style: style))
        })
    }

    /// The 1-2-5 number nearest above `raw` (`0.037` → `0.05`).
    package static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        // Below 1e-308 the power of ten is subnormal or zero, and a zero step made the tick loop
        // of `linear` endless (found by fuzzing: an axis over [0, 2e-323]); the raw step serves.
        guard magnitude >= Double.leastNormalMagnitude else { return raw }
        let normalized = raw / magnitude * (1 - 1e-9)
        let nice: Double = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// The text of a tick at `value` on an axis with spacing `step`.
    package static func label(_ value: Double, step: Double, style: ValueStyle) -> String {
        let scaled = style == .percent ? 100 * value : value
        let scaledStep = style == .percent ? 100 * step : step
        let exponent = -log10(scaledStep) + 0.999
        let digits = exponent.isFinite ? Swift.max(0, Int(Swift.min(exponent, 20).rounded(.down))) : 0
        let text = ReportFormat.fixed(Swift.abs(scaled) < scaledStep * 1e-9 ? 0 : scaled, digits: Swift.min(digits, 6))
        switch style {
        case .growth: return text + "×"
        case .percent: return text + "%"
        case .number: return text
        }
    }
}

/// The shared time axis of a report: a day range and date ticks.
package struct DateAxis {
    let firstDay: Int
    let lastDay: Int
    let ticks: [(day: Int, label: String)]

    /// Maps a date to `[left, right]` pixels.
    func position(_ day: Int, left: Double, right: Double) -> Double {
        left + Double(day - firstDay) / Double(Swift.max(1, lastDay - firstDay)) * (right - left)
    }

    /// An axis over `[first, last]` with at most about `target` ticks: at years (1, 2, 5, 10, …
    /// apart) for spans of three years or more, at month starts (1, 2, 3, 6 months apart) down
    /// to two months, otherwise at days (1, 2, 7, 14 apart).
    package init(first: MarketDate, last: MarketDate, target: Int = 9) {
        firstDay = first.daysSinceEpoch
        lastDay = last.daysSinceEpoch
        let spanDays = lastDay - firstDay
        var ticks: [(Int, String)] = []
        if spanDays >= 3 * 365 {
            let years = Double(spanDays) / 365.25
            let step = [1, 2, 5, 10, 20, 50, 100, 200, 500].first { years / Double($0) <= Double(target) } ?? 1000
            var year = first.year + 1
            year += (step - year % step) % step
            while let date = try? MarketDate(year: year, month: 1, day: 1), date <= last {
                ticks.append((date.daysSinceEpoch, String(year)))
                year += step
            }
        } else if spanDays >= 60 {
            let months = Double(spanDays) / 30.44
            let step = [1, 2, 3, 6, 12].first { months / Double($0) <= Double(target) } ?? 12
            var monthIndex = first.year * 12 + first.month  // the month after `first`'s month, 0-based
            monthIndex += (step - monthIndex % step) % step
            while let date = try? MarketDate(year: monthIndex / 12, month: monthIndex % 12 + 1, day: 1), date <= last {
                ticks.append((date.daysSinceEpoch, ReportFormat.monthYear(date)))
                monthIndex += step
            }
        } else {
            let step = [1, 2, 7, 14, 30].first { Double(spanDays) / Double($0) <= Double(target) } ?? 30
            for day in stride(from: firstDay, through: lastDay, by: step) {
                ticks.append((day, ReportFormat.monthDay(MarketDate(daysSinceEpoch: day))))
            }
        }
        self.ticks = ticks
    }
}
