static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/golang_migrate");

fn main() {}
