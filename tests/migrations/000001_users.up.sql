-- Saved by an editor that writes a byte-order mark and CRLF line endings.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);
