// Autodiff: A differentiable `Tensor` for Float and Double with a reverse-mode tape and higher-order gradients.
//
// This module is a placeholder until its issue lands. It will hold Tensor<Scalar>, primitive operations with vector–Jacobian products, the reverse-mode tape, gradient-of-gradient, and finite-difference gradient checking.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
