#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A seedable, bit-reproducible pseudo-random generator: xoshiro256** seeded by SplitMix64.
///
/// The state is four 64-bit words filled from `seed` by SplitMix64 (Steele,
/// Lea & Flood 2014: `z += 0x9E3779B97F4A7C15; z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9;
/// z = (z ^ (z >> 27)) &* 0x94D049BB133111EB; z ^ (z >> 31)`). Each call of
/// ``next()`` then returns `rotl(s1 &* 5, 7) &* 9` and advances the state as in
/// Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2021).
///
/// For a given seed the sequence of `UInt64` values is the same on every
/// platform and every run; the first output for seed 0 is `0x99EC5F36CB75F2B4`.
/// ``Tensor/uniform(_:lowerBound:upperBound:using:)`` and
/// ``Tensor/normal(_:mean:standardDeviation:using:)`` turn those bits into
/// numbers with documented formulas, so tensors made from the same seed are
/// bitwise equal (normal draws use the platform `log`, `sqrt` and `cos`, which
/// glibc computes identically on every x86-64 and AArch64 Linux machine).
///
/// This generator is not cryptographically secure.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Hashable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Creates a generator whose state is four consecutive SplitMix64 outputs of `seed`.
    public init(seed: UInt64) {
        var z = seed
        func splitMix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var r = z
            r = (r ^ (r >> 30)) &* 0xBF58_476D_1CE4_E5B9
            r = (r ^ (r >> 27)) &* 0x94D0_49BB_1331_11EB
            return r ^ (r >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform `Double` in `[0, 1)`: the top 53 bits of ``next()`` times 2⁻⁵³.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal `Double` by the Box–Muller transform of two ``nextUnitDouble()`` draws `u₁, u₂`:
    /// `sqrt(−2·log(1 − u₁)) · cos(2π·u₂)` (one value per two draws; `1 − u₁` avoids `log 0`).
    public mutating func nextStandardNormal() -> Double {
        let u1 = nextUnitDouble(), u2 = nextUnitDouble()
        return (-2 * log(1 - u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
