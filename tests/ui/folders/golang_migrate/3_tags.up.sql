CREATE TABLE tags (id integer);
-- strata:no-transaction
VACUUM;
