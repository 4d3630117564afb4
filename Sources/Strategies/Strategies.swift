// Strategies: Learned strategies: the EIIE agent and the meta-learned allocator.
//
// This module is a placeholder until its issue lands. It will hold the EIIE agent with its portfolio-vector memory and online stochastic batch learning, and the meta-learned allocator pipeline.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
