/// The one place where the two cash conventions of MetaFolio meet.
///
/// The EIIE networks and the portfolio reward of `NN` put cash **first** (`[cash, asset₁ … assetₘ]`,
/// as in Jiang, Xu & Liang 2017, where cash is asset 0). The backtest engine lists the panel's
/// assets first and the cash asset **last** (`[asset₁ … assetₘ, cash]`). Every conversion in
/// `Strategies` goes through these two functions.
public enum CashPosition {
    /// `[cash, a₁ … aₘ]` → `[a₁ … aₘ, cash]`. An empty vector stays empty.
    public static func cashLast(fromCashFirst weights: [Double]) -> [Double] {
        guard let cash = weights.first else { return [] }
        return Array(weights.dropFirst()) + [cash]
    }

    /// `[cash, a₁ … aₘ]` → `[a₁ … aₘ]`: a backtest target, whose cash is the remainder `1 − Σaᵢ`
    /// (see `BacktestStrategy.targetWeights`).
    public static func engineTarget(fromCashFirst weights: [Double]) -> [Double] {
        Array(weights.dropFirst())
    }

    /// `[a₁ … aₘ, cash]` → `[cash, a₁ … aₘ]`. An empty vector stays empty.
    public static func cashFirst(fromCashLast weights: [Double]) -> [Double] {
        guard let cash = weights.last else { return [] }
        return [cash] + weights.dropLast()
    }
}
