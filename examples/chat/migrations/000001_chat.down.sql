DROP INDEX messages_by_session;
DROP TABLE messages;
DROP TABLE sessions;
