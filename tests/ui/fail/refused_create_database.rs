static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/refused_create_database");

fn main() {}
