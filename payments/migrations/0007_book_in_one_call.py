"""A posting, or a batch of transfers, is one call of a PL/pgSQL function (PostgreSQL).

``payments_book`` books one ledger transaction: each account by its key (index account_key, one
lookup per leg), the accounts locked in ascending id order (as every writer locks them, so
bookings never deadlock), every balance checked, and only then the transaction row inserted (its
unique key makes a repeat insert nothing: a replay), the balances updated and the entries written
in one INSERT (the balance trigger of migration 0006 still checks it). A refusal (an account
missing, a wallet short, a replayed key) writes nothing and raises nothing, so a caller's own
transaction stays usable without a savepoint. It replaces one CTE statement of 150 lines whose
plan PostgreSQL made afresh on every call (a generic plan for it took 22 ms): each statement here
is simple enough for the plan PL/pgSQL keeps, by index, whatever the arguments.

``payments_book_batch`` books many transactions all or nothing, as ``wallet_transfer_batch`` did in
seven statements: the transaction rows first (a key booked before is skipped), then the legs of
the new ones as above, the check on each account's net change. A refusal raises inside the
function's own block and is caught there, so the rows it inserted are undone by PostgreSQL
without a round trip and the caller gets the outcome. Its statements are planned with the
arrays' real sizes (``plan_cache_mode``), once per batch: a generic plan would guess the sizes
and may scan every account.

Both return ``outcome`` ('booked', 'replay', 'missing', 'short') and, for 'short', the 1-based
leg whose account would end below zero; Python maps it to its error. Balances, check constraints
and the entries' balance trigger are the database's, as before; the functions are only the
shortest way there.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
CREATE FUNCTION payments_book(
    p_kind text, p_reference text, p_key text, p_fingerprint text, p_actor_id bigint, p_actor_label text,
    p_at timestamptz, p_memo jsonb,
    p_owner_kind text[], p_owner_id bigint[], p_account_kind text[], p_currency text[], p_minor bigint[],
    OUT booked_id bigint, OUT outcome text, OUT refused_leg int)
LANGUAGE plpgsql AS $$
DECLARE
    n int := cardinality(p_minor);
    leg_account bigint[] := array_fill(NULL::bigint, ARRAY[n]);
    leg_after bigint[] := array_fill(NULL::bigint, ARRAY[n]);
    acc_ids bigint[] := '{}';  -- ascending: the order every writer locks accounts in
    acc_net bigint[] := '{}';
    acc_balance bigint[] := '{}';
    aid bigint;
    bal bigint;
    allow boolean;
    i int;
    j int;
BEGIN
    FOR i IN 1..n LOOP
        SELECT id INTO aid FROM payments_account
         WHERE owner_kind = p_owner_kind[i] AND owner_id = p_owner_id[i] AND kind = p_account_kind[i]
           AND currency = p_currency[i];
        IF aid IS NULL THEN
            outcome := 'missing';
            EXIT;
        END IF;
        leg_account[i] := aid;
        j := array_position(acc_ids, aid);
        IF j IS NULL THEN
            j := 1;
            WHILE j <= cardinality(acc_ids) AND acc_ids[j] < aid LOOP
                j := j + 1;
            END LOOP;
            acc_ids := acc_ids[:j - 1] || aid || acc_ids[j:];
            acc_net := acc_net[:j - 1] || p_minor[i] || acc_net[j:];
        ELSE
            acc_net[j] := acc_net[j] + p_minor[i];
        END IF;
    END LOOP;
    IF outcome IS NULL THEN
        FOR j IN 1..cardinality(acc_ids) LOOP
            SELECT balance_minor, allow_negative INTO bal, allow FROM payments_account WHERE id = acc_ids[j] FOR UPDATE;
            acc_balance[j] := bal;
            IF NOT allow AND bal + acc_net[j] < 0 AND refused_leg IS NULL THEN
                outcome := 'short';
                refused_leg := array_position(leg_account, acc_ids[j]);
            END IF;
        END LOOP;
    END IF;
    IF outcome IS NOT NULL THEN
        -- Refused, unless the key was booked before (then it is a replay, whatever the balances now).
        IF EXISTS (SELECT 1 FROM payments_transaction WHERE idempotency_key = p_key) THEN
            outcome := 'replay';
            refused_leg := NULL;
        END IF;
        RETURN;
    END IF;
    INSERT INTO payments_transaction (kind, reference, idempotency_key, fingerprint, actor_id, actor_label, created_at, memo)
    VALUES (p_kind, p_reference, p_key, p_fingerprint, p_actor_id, p_actor_label, p_at, p_memo)
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING id INTO booked_id;
    IF booked_id IS NULL THEN
        outcome := 'replay';
        RETURN;
    END IF;
    FOR j IN 1..cardinality(acc_ids) LOOP
        UPDATE payments_account SET balance_minor = balance_minor + acc_net[j] WHERE id = acc_ids[j];
    END LOOP;
    FOR i IN 1..n LOOP
        j := array_position(acc_ids, leg_account[i]);
        acc_balance[j] := acc_balance[j] + p_minor[i];
        leg_after[i] := acc_balance[j];
    END LOOP;
    INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at)
    SELECT booked_id, e.account_id, e.currency, e.minor, e.after, p_at
      FROM unnest(leg_account, p_currency, p_minor, leg_after) AS e(account_id, currency, minor, after);
    outcome := 'booked';
END $$;

-- The balance check of migration 0006, the same checks, planned once per connection instead of on
-- every INSERT (a tenth of a booking's time went to planning them): generic plans, kept, and by
-- index whatever the statistics say (a generic plan of 'txn_id = ANY(ids)' scans every entry when
-- the statistics saw one transaction of 10,000 entries, as on the bench's freshly seeded database).
-- The currency check reads each entry's account by primary key, a plan that does not depend on how
-- many rows the INSERT wrote.
CREATE OR REPLACE FUNCTION payments_entries_check() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    bad record;
    ids bigint[];
BEGIN
    SELECT array_agg(DISTINCT txn_id) INTO ids FROM new_entries;
    -- Uses index payments_entry_txn_id.
    SELECT e.txn_id, e.currency, sum(e.amount_minor) AS total INTO bad
      FROM payments_entry e WHERE e.txn_id = ANY(ids)
     GROUP BY e.txn_id, e.currency HAVING sum(e.amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unbalanced ledger transaction %: % entries sum to %', bad.txn_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_transaction_balanced';
    END IF;
    SELECT n.id, n.currency INTO bad FROM new_entries n
     WHERE n.currency <> (SELECT a.currency FROM payments_account a WHERE a.id = n.account_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry % is in %, not its account''s currency', bad.id, bad.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_currency_is_account_currency';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION payments_book_batch(
    p_kind text[], p_reference text[], p_key text[], p_fingerprint text[], p_actor_id bigint, p_actor_label text,
    p_at timestamptz,
    p_posting int[], p_owner_kind text[], p_owner_id bigint[], p_account_kind text[], p_currency text[], p_minor bigint[],
    OUT booked bigint[], OUT outcome text, OUT refused_leg int)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    n int := cardinality(p_minor);
    leg_account bigint[];
    leg_after bigint[] := array_fill(NULL::bigint, ARRAY[n]);
    leg_txn bigint[] := array_fill(NULL::bigint, ARRAY[n]);
    acc_ids bigint[];
    acc_balance bigint[];
    acc_allow boolean[];
    acc_net bigint[];
    i int;
    j int;
BEGIN
    BEGIN
        WITH t AS (
            INSERT INTO payments_transaction (kind, reference, idempotency_key, fingerprint, actor_id, actor_label, created_at, memo)
            SELECT k, r, key, fp, p_actor_id, p_actor_label, p_at, '{}'::jsonb
              FROM unnest(p_kind, p_reference, p_key, p_fingerprint) AS u(k, r, key, fp)
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key)
        SELECT array_agg(t.id ORDER BY u.ord) INTO booked
          FROM unnest(p_key) WITH ORDINALITY AS u(key, ord) LEFT JOIN t ON t.idempotency_key = u.key;
        -- The accounts of the new transactions' legs, by key (NULL: a missing account).
        SELECT array_agg(a.id ORDER BY l.ord) INTO leg_account
          FROM unnest(p_posting, p_owner_kind, p_owner_id, p_account_kind, p_currency) WITH ORDINALITY
               AS l(posting, owner_kind, owner_id, kind, currency, ord)
          LEFT JOIN payments_account a ON booked[l.posting] IS NOT NULL AND a.owner_kind = l.owner_kind
               AND a.owner_id = l.owner_id AND a.kind = l.kind AND a.currency = l.currency;
        FOR i IN 1..n LOOP
            leg_txn[i] := booked[p_posting[i]];
            IF leg_txn[i] IS NOT NULL AND leg_account[i] IS NULL THEN
                outcome := 'missing';
                RAISE SQLSTATE 'KV001';
            END IF;
        END LOOP;
        SELECT array_agg(id), array_agg(balance_minor), array_agg(allow_negative) INTO acc_ids, acc_balance, acc_allow
          FROM (SELECT id, balance_minor, allow_negative FROM payments_account
                 WHERE id IN (SELECT unnest(leg_account)) ORDER BY id FOR UPDATE) a;
        IF acc_ids IS NULL THEN
            outcome := 'booked';  -- every key booked before: nothing new
            RETURN;
        END IF;
        acc_net := array_fill(0::bigint, ARRAY[cardinality(acc_ids)]);
        FOR i IN 1..n LOOP
            IF leg_txn[i] IS NOT NULL THEN
                j := array_position(acc_ids, leg_account[i]);
                acc_net[j] := acc_net[j] + p_minor[i];
                acc_balance[j] := acc_balance[j] + p_minor[i];
                leg_after[i] := acc_balance[j];
            END IF;
        END LOOP;
        FOR j IN 1..cardinality(acc_ids) LOOP
            IF NOT acc_allow[j] AND acc_balance[j] < 0 THEN
                outcome := 'short';
                refused_leg := array_position(leg_account, acc_ids[j]);
                RAISE SQLSTATE 'KV001';
            END IF;
        END LOOP;
        UPDATE payments_account a SET balance_minor = a.balance_minor + u.net
          FROM unnest(acc_ids, acc_net) AS u(id, net) WHERE a.id = u.id;
        INSERT INTO payments_entry (txn_id, account_id, currency, amount_minor, balance_after, created_at)
        SELECT e.txn, e.account_id, e.currency, e.minor, e.after, p_at
          FROM unnest(leg_txn, leg_account, p_currency, p_minor, leg_after) AS e(txn, account_id, currency, minor, after)
         WHERE e.txn IS NOT NULL;
        outcome := 'booked';
    EXCEPTION WHEN SQLSTATE 'KV001' THEN
        -- Refused: PostgreSQL has undone what this block wrote; outcome and refused_leg say why.
        booked := NULL;
    END;
END $$;
"""

PG_BACKWARD = """
CREATE OR REPLACE FUNCTION payments_entries_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    ids bigint[];
BEGIN
    SELECT array_agg(DISTINCT txn_id) INTO ids FROM new_entries;
    SELECT e.txn_id, e.currency, sum(e.amount_minor) AS total INTO bad
      FROM payments_entry e WHERE e.txn_id = ANY(ids)
     GROUP BY e.txn_id, e.currency HAVING sum(e.amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unbalanced ledger transaction %: % entries sum to %', bad.txn_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_transaction_balanced';
    END IF;
    SELECT n.id, n.currency INTO bad FROM new_entries n JOIN payments_account a ON a.id = n.account_id
     WHERE a.currency <> n.currency LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry % is in %, not its account''s currency', bad.id, bad.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_currency_is_account_currency';
    END IF;
    RETURN NULL;
END $$;
ALTER FUNCTION payments_entries_check() RESET ALL;
DROP FUNCTION IF EXISTS payments_book_batch(text[], text[], text[], text[], bigint, text, timestamptz, int[], text[],
    bigint[], text[], text[], bigint[]);
DROP FUNCTION IF EXISTS payments_book(text, text, text, text, bigint, text, timestamptz, jsonb, text[], bigint[], text[],
    text[], bigint[]);
"""


class Migration(migrations.Migration):
    dependencies = [("payments", "0006_entries_check_per_statement")]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD}, {"postgresql": PG_BACKWARD})]
