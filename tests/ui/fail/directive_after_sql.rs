static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/directive_after_sql");

fn main() {}
