static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/nul_byte");

fn main() {}
