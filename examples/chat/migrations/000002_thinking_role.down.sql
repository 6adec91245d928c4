-- The old CHECK does not accept 'thinking': those messages go.
CREATE TABLE messages_old (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

INSERT INTO messages_old (id, session_id, role, content, created_at)
SELECT id, session_id, role, content, created_at FROM messages WHERE role <> 'thinking';

DROP TABLE messages;
ALTER TABLE messages_old RENAME TO messages;
CREATE INDEX messages_by_session ON messages (session_id, created_at);
