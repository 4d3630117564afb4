// NN: Neural-network layers, optimizers, losses and safetensors I/O.
//
// This module is a placeholder until its issue lands. It will hold the Module abstraction, Linear/Conv1d/LSTM/GRU/attention/U-Net 1D/TCN/EIIE layers, PyTorch-compatible initializers, SGD/Adam/AdamW/RMSProp, losses, and safetensors serialization.
// See Docs/ and ARCHITECTURE.md for the plan; the module builds so the layer graph is fixed now.
