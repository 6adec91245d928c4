-- strata:no-op
DROP TABLE tags;
