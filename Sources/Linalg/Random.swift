import RealModule

/// SplitMix64 (Steele, Lea & Flood 2014; Vigna's public-domain reference `splitmix64.c`):
/// a 64-bit generator that expands one seed into the state of ``Xoshiro256StarStar``.
///
/// `state += 0x9E3779B97F4A7C15`, then the output is the state passed through two
/// xor-shift-multiply rounds. Seed 0 starts 16294208416658607535, 7960286522194355700, …
public struct SplitMix64: Sendable, Hashable {
    /// The current state.
    public private(set) var state: UInt64

    /// A generator started from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64-bit output.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman & Vigna 2021, "Scrambled linear pseudorandom number
/// generators", ACM TOMS 47(4)): a fast all-purpose 64-bit generator with period 2²⁵⁶ − 1.
///
/// Seeded by four outputs of ``SplitMix64`` (the seeding the authors recommend), so
/// any `UInt64` seed, including 0, gives a valid non-zero state. The same seed gives
/// the same bits on every platform. It is the one seeded generator of MetaFolio: tensor
/// initialization (Autodiff), synthetic markets (Market) and restarts (Regimes) all draw from it.
/// Not cryptographically secure.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Hashable {
    /// The four state words.
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator seeded from `seed` through SplitMix64.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// The next 64-bit output: `rotl(s₁·5, 7)·9`, then the linear state update.
    public mutating func next() -> UInt64 {
        let result = Xoshiro256StarStar.rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Xoshiro256StarStar.rotl(state.3, 45)
        return result
    }

    /// A uniform double in `[0, 1)`: the top 53 bits of ``next()`` times 2⁻⁵³.
    public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A standard normal draw by the Box–Muller transform, `√(−2 ln u₁)·cos(2π u₂)` with
    /// `u₁ ∈ (0, 1]` (so the logarithm is finite). One normal per two uniforms: simple and
    /// bit-reproducible (the sine partner is discarded rather than cached, so the
    /// generator stays a plain value).
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUniform(), u2 = nextUniform()
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }

    /// Equality of the states.
    public static func == (lhs: Xoshiro256StarStar, rhs: Xoshiro256StarStar) -> Bool {
        lhs.state == rhs.state
    }

    /// Hashes the state.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(state.0); hasher.combine(state.1); hasher.combine(state.2); hasher.combine(state.3)
    }

    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
