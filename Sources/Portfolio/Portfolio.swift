// Portfolio: Portfolio construction: estimators, QP solver, mean-variance, HRP, risk budgeting, Black–Litterman, CPPI.
//
// This module is a placeholder until its issue lands. It will hold return and covariance estimators, a dense convex QP solver, the mean-variance family, HRP/HERC, risk budgeting, Black–Litterman, hierarchical multi-asset allocation and CPPI/TIPP.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
