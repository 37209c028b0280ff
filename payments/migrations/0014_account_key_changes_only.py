"""The account key's trigger (migration 0012) refuses a change of the key, not an UPDATE that only
names its columns: the ORM's ``save()`` writes every column, the key's included, with the same
values, and that is no change."""

from textwrap import indent

from django.db import migrations

from core.migration_ops import sql_by_vendor

# The function of migration 0012, with ``{update}`` as what it does on an UPDATE of the key.
FUNCTION = """
CREATE OR REPLACE FUNCTION payments_account_key_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
{update}
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
"""
REFUSE = """        RAISE EXCEPTION 'account % violates check constraint "account_key_fixed": its owner, kind and currency never change', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'account_key_fixed';"""

PG_FORWARD = FUNCTION.replace("{update}", f"""        IF (NEW.owner_kind, NEW.owner_id, NEW.kind, NEW.currency) IS DISTINCT FROM
           (OLD.owner_kind, OLD.owner_id, OLD.kind, OLD.currency) THEN
{indent(REFUSE, "    ")}
        END IF;
        RETURN NEW;""")
PG_BACKWARD = FUNCTION.replace("{update}", REFUSE)

SQLITE_UPDATE = ("CREATE TRIGGER payments_account_key_update BEFORE UPDATE OF owner_kind, owner_id, kind, currency "
                 "ON payments_account {when}BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: account_key_fixed'); END;")
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS payments_account_key_update;",
    SQLITE_UPDATE.format(when="WHEN NEW.owner_kind IS NOT OLD.owner_kind OR NEW.owner_id IS NOT OLD.owner_id "
                              "OR NEW.kind IS NOT OLD.kind OR NEW.currency IS NOT OLD.currency "),
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS payments_account_key_update;", SQLITE_UPDATE.format(when="")]


class Migration(migrations.Migration):
    dependencies = [("payments", "0013_indexes_a_write_needs")]

    operations = [sql_by_vendor({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD},
                                {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD})]
