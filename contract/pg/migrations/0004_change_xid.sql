-- The change feed's safe horizon: which change_seq a reader may advance its cursor to.
--
-- change_seq values are taken inside writing transactions but become visible only at commit,
-- so a transaction A holding seq 10 may commit after a transaction B with seq 11. A reader that
-- saw 11 and resumes from "change_seq > 11" would never see A's row. The fix is to know, without
-- seeing uncommitted rows, the lowest seq any still-open writer may hold:
--
-- * The first time a transaction takes a change_seq, it first takes one extra "token" value t
--   from the sequence and holds a shared transaction-level advisory lock keyed on t (released
--   at commit/rollback). Every seq it writes afterwards is > t. Locks are visible to every
--   session in pg_locks immediately, unlike rows.
-- * change_horizon() reads the sequence's last_value L, THEN the smallest held token m, and
--   returns min(L, m). Any writer whose token lock was not visible yet took its token after
--   that read, so its seqs are > L; any writer whose lock was visible has seqs > m. Hence every
--   row with change_seq <= horizon is committed (or rolled back) — as long as the reader's data
--   query takes its snapshot AFTER calling change_horizon() (a separate statement).
--
-- (The file name is historical: an earlier draft stored the writer's xid per row; tokens need
-- no new column and no table rewrite.) Keys use the two-int advisory form so they cannot collide
-- with the bigint-keyed migration lock: key1 = 0x46530000 + (t >> 31), key2 = t & 0x7fffffff.

CREATE OR REPLACE FUNCTION set_change_seq() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    token bigint;
BEGIN
    -- A transaction-local setting marks "token already held" (reset at transaction end).
    IF coalesce(current_setting('flowscope.change_token', true), '') = '' THEN
        token := nextval('change_seq');
        PERFORM pg_advisory_xact_lock_shared((x'46530000'::int + (token >> 31))::int,
                                             (token & 2147483647)::int);
        PERFORM set_config('flowscope.change_token', token::text, true);
    END IF;
    NEW.change_seq := nextval('change_seq');
    RETURN NEW;
END $$;

-- Returns the horizon and the sequence's last_value read AFTER the lock scan: a sample whose
-- last_after < S was taken entirely before seq S existed, which lets the backend turn a client's
-- "since S" into a safe starting point (see backend/live/horizon.py).
CREATE OR REPLACE FUNCTION change_horizon(OUT horizon bigint, OUT last_after bigint)
LANGUAGE plpgsql AS $$
DECLARE
    last bigint;
    oldest bigint;
BEGIN
    SELECT last_value INTO last FROM change_seq;
    SELECT min((l.classid::bigint - x'46530000'::bigint) * 2147483648 + l.objid::bigint)
      INTO oldest
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid::bigint BETWEEN x'46530000'::bigint AND x'4653FFFF'::bigint;
    horizon := least(last, coalesce(oldest, last));
    SELECT last_value INTO last_after FROM change_seq;
END $$;
