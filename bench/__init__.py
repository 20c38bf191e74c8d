"""Benchmarks of the engine against the raw Kafka client on the same broker (`make bench`)."""
