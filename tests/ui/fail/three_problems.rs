static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/three_problems");

fn main() {}
