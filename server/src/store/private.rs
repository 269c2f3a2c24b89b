//! The data directory and its files readable by their owner only: the store holds whatever
//! the instrumented services sent (URLs, queries, user ids), so it is 0700 and its files 0600,
//! whatever the umask, and a directory or file left wider by an older otelscope is narrowed.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// The data directory's mode: its owner only.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Every file in it: the database, its `-wal` and `-shm`, the lock file.
pub(crate) const FILE_MODE: u32 = 0o600;
/// SQLite's companions of `otelscope.db` (it gives new ones the database's own mode).
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Creates `dir` (and its missing parents) as 0700, or narrows an existing one to 0700.
pub(crate) fn create_dir(dir: &Path) -> std::io::Result<()> {
    // Parents made here get the same mode: nobody needs to list them either.
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    narrow(dir, DIR_MODE)
}

/// Opens (creating if needed, never truncating) `path` for reading and writing as 0600.
pub(crate) fn open_file(path: &Path) -> std::io::Result<std::fs::File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)?;
    // The mode above only applies to a file created now, and through the umask.
    narrow(path, FILE_MODE)?;
    Ok(file)
}

/// Creates the database file `db` as 0600 before SQLite opens it (so its `-wal` and `-shm`,
/// which SQLite creates with the database's mode, are 0600 too), and narrows a database and
/// companions that already exist (never widening one: a read-only database stays read-only,
/// and opening it says so).
pub(crate) fn prepare_database(db: &Path) -> std::io::Result<()> {
    match OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(db) {
        Ok(file) => file.set_permissions(Permissions::from_mode(FILE_MODE))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => narrow(db, FILE_MODE)?,
        Err(e) => return Err(e),
    }
    for suffix in COMPANIONS {
        let mut companion = db.as_os_str().to_owned();
        companion.push(suffix);
        match narrow(Path::new(&companion), FILE_MODE) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

/// Sets `path`'s mode to `mode` if it allows more; a stricter mode is left as it is.
fn narrow(path: &Path, mode: u32) -> std::io::Result<()> {
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        std::fs::set_permissions(path, Permissions::from_mode(current & mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_and_existing_paths_end_up_owner_only() {
        let root = std::env::temp_dir().join(format!("otelscope-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let fresh = root.join("a/b");
        create_dir(&fresh).unwrap();
        assert_eq!((mode(&root.join("a")), mode(&fresh)), (0o700, 0o700));

        let old = root.join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::set_permissions(&old, Permissions::from_mode(0o755)).unwrap();
        let db = old.join("otelscope.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, Permissions::from_mode(0o644)).unwrap();
        std::fs::write(old.join("otelscope.db-wal"), b"").unwrap();
        std::fs::set_permissions(old.join("otelscope.db-wal"), Permissions::from_mode(0o664))
            .unwrap();
        create_dir(&old).unwrap();
        prepare_database(&db).unwrap();
        assert_eq!(mode(&old), 0o700);
        assert_eq!((mode(&db), mode(&old.join("otelscope.db-wal"))), (0o600, 0o600));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
