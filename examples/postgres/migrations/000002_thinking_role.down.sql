-- The old CHECK does not accept 'thinking': those messages go.
DELETE FROM messages WHERE role = 'thinking';
ALTER TABLE messages DROP CONSTRAINT messages_role_check;
ALTER TABLE messages ADD CONSTRAINT messages_role_check
    CHECK (role IN ('user', 'assistant'));
