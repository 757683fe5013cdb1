"""Log capture (LogWriter) and reading (read_log_lines); format in docs/schema.md."""

from core_runtime.logs.reader import LogFormatError, parse_chunk, read_log_lines
from core_runtime.logs.writer import STREAMS, LogWriter, encode_record

__all__ = ["STREAMS", "LogFormatError", "LogWriter", "encode_record", "parse_chunk", "read_log_lines"]
