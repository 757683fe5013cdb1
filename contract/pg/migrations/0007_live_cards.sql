-- Live cards: a card row is written on every accepted current.card.refresh() while its task runs
-- (final = false), then once more with the final render. data_location is the datastore key of
-- the latest card state (document + seq), which the UI posts into the card's frame; updates of a
-- card row now notify the live feed too (before, cards were only ever inserted).
-- decorator_id is the id given to @card(id=...), NULL for a card without one: Metaflow's card id
-- (get_cards, `card list`), kept apart from card_id, which names every card of an attempt uniquely.
ALTER TABLE cards
    ADD COLUMN data_location text,
    ADD COLUMN final boolean NOT NULL DEFAULT true,
    ADD COLUMN updated_at bigint,
    ADD COLUMN decorator_id text;

DROP TRIGGER cards_notify ON cards;
CREATE TRIGGER cards_notify AFTER INSERT OR UPDATE ON cards FOR EACH ROW EXECUTE FUNCTION notify_change();
