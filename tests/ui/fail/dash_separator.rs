static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/dash_separator");

fn main() {}
