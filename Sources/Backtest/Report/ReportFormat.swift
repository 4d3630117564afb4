import Foundation
import Market

/// Text formatting and escaping shared by the HTML and SVG writers.
package enum ReportFormat {
    /// `value` with `digits` decimals and a typographic minus; `∞`, `−∞` or `n/a` when not finite.
    package static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "n/a" : (value > 0 ? "∞" : "−∞") }
        let text = String(format: "%.\(Swift.max(0, Swift.min(digits, 12)))f", value)
        guard text.hasPrefix("-") else { return text }
        // Rounding can leave "-0.00": show it without a sign.
        if text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(text.dropFirst()) }
        return "−" + text.dropFirst()
    }

    /// A coordinate rounded to 0.1 user units (a tenth of a pixel at 1:1 scale), written compactly.
    package static func coordinate(_ value: Double) -> String {
        // Clamped: a NaN or huge coordinate must not trap the Int conversion.
        let tenths = value.isNaN ? 0 : Int((Swift.min(Swift.max(value, -1e12), 1e12) * 10).rounded())
        let whole = tenths / 10, fraction = Swift.abs(tenths % 10)
        let sign = tenths < 0 && whole == 0 ? "-" : ""
        return fraction == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// `text` safe inside XML/HTML text and double- or single-quoted attributes: `& < > " '`
    /// become character references, and characters XML 1.0 forbids (C0 controls other than
    /// tab, newline and carriage return, U+FFFE, U+FFFF) become U+FFFD.
    package static func escaped(_ text: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                result += "\u{FFFD}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Mar 2021`.
    static func monthYear(_ date: MarketDate) -> String { "\(monthNames[date.month - 1]) \(date.year)" }

    /// `Mar 5`.
    static func monthDay(_ date: MarketDate) -> String { "\(monthNames[date.month - 1]) \(date.day)" }
}
