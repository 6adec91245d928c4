static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/unknown_directive");

fn main() {}
