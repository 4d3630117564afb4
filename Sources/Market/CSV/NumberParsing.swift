/// Exact powers of ten representable in a `Double` (10⁰ … 10²²).
private let exactPowersOfTen: [Double] = (0...22).map { exponent in
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
}

/// The smallest and largest decimal exponents in ``powersOfFive``.
let powersOfFiveMinimumExponent = -342
let powersOfFiveMaximumExponent = 308

/// For every `q` in −342…308, three words: the high and low halves of a 128-bit
/// `T` with its top bit set, and the binary exponent `e` (two's complement), such that
/// `T ≤ 5^q · 2^−e < T + 1` (`T` is `5^q` normalized to 128 bits and truncated).
///
/// Generated once at first use with exact integer arithmetic (no floating point), so it
/// needs no 2000-line literal: positive powers by repeated multiplication, negative
/// ones as `⌊2^k / 5^n⌋` by repeated exact division (`⌊⌊x/a⌋/b⌋ = ⌊x/(ab)⌋`).
let powersOfFive: [UInt64] = {
    var table = [UInt64](repeating: 0, count: 3 * (powersOfFiveMaximumExponent - powersOfFiveMinimumExponent + 1))
    // Little-endian 64-bit limbs.
    func bitLength(_ big: [UInt64]) -> Int {
        var k = big.count - 1
        while k > 0, big[k] == 0 { k -= 1 }
        return 64 * k + (64 - big[k].leadingZeroBitCount)
    }
    // The 64 bits of `big` starting at bit `start` (which may be negative: zeros shifted in).
    func word(_ big: [UInt64], at start: Int) -> UInt64 {
        func limb(_ k: Int) -> UInt64 { k >= 0 && k < big.count ? big[k] : 0 }
        let index = start >= 0 ? start / 64 : (start - 63) / 64       // floor division
        let offset = UInt64(start - 64 * index)                         // 0…63
        return offset == 0 ? limb(index) : limb(index) >> offset | limb(index + 1) << (64 - offset)
    }
    func store(_ q: Int, _ big: [UInt64], exponent: Int) {
        // The top 128 bits of `big`, i.e. ⌊big / 2^shift⌋ with the top bit at 127.
        let shift = bitLength(big) - 128
        let slot = 3 * (q - powersOfFiveMinimumExponent)
        table[slot] = word(big, at: shift + 64)
        table[slot + 1] = word(big, at: shift)
        table[slot + 2] = UInt64(bitPattern: Int64(exponent + shift))
    }
    // 5^q for q ≥ 0.
    var power: [UInt64] = [1]
    for q in 0...powersOfFiveMaximumExponent {
        if q > 0 {
            var carry: UInt64 = 0
            for k in power.indices {
                let (high, low) = power[k].multipliedFullWidth(by: 5)
                let (sum, overflow) = low.addingReportingOverflow(carry)
                power[k] = sum
                carry = high &+ (overflow ? 1 : 0)
            }
            if carry != 0 { power.append(carry) }
        }
        store(q, power, exponent: 0)
    }
    // 5^−n = 2^−k · (2^k / 5^n) with k = 127 + bitLength(5^n): the quotient lies in [2^127, 2^128).
    power = [1]
    for n in 1...(-powersOfFiveMinimumExponent) {
        var carry: UInt64 = 0
        for k in power.indices {
            let (high, low) = power[k].multipliedFullWidth(by: 5)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            power[k] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        if carry != 0 { power.append(carry) }
        let k = 127 + bitLength(power)
        var quotient = [UInt64](repeating: 0, count: k / 64 + 1)
        quotient[k / 64] = 1 << UInt64(k % 64)
        // Divide by 5^n in steps of 5^27 (the largest power of five below 2^64) and 5.
        var remaining = n
        while remaining > 0 {
            let step = min(remaining, 27)
            var divisor: UInt64 = 1
            for _ in 0..<step { divisor *= 5 }
            var remainder: UInt64 = 0
            for limb in quotient.indices.reversed() {
                (quotient[limb], remainder) = divisor.dividingFullWidth((remainder, quotient[limb]))
            }
            remaining -= step
        }
        store(-n, quotient, exponent: -k)
    }
    return table
}()

/// Pointers to the conversion tables, fetched once per parse so hot loops skip the lazy-global check.
///
/// `@unchecked Sendable`: the pointees are written once in `init` and only read afterwards.
struct DecimalTables: @unchecked Sendable {
    /// 10⁰ … 10²² (23 entries).
    let powersOfTen: UnsafePointer<Double>
    /// A copy of ``powersOfFive``.
    let powersOfFive: UnsafePointer<UInt64>

    /// The shared tables.
    static let shared = DecimalTables()

    private init() {
        // Copied once into storage that is never freed, so the pointers stay valid for the process.
        let ten = UnsafeMutablePointer<Double>.allocate(capacity: exactPowersOfTen.count)
        ten.initialize(from: exactPowersOfTen, count: exactPowersOfTen.count)
        let five = UnsafeMutablePointer<UInt64>.allocate(capacity: Market.powersOfFive.count)
        five.initialize(from: Market.powersOfFive, count: Market.powersOfFive.count)
        powersOfTen = UnsafePointer(ten)
        powersOfFive = UnsafePointer(five)
    }

    /// `mantissa × 10^exponent` for a mantissa of at most 19 digits, correctly rounded, or `nil`
    /// when out of the normal range or when the fast methods cannot decide (then use `strtod`).
    ///
    /// Clinger's fast path (W. D. Clinger, "How to read floating point numbers accurately",
    /// PLDI 1990): a mantissa ≤ 2⁵³ and a power of ten ≤ 10²² are both exact, and one IEEE
    /// multiplication or division rounds correctly. Otherwise Eisel–Lemire (D. Lemire, "Number
    /// parsing at a gigabyte per second", Software: Practice and Experience 51(8), 2021).
    @inline(__always)
    func value(mantissa: UInt64, exponent: Int) -> Double? {
        if mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
            // Through Int64: one conversion instruction (UInt64 → Double needs a longer sequence on x86-64).
            let m = Double(Int64(bitPattern: mantissa))
            return exponent >= 0 ? m * powersOfTen[exponent] : m / powersOfTen[-exponent]
        }
        if mantissa == 0 { return 0 }
        return eiselLemire(mantissa, exponent)
    }

    /// Eisel–Lemire with an interval test: the exact product `w · 5^q` lies in `[P, P + W)`, where
    /// `P = W · T` is the 192-bit product of the normalized mantissa `W < 2^64` and the truncated
    /// table entry `T`. When no value in that interval changes the 53 kept bits, the rounding bit or
    /// whether anything below it is nonzero, the rounding is decided; otherwise `nil`.
    /// Subnormal and overflowing results are `nil` as well.
    @inline(never)
    func eiselLemire(_ mantissa: UInt64, _ exponent: Int) -> Double? {
        guard exponent >= powersOfFiveMinimumExponent, exponent <= powersOfFiveMaximumExponent else { return nil }
        let slot = 3 * (exponent - powersOfFiveMinimumExponent)
        let high = powersOfFive[slot], low = powersOfFive[slot + 1]
        let fiveExponent = Int(Int64(bitPattern: powersOfFive[slot + 2]))
        let leadingZeros = mantissa.leadingZeroBitCount
        let w = mantissa << UInt64(leadingZeros)
        let (a1, a0) = w.multipliedFullWidth(by: high)
        let (b1, b0) = w.multipliedFullWidth(by: low)
        let (p1, carry) = a0.addingReportingOverflow(b1)
        let p2 = a1 &+ (carry ? 1 : 0)
        // Adding up to W − 1 < 2^64 carries into p2 only if p1 is all ones.
        guard p1 != .max else { return nil }
        let upper = Int(p2 >> 63)
        let shift = 10 + upper                      // bits of p2 below the 53 kept ones
        var kept = p2 >> UInt64(shift)
        let roundBit = (p2 >> UInt64(shift - 1)) & 1
        if roundBit == 1 {
            let below = p2 & ((1 << UInt64(shift - 1)) - 1)
            if below == 0 && p1 == 0 && b0 == 0 { return nil }  // possibly exactly halfway
            kept += 1
        }
        // value ≈ p2 · 2^(128 + fiveExponent + exponent − leadingZeros)
        var binaryExponent = shift + 128 + fiveExponent + exponent - leadingZeros
        if kept == 1 << 53 {
            kept >>= 1
            binaryExponent += 1
        }
        let biased = binaryExponent + 52 + 1023
        guard biased >= 1, biased <= 2046 else { return nil }
        return Double(bitPattern: UInt64(biased) << 52 | (kept & ((1 << 52) - 1)))
    }
}

/// Parses the decimal number in `bytes[start..<end]` (surrounding spaces allowed).
///
/// Accepts `[+-]digits[.digits][(e|E)[+-]digits]` (also `.5` and `5.`), nothing else:
/// `inf`, `nan`, hexadecimal and thousands separators are rejected (`nil`). Values of
/// at most 19 significant digits go through ``DecimalTables/value(mantissa:exponent:)``
/// (Clinger's fast path, then Eisel–Lemire); longer mantissas and the rare cases those
/// cannot decide fall back to the C library's correctly rounded `strtod` on a stack copy
/// of the text. Results out of `Double` range are `nil`.
func parseDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                  tables: DecimalTables = .shared) -> Double? {
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
    if !inexact, let value = tables.value(mantissa: mantissa, exponent: exponent) {
        return negative ? -value : value
    }
    guard let slow = correctlyRoundedDecimal(bytes, s, e), slow.isFinite else { return nil }
    return slow
}
