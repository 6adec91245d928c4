CREATE INDEX t_role ON t (role);
