"""The local stack launcher: a real Kafka broker (KRaft) and redis-server without containers."""

from stream.dev.stack.launcher import ServiceStatus, StackOptions, down, status, up
from stream.dev.stack.processes import StackError

__all__ = ["ServiceStatus", "StackError", "StackOptions", "down", "status", "up"]
