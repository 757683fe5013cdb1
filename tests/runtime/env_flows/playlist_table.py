"""Tutorial style: a flow-wide @conda_base with one small library, used to print a playlist as a
table. The `end` step opts out of the environment (@conda(disabled=True)), so it runs on the
runtime's own interpreter, where that library is not installed."""

import sys

from core_runtime import FlowSpec, Parameter, conda, conda_base, step


@conda_base(libraries={"tabulate": "0.9.0"})
class PlaylistTableFlow(FlowSpec):
    genre = Parameter("genre", default="jazz", help="which songs go on the playlist")

    @step
    def start(self):
        songs = [("So What", "jazz", 562), ("Blue in Green", "jazz", 337), ("Windowlicker", "electronic", 366),
                 ("Take Five", "jazz", 324)]
        self.playlist = [(title, secs) for title, genre, secs in songs if genre == self.genre]
        self.next(self.table)

    @step
    def table(self):
        import tabulate

        self.text = tabulate.tabulate(self.playlist, headers=["title", "seconds"])
        self.tabulate_version = tabulate.__version__
        self.prefix = sys.prefix
        try:
            import aiohttp  # noqa: F401  - installed beside the runtime, not in this environment
            self.sees_runtime_packages = True
        except ImportError:
            self.sees_runtime_packages = False
        print(self.text)
        self.next(self.end)

    @conda(disabled=True)
    @step
    def end(self):
        try:
            import tabulate  # noqa: F401
            self.end_has_tabulate = True
        except ImportError:
            self.end_has_tabulate = False
        print(f"{len(self.playlist)} {self.genre} songs")


if __name__ == "__main__":
    PlaylistTableFlow()
