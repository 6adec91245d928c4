-- strata:irreversible
CREATE TABLE t (id INTEGER PRIMARY KEY);
