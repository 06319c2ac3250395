"""The paper's sizing: Chinchilla models and the inference-aware optimum (FLOPs and dollars)."""
