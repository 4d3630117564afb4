// Market: market data for MetaFolio.
//
// Dates and time indices (MarketDate.swift, TimeIndex.swift), price panels with asset classes and
// availability masks (PricePanel.swift, AssetClass.swift), returns, resampling and alignment
// (Returns.swift, Resampling.swift, Alignment.swift), streaming CSV input (CSV/), the embedded
// datasets (Dataset.swift, Datasets/) and typed errors (MarketError.swift).
// Asset-class analytics, the multi-asset universe, price tensors and synthetic markets come next (issue 6).
