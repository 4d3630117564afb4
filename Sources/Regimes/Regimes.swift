// Regimes: Regime detection: k-means, Gaussian mixtures and Gaussian HMMs.
//
// This module is a placeholder until its issue lands. It will hold k-means++, Gaussian mixture EM with several covariance types, and Gaussian HMMs with Baum–Welch, Viterbi and filtered state probabilities.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
