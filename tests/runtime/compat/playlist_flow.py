"""A playlist from a CSV of films: an IncludeFile, two parameters and two branches that meet
in a join (the features of Metaflow's first playlist tutorial, in our own words)."""

import csv
import io

from core_runtime import FlowSpec, IncludeFile, Parameter, step


class PlaylistFlow(FlowSpec):
    films = IncludeFile("films", default="movies.csv", help="CSV: title,year,genre,gross")
    genre = Parameter("genre", default="Sci-Fi", help="genre of the playlist")
    length = Parameter("length", default=3, help="how many films")

    @step
    def start(self):
        """Read the CSV into columns."""
        rows = list(csv.DictReader(io.StringIO(self.films)))
        self.titles = [r["title"] for r in rows]
        self.genres = [r["genre"] for r in rows]
        self.gross = [int(r["gross"]) for r in rows]
        self.next(self.bonus, self.picks)

    @step
    def bonus(self):
        """The best-selling film outside the genre."""
        others = [(g, t) for t, genre, g in zip(self.titles, self.genres, self.gross) if genre != self.genre]
        self.bonus_film = max(others)[1]
        self.next(self.join)

    @step
    def picks(self):
        """The genre's films, best-selling first."""
        mine = sorted(((g, t) for t, genre, g in zip(self.titles, self.genres, self.gross)
                       if genre == self.genre), reverse=True)
        self.playlist = [t for _g, t in mine[: self.length]]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.playlist = inputs.picks.playlist
        self.bonus_film = inputs.bonus.bonus_film
        self.merge_artifacts(inputs, include=["titles"])
        self.next(self.end)

    @step
    def end(self):
        print("playlist:", ", ".join(self.playlist), "| bonus:", self.bonus_film)


if __name__ == "__main__":
    PlaylistFlow()
