-- strata:no-transaction
-- VACUUM cannot run inside a transaction.
VACUUM;
