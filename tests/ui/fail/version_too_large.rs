static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/version_too_large");

fn main() {}
