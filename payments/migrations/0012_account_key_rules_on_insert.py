"""An account's key (owner kind, owner, kind, currency) is checked when the account is made and
never changes; the two CHECK constraints on it become a trigger that fires only then.

PostgreSQL evaluates every CHECK constraint of a row at every UPDATE, whichever columns it sets,
and reads each one's expression anew for every statement. A booking updates two balances, so the
two rules on columns a booking never writes cost it 4 to 5 % (8 pgbench clients through
payments_book on the ledger bench's database: 5.3 to 5.5k bookings/s without them, 5.1 to 5.3k
with). The trigger checks them on INSERT, with the same constraint names in its errors, and refuses
an UPDATE of the key: a posted entry's account keeps its owner and currency. The balance's own CHECK
(account_balance_not_negative) stays: a booking writes that column.
"""

from django.db import migrations

from core.migration_ops import sql_by_vendor

PG_FORWARD = """
CREATE FUNCTION payments_account_key_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'account % violates check constraint "account_key_fixed": its owner, kind and currency never change', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'account_key_fixed';
    END IF;
    IF NEW.owner_kind NOT IN ('user', 'company', 'platform') THEN
        RAISE EXCEPTION 'new account violates check constraint "account_owner_kind_valid": owner kind % is not user, company or platform', NEW.owner_kind
            USING ERRCODE = 'check_violation', CONSTRAINT = 'account_owner_kind_valid';
    END IF;
    IF NEW.owner_kind <> 'platform' AND NEW.kind <> 'wallet' THEN
        RAISE EXCEPTION 'new account violates check constraint "account_only_wallets_are_owned": a % may own a wallet only, not a % account', NEW.owner_kind, NEW.kind
            USING ERRCODE = 'check_violation', CONSTRAINT = 'account_only_wallets_are_owned';
    END IF;
    RETURN NEW;
END $$;

-- UPDATE OF: a booking's UPDATE of the balance does not fire it.
CREATE TRIGGER payments_account_key
    BEFORE INSERT OR UPDATE OF owner_kind, owner_id, kind, currency ON payments_account
    FOR EACH ROW EXECUTE FUNCTION payments_account_key_check();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS payments_account_key ON payments_account;
DROP FUNCTION IF EXISTS payments_account_key_check();
"""

SQLITE_FORWARD = [
    "CREATE TRIGGER payments_account_key_insert BEFORE INSERT ON payments_account "
    "WHEN NEW.owner_kind NOT IN ('user', 'company', 'platform') OR (NEW.owner_kind <> 'platform' AND NEW.kind <> 'wallet') "
    "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: account_owner_kind_valid or account_only_wallets_are_owned'); END;",
    "CREATE TRIGGER payments_account_key_update BEFORE UPDATE OF owner_kind, owner_id, kind, currency ON payments_account "
    "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: account_key_fixed'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS payments_account_key_insert;",
    "DROP TRIGGER IF EXISTS payments_account_key_update;",
]


class Migration(migrations.Migration):
    dependencies = [("payments", "0011_entries_balanced_per_statement")]

    operations = [
        migrations.RemoveConstraint(model_name="account", name="account_owner_kind_valid"),
        migrations.RemoveConstraint(model_name="account", name="account_only_wallets_are_owned"),
        sql_by_vendor({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD},
                      {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
    ]
