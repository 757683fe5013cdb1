"""Reads the statistics flow's latest successful run through the client in one branch (the
features of Metaflow's playlist-redux tutorial)."""

from core_runtime import Flow, FlowSpec, Parameter, step


class PlaylistReduxFlow(FlowSpec):
    genre = Parameter("genre", default="Drama")

    @step
    def start(self):
        run = Flow("FilmStatsFlow").latest_successful_run
        self.genre_stats = run.data.genre_stats
        self.next(self.widest, self.chosen)

    @step
    def widest(self):
        self.widest_genre = max(self.genre_stats, key=lambda g: self.genre_stats[g]["count"])
        self.next(self.join)

    @step
    def chosen(self):
        self.chosen_stats = self.genre_stats[self.genre]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        print("widest genre", self.widest_genre, "chosen", self.chosen_stats)


if __name__ == "__main__":
    PlaylistReduxFlow()
