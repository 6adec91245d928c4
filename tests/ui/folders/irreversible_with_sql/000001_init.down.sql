-- strata:irreversible
DROP TABLE t;
