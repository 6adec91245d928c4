-- Statements that look refused to one dialect only, or not at all: the
-- build judges what both dialects see, and the backend the rest.
CREATE PROCEDURE archive() LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM events WHERE at < now() - interval '1 year';
    COMMIT;
END
$body$;
/* an old note /* nested */ COMMIT; VACUUM; */
REFRESH MATERIALIZED VIEW CONCURRENTLY totals;
SELECT E'\'; COMMIT; --';
