-- strata:no-transactions
CREATE INDEX t_id ON t (id);
