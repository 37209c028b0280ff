"""Ledger invariants the database enforces beyond check constraints (PostgreSQL).

- A deferred constraint trigger refuses, at commit, a transaction whose entries do not sum to zero per
  currency, or an entry whose currency is not its account's.
- Entries and transactions are append-only: UPDATE and DELETE raise.
On SQLite (the zero-setup demo) only the UPDATE guard exists; the service code keeps the rest.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
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
    IF NOT EXISTS (SELECT 1 FROM payments_account WHERE id = NEW.account_id AND currency = NEW.currency) THEN
        RAISE EXCEPTION 'entry % is in %, not its account''s currency', NEW.id, NEW.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_currency_is_account_currency';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER payments_entry_balanced
    AFTER INSERT ON payments_entry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payments_entry_check();

CREATE FUNCTION payments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: book a correcting transaction instead', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER payments_entry_append_only BEFORE UPDATE OR DELETE ON payments_entry
    FOR EACH ROW EXECUTE FUNCTION payments_append_only();
CREATE TRIGGER payments_transaction_append_only BEFORE UPDATE OR DELETE ON payments_transaction
    FOR EACH ROW EXECUTE FUNCTION payments_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS payments_transaction_append_only ON payments_transaction;
DROP TRIGGER IF EXISTS payments_entry_append_only ON payments_entry;
DROP FUNCTION IF EXISTS payments_append_only();
DROP TRIGGER IF EXISTS payments_entry_balanced ON payments_entry;
DROP FUNCTION IF EXISTS payments_entry_check();
"""

SQLITE_FORWARD = [
    "CREATE TRIGGER payments_entry_append_only BEFORE UPDATE ON payments_entry "
    "BEGIN SELECT RAISE(ABORT, 'payments_entry is append-only'); END;",
    "CREATE TRIGGER payments_transaction_append_only BEFORE UPDATE ON payments_transaction "
    "BEGIN SELECT RAISE(ABORT, 'payments_transaction is append-only'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS payments_entry_append_only;",
    "DROP TRIGGER IF EXISTS payments_transaction_append_only;",
]



class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}, {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD})]
