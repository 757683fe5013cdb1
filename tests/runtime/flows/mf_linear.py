from core_runtime import FlowSpec, step


class GreetingFlow(FlowSpec):
    """A linear flow: an artifact set in start is read in every later step."""

    @step
    def start(self):
        self.greeting = "hi there"
        self.next(self.shout)

    @step
    def shout(self):
        print(f"greeting is: {self.greeting}")
        self.loud = self.greeting.upper()
        self.next(self.end)

    @step
    def end(self):
        print(f"still {self.greeting}, now {self.loud}")


if __name__ == "__main__":
    GreetingFlow()
