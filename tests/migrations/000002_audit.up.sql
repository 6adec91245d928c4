CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    what TEXT NOT NULL
);

-- A trigger body holds semicolons, and CASE ... END inside it.
CREATE TRIGGER users_audit AFTER INSERT ON users
BEGIN
    INSERT INTO audit (what) VALUES (
        CASE WHEN NEW.email LIKE '%@example.com' THEN 'test user' ELSE 'user' END
    );
    INSERT INTO audit (what) VALUES ('done; really');
END;
