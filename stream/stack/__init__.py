"""The local stack launcher: a real Kafka broker (KRaft) and redis-server without containers."""

from stream.stack.launcher import StackError, StackOptions, ServiceStatus, down, status, up

__all__ = ["ServiceStatus", "StackError", "StackOptions", "down", "status", "up"]
