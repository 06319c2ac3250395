"""Deployment: serving throughput and GPUs (roofline), energy and emissions."""
