#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Converts the decimal text in `bytes[start..<end]` (already validated) with the C library's
/// correctly rounded `strtod`, through a NUL-terminated stack copy (no heap allocation).
/// Only digits, sign, `.` and an exponent reach here, so the locale's decimal point never matters
/// for the C locale Swift programs run in; `Double(String)` is the fallback for texts over 255 bytes.
func correctlyRoundedDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
    let length = end - start
    guard length < 256 else {
        return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
    }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { scratch in
        for k in 0..<length { scratch[k] = CChar(bitPattern: bytes[start + k]) }
        scratch[length] = 0
        return strtod(scratch.baseAddress!, nil)
    }
}

/// Throws ``MarketError/invalidParameter(operation:parameter:value:reason:)`` unless `value` is finite and positive.
func requirePositive(_ value: Double, _ parameter: String, _ operation: String) throws {
    guard value.isFinite, value > 0 else {
        throw MarketError.invalidParameter(operation: operation, parameter: parameter, value: value,
                                           reason: value.isFinite ? "must be positive" : "must be finite")
    }
}

/// Throws ``MarketError/invalidParameter(operation:parameter:value:reason:)`` unless `value` is finite.
func requireFinite(_ value: Double, _ parameter: String, _ operation: String) throws {
    guard value.isFinite else {
        throw MarketError.invalidParameter(operation: operation, parameter: parameter, value: value, reason: "must be finite")
    }
}
