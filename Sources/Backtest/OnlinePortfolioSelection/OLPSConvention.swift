/// Whose rules an online portfolio selection run follows where the published algorithms and the
/// OLPS toolbox disagree.
///
/// The OLPS toolbox (Li, Sahoo & Hoi 2016, "OLPS: a toolbox for on-line portfolio selection",
/// JMLR 17) produced the final-wealth tables of the survey (Li & Hoi 2014). Its run loops differ
/// from the papers and from universal-portfolios in details that move the final wealth:
///
/// | | ``toolbox`` | ``paper`` |
/// |---|---|---|
/// | fee `γ` | `1 − γ/2 · ‖b − b̂‖₁`, `b̂` divided by the *net* return | `1 − γ · ‖b − b̂‖₁`, `b̂` divided by the gross return |
/// | PAMR with a fee | loss on the net return | loss on the gross return |
/// | OLMAR-1 | first update before period 2 (0-based) | before period 1 |
/// | RMR | prices start after the first relative; Vardi–Zhang L1 median from the column median, tolerance 1e-9 | prices from all relatives; Weiszfeld from the mean, relative tolerance `τ` |
/// | Anticor | each expert restarts from its own last portfolio; diagonal claims; `μ₂ᵢ ≥ μ₂ⱼ` | Borodin et al. 2004: from the drifted portfolio; no diagonal; `>` |
/// | CWMR | the toolbox's update on the growth `b · x` (φ = 2, ε = 0.5) | the log-growth form (ε = −0.5, φ = Φ⁻¹(0.95)) |
/// | CORN | uniform while at most `w + 1` relatives are known | uniform while at most `w` |
/// | UP | per period, the mean of 10 Metropolis random walks of 5 steps on a grid | the mean of `N` Dirichlet(1) portfolios weighted by their wealth |
///
/// Every other algorithm is the same under both. The ``paper`` convention on
/// ``OLPSDayZero/firstDayDropped`` relatives with `warmUp: .priceSinceStart` reproduces
/// universal-portfolios (0.4.17) where it implements the same rule.
public enum OLPSConvention: String, Sendable, Hashable, CaseIterable, Codable {
    /// The OLPS toolbox's run loops (MATLAB, `Strategy/<algo>_run.m`), the source of the survey's figures.
    case toolbox
    /// The algorithms as published in their papers (and universal-portfolios where it agrees).
    case paper
}
