"""Adapters around the scoring core: Kafka wire contract, Faust worker, Redis, CLI, local stack."""
