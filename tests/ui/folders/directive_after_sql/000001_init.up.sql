CREATE TABLE t (id INTEGER PRIMARY KEY);
-- strata:no-transaction
CREATE INDEX t_id ON t (id);
