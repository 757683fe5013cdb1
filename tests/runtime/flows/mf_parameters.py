from core_runtime import FlowSpec, Parameter, step


class ScalingFlow(FlowSpec):
    """Parameters from the command line: python mf_parameters.py run --factor 3"""

    factor = Parameter("factor", help="Multiply by this", default=2)
    unit = Parameter("unit", help="Unit to print", default="cm")

    @step
    def start(self):
        print(f"factor is {self.factor}")
        self.scaled = [x * self.factor for x in (1, 2, 3)]
        self.next(self.end)

    @step
    def end(self):
        print(f"scaled: {self.scaled} {self.unit}")


if __name__ == "__main__":
    ScalingFlow()
