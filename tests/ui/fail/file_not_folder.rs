static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/a_file.sql");

fn main() {}
