static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/irreversible_with_sql");

fn main() {}
