"""Deployment: serving throughput and GPUs (roofline), the KV cache, model shapes, latency
targets, training time on a cluster, KV-aware sizing, energy and emissions."""
