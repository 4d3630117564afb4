/// Exact powers of ten representable in a `Double` (10⁰ … 10²²).
private let exactPowersOfTen: [Double] = (0...22).map { exponent in
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
}

/// Parses the decimal number in `bytes[start..<end]` (surrounding spaces allowed).
///
/// Accepts `[+-]digits[.digits][(e|E)[+-]digits]` (also `.5` and `5.`), nothing else:
/// `inf`, `nan`, hexadecimal and thousands separators are rejected (`nil`). Values of
/// at most 19 significant digits whose decimal mantissa fits in 2⁵³ and whose power of
/// ten is within ±22 are converted with one correctly rounded multiplication or
/// division (Clinger's fast path); everything else falls back to the C library's
/// correctly rounded `strtod` on a stack copy of the text. Results out of `Double` range are `nil`.
func parseDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
    let (s, e) = trimmed(bytes, start, end)
    var i = s
    var negative = false
    if i < e, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
        negative = bytes[i] == UInt8(ascii: "-")
        i += 1
    }
    var mantissa: UInt64 = 0
    var significant = 0, exponent = 0
    var sawDigit = false, inexact = false
    while i < e, bytes[i] &- 48 < 10 {
        let digit = UInt64(bytes[i] &- 48)
        sawDigit = true
        if mantissa == 0 && digit == 0 {
            // leading zero
        } else if significant < 19 {
            mantissa = mantissa * 10 + digit
            significant += 1
        } else {
            exponent += 1
            inexact = true
        }
        i += 1
    }
    if i < e, bytes[i] == UInt8(ascii: ".") {
        i += 1
        while i < e, bytes[i] &- 48 < 10 {
            let digit = UInt64(bytes[i] &- 48)
            sawDigit = true
            if mantissa == 0 && digit == 0 {
                exponent -= 1
            } else if significant < 19 {
                mantissa = mantissa * 10 + digit
                significant += 1
                exponent -= 1
            } else {
                inexact = true
            }
            i += 1
        }
    }
    guard sawDigit else { return nil }
    if i < e, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
        i += 1
        var exponentNegative = false
        if i < e, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            exponentNegative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var written = 0, exponentDigits = 0
        while i < e, bytes[i] &- 48 < 10 {
            if written < 100_000 { written = written * 10 + Int(bytes[i] &- 48) }
            exponentDigits += 1
            i += 1
        }
        guard exponentDigits > 0 else { return nil }
        exponent += exponentNegative ? -written : written
    }
    guard i == e else { return nil }
    let value: Double
    if !inexact, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
        value = exponent >= 0 ? Double(mantissa) * exactPowersOfTen[exponent] : Double(mantissa) / exactPowersOfTen[-exponent]
    } else if mantissa == 0 {
        value = 0
    } else {
        guard let slow = correctlyRoundedDecimal(bytes, s, e), slow.isFinite else { return nil }
        return slow
    }
    return negative ? -value : value
}
