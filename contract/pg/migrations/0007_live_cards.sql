-- Live cards: a card row is written on every accepted current.card.refresh() while its task runs
-- (final = false), then once more with the final render. data_location is the datastore key of
-- the latest card state (document + seq), which the UI posts into the card's frame; updates of a
-- card row now notify the live feed too (before, cards were only ever inserted).
ALTER TABLE cards
    ADD COLUMN data_location text,
    ADD COLUMN final boolean NOT NULL DEFAULT true,
    ADD COLUMN updated_at bigint;

DROP TRIGGER cards_notify ON cards;
CREATE TRIGGER cards_notify AFTER INSERT OR UPDATE ON cards FOR EACH ROW EXECUTE FUNCTION notify_change();
