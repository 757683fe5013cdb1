from core_runtime.cards import MetaflowCard


class AcmeCard(MetaflowCard):
    type = "acme_card"

    def render(self, task):
        return f"<html><body>acme card of {task.pathspec}</body></html>"


CARDS = [AcmeCard]
