-- Monthly partitions of the payments ledger (payments_entry), in place, with its invariants kept:
-- the balance check per transaction (statement trigger) and append-only (row trigger) are re-created on
-- the partitioned table. Run as the owner of the tables, in a maintenance window (it locks the table):
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f scripts/partition_ledger.sql
-- Then create each next month ahead of time (docs/operations.md). Tried on a copy of the demo data.
BEGIN;
LOCK TABLE payments_entry IN ACCESS EXCLUSIVE MODE;
ALTER TABLE payments_entry RENAME TO payments_entry_unpartitioned;
CREATE TABLE payments_entry (LIKE payments_entry_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)
  PARTITION BY RANGE (created_at);
ALTER TABLE payments_entry ADD PRIMARY KEY (id, created_at);
CREATE INDEX payments_entry_account_part_idx ON payments_entry (account_id, id DESC);
CREATE INDEX payments_entry_txn_part_idx ON payments_entry (txn_id);
ALTER TABLE payments_entry ADD FOREIGN KEY (account_id) REFERENCES payments_account (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE payments_entry ADD FOREIGN KEY (txn_id) REFERENCES payments_transaction (id) DEFERRABLE INITIALLY DEFERRED;
-- one partition a month from the oldest entry to two months ahead, and a default one as a safety net
DO $$
DECLARE m date := date_trunc('month', (SELECT coalesce(min(created_at), now()) FROM payments_entry_unpartitioned))::date;
BEGIN
  WHILE m <= date_trunc('month', now() + interval '2 months')::date LOOP
    EXECUTE format('CREATE TABLE payments_entry_%s PARTITION OF payments_entry FOR VALUES FROM (%L) TO (%L)',
                   to_char(m, 'YYYY_MM'), m, m + interval '1 month');
    m := m + interval '1 month';
  END LOOP;
END $$;
CREATE TABLE payments_entry_default PARTITION OF payments_entry DEFAULT;
INSERT INTO payments_entry OVERRIDING SYSTEM VALUE SELECT * FROM payments_entry_unpartitioned;
SELECT setval(pg_get_serial_sequence('payments_entry', 'id'), (SELECT coalesce(max(id), 1) FROM payments_entry));
CREATE TRIGGER payments_entries_balanced AFTER INSERT ON payments_entry REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION payments_entries_check();
CREATE TRIGGER payments_entry_append_only BEFORE DELETE OR UPDATE ON payments_entry
  FOR EACH ROW EXECUTE FUNCTION payments_append_only();
DROP TABLE payments_entry_unpartitioned;
COMMIT;
