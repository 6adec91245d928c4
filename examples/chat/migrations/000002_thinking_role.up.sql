-- Allow the 'thinking' role. SQLite cannot change a CHECK constraint in
-- place, so the table is recreated and its rows copied over. strata runs
-- this with foreign-key enforcement off and checks the keys before commit.
CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'thinking')),
    content TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

INSERT INTO messages_new (id, session_id, role, content, created_at)
SELECT id, session_id, role, content, created_at FROM messages;

DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_session ON messages (session_id, created_at);
