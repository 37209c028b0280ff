-- payments_book driven by pgbench alone, no Python: the backend's own rate for a two-wallet
-- transfer, to set beside pgbench -N. On a database kept by `run.py --keep` (owners 1 to 10,000):
--   pgbench -n -M prepared -c 8 -j 2 -T 10 -f bench/ledger/book.sql karavan_bench
\set a random(1, 10000)
\set b random(1, 10000)
SELECT booked_id, outcome, refused_leg FROM payments_book('transfer', 'bench', 'pgb:' || :client_id || ':' || clock_timestamp()::text || random()::text, 'fp', NULL, 'bench', now(), '{}'::jsonb, '{user,user}'::text[], ARRAY[:a, :b]::bigint[], '{wallet,wallet}'::text[], '{CNY,CNY}'::text[], '{-100,100}'::bigint[]);
