"""A custom card type defined in the flow file, an editable default, and a card that fails."""

from core_runtime import FlowSpec, card, current, environment, step
from core_runtime.cards import MetaflowCard, MetaflowCardComponent


class Shout(MetaflowCardComponent):
    def __init__(self, text):
        self.text = text

    def render(self):
        return self.text.upper()


class ListCard(MetaflowCard):
    type = "list_card"
    ALLOW_USER_COMPONENTS = True

    def render(self, task):
        return f"{task.pathspec}: " + " | ".join(self._components) + f" ({task.data.value})"


class BrokenCard(MetaflowCard):
    type = "broken_card"

    def render(self, task):
        raise ValueError("no way")


class CardsFlow(FlowSpec):
    # As in Metaflow's own card tests: warnings go to stderr only, not into the cards (a warning
    # component would reach ListCard.render, which joins text).
    @environment(vars={"METAFLOW_CARD_NO_WARNING": "True"})
    @card(type="broken_card", save_errors=False)
    @card(type="broken_card", id="shown", save_errors=True)
    @card(type="list_card")
    @step
    def start(self):
        self.value = 42
        current.card.append(Shout("hello"))
        current.card.append("not a component")
        current.card["missing"].append(Shout("dropped"))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardsFlow()
