-- A new message marks its session as updated.
CREATE FUNCTION touch_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET updated_at = now() WHERE session_id = NEW.session_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER messages_touch_session
    AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION touch_session();
