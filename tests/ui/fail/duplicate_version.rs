static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/duplicate_version");

fn main() {}
