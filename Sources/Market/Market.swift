// Market: Market data: price panels, CSV I/O, embedded datasets and asset-class analytics.
//
// This module is a placeholder until its issue lands. It will hold the time index, PricePanel, returns, resampling and alignment, CSV I/O, embedded datasets, bond/option/ETF analytics, the multi-asset universe, Jiang price tensors and synthetic regime-switching markets.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
