PRAGMA foreign_keys = OFF;
CREATE TABLE t (id INTEGER);
