-- strata:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS messages_content_search;
