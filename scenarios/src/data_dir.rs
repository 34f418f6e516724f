//! Where `quorum up` keeps its state: the data directory and the journal in it.

use std::path::{Path, PathBuf};

use crate::live_error::LiveError;

/// The variable that moves the data directory (the `--data-dir` flag wins).
pub const DATA_DIR_ENV: &str = "QUORUM_DATA_DIR";
/// The supervisor's journal, inside the data directory.
pub const JOURNAL_FILE: &str = "journal.redb";

/// `$QUORUM_DATA_DIR`, else `$HOME/.quorum/data` (beside the token file `up`
/// writes to `$HOME/.quorum/token`; `.quorum/data` under the working directory
/// when `HOME` is unset).
pub fn data_dir_default() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::var_os("HOME").map_or_else(PathBuf::new, PathBuf::from).join(".quorum").join("data")
}

/// The journal's path in `dir`, creating `dir` when missing (readable by its owner
/// alone: the journal holds the tasks' texts and answers).
///
/// # Errors
/// [`LiveError::BadInput`] naming `dir` when it cannot be created or is not a
/// directory.
pub fn journal_in(dir: &Path) -> Result<PathBuf, LiveError> {
    private_dir(dir)?;
    Ok(dir.join(JOURNAL_FILE))
}

/// Creates `dir` when missing, readable by its owner alone (journals, agent keys).
///
/// # Errors
/// [`LiveError::BadInput`] naming `dir` when it cannot be created or is not a
/// directory.
pub fn private_dir(dir: &Path) -> Result<(), LiveError> {
    let refused = |detail: String| LiveError::BadInput(format!("--data-dir {}: {detail}", dir.display()));
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|error| refused(format!("cannot create it: {error}")))?;
    }
    if !dir.is_dir() {
        return Err(refused("not a directory".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_data_dir_is_made_private_and_a_file_is_refused_by_name() {
        let temp = std::env::temp_dir().join(format!("quorum-data-dir-{}", std::process::id()));
        let dir = temp.join("nested").join("data");
        assert_eq!(journal_in(&dir).unwrap(), dir.join(JOURNAL_FILE));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        }
        // Again: the directory exists, and is kept.
        assert_eq!(journal_in(&dir).unwrap(), dir.join(JOURNAL_FILE));
        let file = temp.join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let error = journal_in(&file).unwrap_err().to_string();
        assert!(error.contains("a-file") && error.contains("not a directory"), "{error}");
        std::fs::remove_dir_all(&temp).unwrap();
    }
}
