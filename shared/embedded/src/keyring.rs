//! The local master key: 32 random bytes in `<data-dir>/master.key`, mode 0600, created on
//! first start. Losing the file makes sealed credentials unreadable, as it should.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use switchyard_core::keyring::MasterKeyRing;

const KEY_ID: &str = "local1";

pub fn open_file_key_ring(path: &Path) -> std::io::Result<MasterKeyRing> {
    let key: [u8; 32] = match fs::read(path) {
        Ok(bytes) => bytes.try_into().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} must hold exactly 32 bytes", path.display()),
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKeyRing::generate_key();
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)?;
            file.write_all(&key)?;
            file.sync_all()?;
            key
        }
        Err(e) => return Err(e),
    };
    Ok(MasterKeyRing::new(KEY_ID, [(KEY_ID.to_owned(), key)]))
}
