"""Hostile strings in every place a user's code can put text: parameter, tag, log, artifact."""

from core_runtime import FlowSpec, Parameter, step

SCRIPT = "<script>window.__pwned=1;alert('script')</script>"
IMG = "<img src=x onerror=\"window.__pwned=2;alert('img')\">"
# ANSI colour, an OSC 8 hyperlink to javascript:, and an OSC 0 title change.
ANSI = "\x1b[31mred\x1b[0m \x1b]8;;javascript:window.__pwned=3\x1b\\click\x1b]8;;\x1b\\ \x1b]0;pwned-title\x07end"


class XssFlow(FlowSpec):
    label = Parameter("label", help="a hostile default", default=IMG)

    @step
    def start(self):
        print(SCRIPT)
        print(IMG)
        print(ANSI)
        self.html = SCRIPT + IMG
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    XssFlow()
