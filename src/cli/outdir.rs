//! Output directories that survive a crash: a run, sweep, hunt or plan writes its files into
//! a staging folder inside its output directory and moves them in only when all of them are
//! written, so a killed process never leaves files of two runs side by side looking like
//! one complete output.
//!
//! The protocol (docs in the README, "Output directories"):
//! 1. `prepare`: the directory is created if missing. An existing one is geosim's when it
//!    holds the list [`LIST`]; then every file the list names (an earlier run's outputs) is
//!    removed, with any staging folder a killed run left. A non-empty directory without the
//!    list is someone else's and is refused, unless `--force` (then nothing in it is removed;
//!    files of the same names are replaced).
//! 2. The caller writes into [`OutDir::staging`].
//! 3. `commit`: the list is written naming every staged file and marked `incomplete`, each
//!    file is renamed into the directory (a rename within one file system is atomic), and the
//!    list is rewritten marked `complete`. Every list write is itself a write to a temporary
//!    name and a rename.
//!
//! A process killed before the commit leaves the directory without the earlier outputs and
//! without any new ones (only the list, naming none, and the staging folder the next run
//! removes); killed during the commit, it leaves some of the new files and a list that says
//! `incomplete`.

use std::io;
use std::path::{Path, PathBuf};

/// The list of the files geosim wrote into an output directory.
pub(crate) const LIST: &str = ".geosim-outputs";
/// The staging folder inside an output directory.
const STAGING: &str = ".geosim-staging";

/// An output directory being written.
#[derive(Debug)]
pub(crate) struct OutDir {
    dir: PathBuf,
    staging: PathBuf,
}

impl OutDir {
    /// Makes `dir` ready for a new set of outputs (see the module documentation). The error
    /// says what to do, and names `flag` (e.g. `--report`).
    pub(crate) fn prepare(dir: &Path, flag: &str, force: bool) -> Result<OutDir, String> {
        let shown = dir.display();
        if dir.exists() && !dir.is_dir() {
            return Err(format!(
                "{flag} {shown}: a file, not a directory: give a directory (it is created if missing)"
            ));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{flag} {shown}: cannot create it: {e}"))?;
        let fail = |e: io::Error| format!("{flag} {shown}: {e}");
        let list = dir.join(LIST);
        if list.exists() {
            let text = std::fs::read_to_string(&list).map_err(fail)?;
            for name in listed(&text) {
                remove_if_present(&dir.join(name)).map_err(fail)?;
            }
        } else if !force {
            let foreign = std::fs::read_dir(dir)
                .map_err(fail)?
                .filter_map(|e| e.ok())
                .any(|e| e.file_name() != STAGING);
            if foreign {
                return Err(format!(
                    "{flag} {shown}: the directory holds files geosim did not write (it has no {LIST} list); give an empty or new directory, or --force to write into it anyway (files of the same names are replaced, nothing else is removed)"
                ));
            }
        }
        let staging = dir.join(STAGING);
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(fail)?;
        }
        std::fs::create_dir(&staging).map_err(fail)?;
        let out = OutDir {
            dir: dir.to_path_buf(),
            staging,
        };
        out.write_list(&[], false).map_err(fail)?;
        Ok(out)
    }

    /// Where the outputs are written before [`OutDir::commit`] moves them in.
    pub(crate) fn staging(&self) -> &Path {
        &self.staging
    }

    /// The output directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Moves every staged file into the directory and marks the list complete.
    pub(crate) fn commit(self) -> io::Result<()> {
        let mut names: Vec<String> = std::fs::read_dir(&self.staging)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<_>>()?;
        names.sort();
        self.write_list(&names, false)?;
        for n in &names {
            std::fs::rename(self.staging.join(n), self.dir.join(n))?;
        }
        self.write_list(&names, true)?;
        std::fs::remove_dir(&self.staging)
    }

    fn write_list(&self, names: &[String], complete: bool) -> io::Result<()> {
        let mut text = format!(
            "# Files geosim wrote here (the next run into this directory removes them first).\nstatus = {}\n",
            if complete { "complete" } else { "incomplete" }
        );
        for n in names {
            text.push_str(n);
            text.push('\n');
        }
        write_atomic(&self.dir.join(LIST), text.as_bytes())
    }
}

/// The file names a list holds (never a path: a list edited to name `../x` removes nothing
/// outside its directory).
fn listed(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| {
        !l.is_empty()
            && !l.starts_with('#')
            && !l.starts_with("status = ")
            && !l.contains(['/', '\\'])
            && *l != "."
            && *l != ".."
    })
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// that a reader (or a crash) sees the old file or the new one, never a part.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other(format!("{} names no file", path.display())))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    // A rewritten file (a blessed scenario) keeps its permissions.
    let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
    let written = std::fs::write(&tmp, bytes)
        .and_then(|_| mode.map_or(Ok(()), |m| std::fs::set_permissions(&tmp, m)))
        .and_then(|_| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("geosim-outdir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_second_run_replaces_the_first_runs_files_and_only_those() {
        let d = scratch("replace");
        let o = OutDir::prepare(&d, "--out", false).unwrap();
        std::fs::write(o.staging().join("a.txt"), "1").unwrap();
        std::fs::write(o.staging().join("b.txt"), "1").unwrap();
        o.commit().unwrap();
        let list = std::fs::read_to_string(d.join(LIST)).unwrap();
        assert!(list.contains("status = complete\na.txt\nb.txt\n"), "{list}");
        // The second run writes only a.txt: b.txt of the first must not stay beside it.
        let o = OutDir::prepare(&d, "--out", false).unwrap();
        assert!(!d.join("a.txt").exists() && !d.join("b.txt").exists());
        std::fs::write(o.staging().join("a.txt"), "2").unwrap();
        o.commit().unwrap();
        assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "2");
        assert!(!d.join("b.txt").exists());
        assert!(!d.join(STAGING).exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_foreign_directory_is_refused_unless_forced_and_then_kept() {
        let d = scratch("foreign");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("notes.txt"), "mine").unwrap();
        let e = OutDir::prepare(&d, "--report", false).unwrap_err();
        assert!(e.contains("holds files geosim did not write"), "{e}");
        assert!(e.contains("--force"), "{e}");
        let o = OutDir::prepare(&d, "--report", true).unwrap();
        std::fs::write(o.staging().join("a.txt"), "1").unwrap();
        o.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join("notes.txt")).unwrap(),
            "mine"
        );
        // Now geosim's: a later run needs no --force, and removes only what it listed.
        let o = OutDir::prepare(&d, "--report", false).unwrap();
        o.commit().unwrap();
        assert!(d.join("notes.txt").exists() && !d.join("a.txt").exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_run_killed_before_its_commit_leaves_no_outputs_of_either_run() {
        let d = scratch("killed");
        let o = OutDir::prepare(&d, "--out", false).unwrap();
        std::fs::write(o.staging().join("summary.json"), "old").unwrap();
        o.commit().unwrap();
        // The next run is "killed" after writing into its staging folder.
        let o = OutDir::prepare(&d, "--out", false).unwrap();
        std::fs::write(o.staging().join("summary.json"), "new").unwrap();
        std::mem::forget(o);
        assert!(!d.join("summary.json").exists());
        let list = std::fs::read_to_string(d.join(LIST)).unwrap();
        assert!(list.contains("status = incomplete\n"), "{list}");
        // A later run starts clean without --force.
        let o = OutDir::prepare(&d, "--out", false).unwrap();
        assert_eq!(std::fs::read_dir(o.staging()).unwrap().count(), 0);
        o.commit().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_list_never_removes_anything_outside_its_directory() {
        let text = "status = complete\n../etc\n/abs\na/b\n.\n..\nok.txt\n";
        assert_eq!(listed(text).collect::<Vec<_>>(), vec!["ok.txt"]);
    }

    #[test]
    fn an_atomic_write_replaces_the_whole_file() {
        let d = scratch("atomic");
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("s.toml");
        std::fs::write(&p, "old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "no temporary left"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
