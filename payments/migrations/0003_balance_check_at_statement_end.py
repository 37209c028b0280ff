"""Check the balance when the INSERT statement ends, not at commit.

Every writer inserts all the entries of a transaction in one statement; an AFTER ROW trigger runs
at the end of that statement and sees them all, so an unbalanced transaction (or an entry in a
currency other than its account's) is refused at once, also in autocommit and in tests that never
commit. Measured cheaper than a statement trigger over a transition table, whose queries are
planned again on every call.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
DROP TRIGGER IF EXISTS payments_entry_balanced ON payments_entry;
DROP FUNCTION IF EXISTS payments_entry_check();

CREATE FUNCTION payments_entries_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- Row triggers run when the INSERT statement ends: every entry of the statement is visible.
    -- Uses index payments_entry_txn_id (a cached plan: no transition table to re-plan).
    SELECT currency, sum(amount_minor) AS total INTO bad
      FROM payments_entry WHERE txn_id = NEW.txn_id
     GROUP BY currency HAVING sum(amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unbalanced ledger transaction %: % entries sum to %', NEW.txn_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_transaction_balanced';
    END IF;
    PERFORM 1 FROM payments_account WHERE id = NEW.account_id AND currency = NEW.currency;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'entry % is in %, not its account''s currency', NEW.id, NEW.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_currency_is_account_currency';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER payments_entries_balanced
    AFTER INSERT ON payments_entry
    FOR EACH ROW EXECUTE FUNCTION payments_entries_check();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS payments_entries_balanced ON payments_entry;
DROP FUNCTION IF EXISTS payments_entries_check();
CREATE FUNCTION payments_entry_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT currency, sum(amount_minor) AS total INTO bad
      FROM payments_entry WHERE txn_id = NEW.txn_id
     GROUP BY currency HAVING sum(amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unbalanced ledger transaction %: % entries sum to %', NEW.txn_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_transaction_balanced';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER payments_entry_balanced
    AFTER INSERT ON payments_entry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payments_entry_check();
"""



class Migration(migrations.Migration):
    dependencies = [("payments", "0002_ledger_triggers")]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD}, {"postgresql": PG_BACKWARD})]
