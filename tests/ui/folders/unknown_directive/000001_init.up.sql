-- strata:no-transactions
VACUUM;
