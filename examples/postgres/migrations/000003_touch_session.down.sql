DROP TRIGGER messages_touch_session ON messages;
DROP FUNCTION touch_session();
