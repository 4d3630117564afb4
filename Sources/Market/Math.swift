#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The natural logarithm from the platform C library (NaN for NaN or negative input).
@inline(__always)
func naturalLog(_ x: Double) -> Double { log(x) }
