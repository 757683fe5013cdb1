"""Totals a few orders. Used through the Runner API: parameters (a JSON list, a float, a bool
flag), tags, a failure on purpose (--strict) that a resume with ORDER_TOTALS_FIXED=1 gets past,
and a --pause long enough to stop the run from outside."""

import os
import time

from core_runtime import FlowSpec, JSONType, Parameter, step


class OrderTotalsFlow(FlowSpec):
    orders = Parameter("orders", type=JSONType, default='[{"item": "tea", "qty": 2, "price": 3.5}]')
    discount = Parameter("discount", default=0.0)
    strict = Parameter("strict", type=bool, default=False, help="fail unless prices are verified")
    pause = Parameter("pause", default=0, help="seconds to wait in start")

    @step
    def start(self):
        time.sleep(self.pause)
        self.lines = [o["qty"] * o["price"] for o in self.orders]
        self.next(self.total)

    @step
    def total(self):
        if self.strict and os.environ.get("ORDER_TOTALS_FIXED") != "1":
            raise ValueError("strict mode: prices are not verified")
        self.amount = round(sum(self.lines) * (1 - self.discount), 2)
        print(f"total {self.amount}")
        self.next(self.end)

    @step
    def end(self):
        self.summary = f"{len(self.lines)} lines, {self.amount}"
        print(self.summary)


if __name__ == "__main__":
    OrderTotalsFlow()
