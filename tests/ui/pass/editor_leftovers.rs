// Files that do not end in `.sql`, hidden files and subfolders are skipped.
static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/editor_leftovers");

fn main() {
    assert_eq!(MIGRATIONS.len(), 1);
    assert_eq!(MIGRATIONS.as_slice()[0].stem(), "000001_init");
}
