// Signals: Causal features: indicators, MODWT wavelets, normalizers and labels.
//
// This module is a placeholder until its issue lands. It will hold causal technical indicators, MODWT and its multiresolution analysis, leakage-free normalizers and slope/forward-return/triple-barrier labels.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
