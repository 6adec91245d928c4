static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/invalid_utf8");

fn main() {}
