"""Log capture: LogWriter turns a task's output into chunks (format: contract.logs_format)."""

from core_runtime.logs.writer import LogWriter

__all__ = ["LogWriter"]
