// The expansion names everything by absolute path (`::strata::...`,
// `::core::...`), so a local item named `strata` or `core` changes nothing.
#[allow(dead_code)]
mod strata {}
#[allow(dead_code)]
mod core {}

static MIGRATIONS: ::strata::Migrations = ::strata::embed_migrations!("tests/ui/folders/directives");

fn main() {
    assert_eq!(MIGRATIONS.len(), 2);
}
