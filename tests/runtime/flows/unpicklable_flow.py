"""A step that keeps an open socket as an artifact: the task must fail naming it."""

import socket

from core_runtime import FlowSpec, step


class UnpicklableFlow(FlowSpec):
    @step
    def start(self):
        self.conn = socket.socket()
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UnpicklableFlow()
