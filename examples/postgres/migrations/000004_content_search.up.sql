-- strata:no-transaction
-- Built without blocking writes; PostgreSQL refuses this inside a transaction.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_content_search
    ON messages USING gin (to_tsvector('english', content));
