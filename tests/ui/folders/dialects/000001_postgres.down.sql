DROP PROCEDURE archive();
