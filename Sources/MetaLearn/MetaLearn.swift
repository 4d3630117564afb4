// MetaLearn: Meta-learning: MAML, first-order MAML, Meta-SGD and Reptile.
//
// This module is a placeholder until its issue lands. It will hold tasks and task samplers (by period, regime or asset), second-order MAML, first-order MAML, ANIL, Meta-SGD and Reptile.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
