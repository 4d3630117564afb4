// Backtest: Backtesting: engine, costs, walk-forward validation, metrics and online portfolio selection.
//
// This module is a placeholder until its issue lands. It will hold the backtest engine with cost models, walk-forward and purged cross-validation, performance metrics, online portfolio selection and reports.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
