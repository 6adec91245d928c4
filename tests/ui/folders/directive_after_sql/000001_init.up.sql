CREATE TABLE t (id INTEGER PRIMARY KEY);
-- strata:no-transaction
VACUUM;
