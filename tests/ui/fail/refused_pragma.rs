static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/refused_pragma");

fn main() {}
