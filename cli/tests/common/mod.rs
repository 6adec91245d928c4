//! The built `strata` binary, run in a temporary folder as a person would.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use tempfile::TempDir;

/// A working folder with a `migrations` folder and a database `app.db`.
pub struct Shell {
    pub dir: TempDir,
}

impl Shell {
    pub fn new() -> Self {
        Shell {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("NO_COLOR")
            .output()
            .unwrap()
    }

    /// Runs with `--database sqlite:app.db` and expects success.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(&with_db(args));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}\nstdout: {}\nstderr: {}",
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    /// Runs with `--database sqlite:app.db`, expects exit status `code`,
    /// and returns standard error.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let output = self.run(&with_db(args));
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}\nstdout: {}\nstderr: {}",
            text(&output.stdout),
            text(&output.stderr)
        );
        assert!(
            !text(&output.stderr).contains("panicked"),
            "{}",
            text(&output.stderr)
        );
        text(&output.stderr)
    }

    pub fn write(&self, name: &str, content: &str) {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// Writes the up and down files of a migration.
    pub fn migration(&self, stem: &str, up: &str, down: &str) {
        self.write(&format!("migrations/{stem}.up.sql"), up);
        self.write(&format!("migrations/{stem}.down.sql"), down);
    }

    pub fn database(&self) -> Vec<u8> {
        std::fs::read(self.path("app.db")).unwrap()
    }

    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path("migrations"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

pub fn with_db<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--database", "sqlite:app.db"];
    all.extend_from_slice(args);
    all
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
