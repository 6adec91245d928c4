-- café in Latin-1
CREATE TABLE t (id INTEGER);
