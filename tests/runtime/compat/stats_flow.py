"""Statistics per genre: an IncludeFile of a CSV, a foreach over the genres and a join
(the features of Metaflow's statistics tutorial, without pandas)."""

import csv
import io
import statistics

from core_runtime import FlowSpec, IncludeFile, step


class FilmStatsFlow(FlowSpec):
    films = IncludeFile("films", default="movies.csv")

    @step
    def start(self):
        self.rows = list(csv.DictReader(io.StringIO(self.films)))
        self.genre_list = sorted({r["genre"] for r in self.rows})
        self.next(self.per_genre, foreach="genre_list")

    @step
    def per_genre(self):
        self.genre = self.input
        gross = sorted(int(r["gross"]) for r in self.rows if r["genre"] == self.genre)
        self.stats = {"count": len(gross), "median": statistics.median(gross),
                      "top": max(gross), "position": self.index}
        self.next(self.join)

    @step
    def join(self, inputs):
        self.genre_stats = {i.genre: i.stats for i in inputs}
        self.next(self.end)

    @step
    def end(self):
        for genre, stats in self.genre_stats.items():
            print(genre, stats)


if __name__ == "__main__":
    FilmStatsFlow()
