//! Named shared memory: POSIX shared-memory objects (`shm_open`) and regular
//! files, opened so that a planted symlink, a FIFO or a device cannot be
//! passed off as an object, and mapped shared.
//!
//! Nothing here decides policy (who may open what, what the first bytes
//! mean): that is `core::named`. Every descriptor is close-on-exec and is
//! closed as soon as the object is mapped.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// Where a named object lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A POSIX shared-memory object; the full name, leading `/` included.
    Shm(CString),
    /// A regular file at this path.
    File(CString),
}

impl Target {
    fn open_raw(&self, flags: libc::c_int, mode: libc::mode_t) -> io::Result<OwnedFd> {
        let fd = match self {
            // glibc's shm_open adds O_NOFOLLOW and O_CLOEXEC itself; macOS's
            // objects are not in a file system, so there is nothing to follow.
            // SAFETY: `name` is a NUL-terminated string that outlives the call.
            Target::Shm(name) => unsafe {
                libc::shm_open(name.as_ptr(), flags, mode as libc::c_uint)
            },
            // O_NONBLOCK: opening a FIFO or a device planted at the path must
            // not block; fstat refuses them right after.
            // SAFETY: as above; the mode is passed as the variadic argument.
            Target::File(path) => unsafe {
                libc::open(
                    path.as_ptr(),
                    flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK,
                    mode as libc::c_uint,
                )
            },
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        set_close_on_exec(&fd)?;
        Ok(fd)
    }

    /// Opens an existing object for reading and writing.
    pub fn open_existing(&self) -> io::Result<OwnedFd> {
        self.open_raw(libc::O_RDWR, 0)
    }

    /// Opens an existing object for reading only (to look at its header).
    pub fn open_read_only(&self) -> io::Result<OwnedFd> {
        self.open_raw(libc::O_RDONLY, 0)
    }

    /// Creates the object, failing with `EEXIST` if it exists. It is
    /// created owner-only; [`set_mode`] then gives it its exact mode.
    pub fn create_exclusive(&self) -> io::Result<OwnedFd> {
        self.open_raw(libc::O_RDWR | libc::O_CREAT | libc::O_EXCL, 0o600)
    }

    /// Removes the name; processes that have the object mapped keep it.
    pub fn unlink(&self) -> io::Result<()> {
        let rc = match self {
            // SAFETY: a NUL-terminated name.
            Target::Shm(name) => unsafe { libc::shm_unlink(name.as_ptr()) },
            // SAFETY: a NUL-terminated path.
            Target::File(path) => unsafe { libc::unlink(path.as_ptr()) },
        };
        check(rc)
    }

    /// The name or path as given (for messages).
    pub fn as_c_str(&self) -> &CStr {
        match self {
            Target::Shm(name) | Target::File(name) => name,
        }
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn set_close_on_exec(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: a valid descriptor; F_SETFD takes an int.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })
}

/// What `fstat` says about an open object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    pub is_regular: bool,
    pub owner: u32,
    /// The permission bits (`0o777` and below).
    pub permissions: u32,
    pub len: u64,
}

/// `fstat` of an open object.
pub fn file_info(fd: &OwnedFd) -> io::Result<FileInfo> {
    // SAFETY: `stat` is plain data, for which all zeroes is valid.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a writable stat buffer.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut stat) })?;
    Ok(FileInfo {
        is_regular: stat.st_mode & libc::S_IFMT == libc::S_IFREG,
        owner: stat.st_uid,
        // mode_t is 16 bits on macOS, 32 on Linux.
        permissions: stat.st_mode as u32 & 0o777,
        len: u64::try_from(stat.st_size).unwrap_or(0),
    })
}

/// Gives the object exactly `mode` (`fchmod` ignores the umask).
pub fn set_mode(fd: &OwnedFd, mode: u32) -> io::Result<()> {
    let mode = libc::mode_t::try_from(mode & 0o777)
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a valid descriptor.
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode) })
}

/// Sets the object's length (new bytes read as zero). macOS lets a
/// shared-memory object be sized once only: later calls fail with `EINVAL`.
pub fn set_len(fd: &OwnedFd, len: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    // SAFETY: a valid descriptor.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), len) })
}

/// Tries to take an exclusive `flock` on the object, without blocking:
/// `Ok(true)` when taken, `Ok(false)` when another descriptor holds it.
/// The kernel drops the lock when the descriptor is closed or its process
/// dies. `Err(Unsupported)` where the object cannot be locked (macOS's
/// shared-memory objects).
pub fn try_lock(fd: &OwnedFd) -> io::Result<bool> {
    // SAFETY: a valid descriptor.
    let rc = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        Some(libc::EINTR) => Ok(false),
        Some(errno) if [libc::ENOTSUP, libc::EOPNOTSUPP, libc::EINVAL].contains(&errno) => {
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
        _ => Err(err),
    }
}

/// Releases a lock taken by [`try_lock`].
pub fn unlock(fd: &OwnedFd) {
    // SAFETY: a valid descriptor; unlocking a lock we hold cannot fail in a
    // way we could act on (closing the descriptor releases it anyway).
    unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_UN) };
}

/// Maps `len` bytes of the object shared, from its start. The mapping
/// stays valid after `fd` is closed; unmap it with `platform::unmap`.
pub fn map_file(fd: &OwnedFd, len: usize) -> io::Result<NonNull<u8>> {
    map_with(fd, len, libc::PROT_READ | libc::PROT_WRITE)
}

/// Like [`map_file`], read-only.
pub fn map_file_read_only(fd: &OwnedFd, len: usize) -> io::Result<NonNull<u8>> {
    map_with(fd, len, libc::PROT_READ)
}

fn map_with(fd: &OwnedFd, len: usize, protection: libc::c_int) -> io::Result<NonNull<u8>> {
    // SAFETY: a fresh mapping with a null hint touches no existing memory;
    // the result is checked for MAP_FAILED before use.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            protection,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    NonNull::new(ptr.cast()).ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))
}

/// This process's effective user id, the one that owns what it creates.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The names of the shared-memory objects whose names start with `prefix`
/// (leading `/` not included), or `None` where the system cannot list them
/// (macOS has no directory of shared-memory objects).
pub fn list_shm(prefix: &str) -> Option<Vec<String>> {
    if cfg!(target_os = "linux") {
        let entries = std::fs::read_dir("/dev/shm").ok()?;
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with(prefix))
            .collect();
        names.sort();
        Some(names)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unique(tag: &str) -> String {
        format!("rbps.t{}{}", tag, std::process::id())
    }

    #[test]
    fn a_shm_object_is_created_once_sized_mapped_and_unlinked() {
        let target = Target::Shm(CString::new(format!("/{}", unique("a"))).unwrap());
        let _ = target.unlink();
        let fd = target.create_exclusive().unwrap();
        assert_eq!(
            target.create_exclusive().unwrap_err().raw_os_error(),
            Some(libc::EEXIST)
        );
        set_mode(&fd, 0o640).unwrap();
        set_len(&fd, 100).unwrap();
        let info = file_info(&fd).unwrap();
        assert!(info.is_regular);
        assert_eq!(info.permissions, 0o640);
        assert_eq!(info.owner, effective_uid());
        assert!(info.len >= 100);
        let base = map_file(&fd, 100).unwrap();
        drop(fd);
        let again = target.open_existing().unwrap();
        let other = map_file(&again, 100).unwrap();
        // SAFETY: both mappings are 100 bytes of the same object.
        unsafe {
            base.as_ptr().write(42);
            assert_eq!(other.as_ptr().read_volatile(), 42);
            crate::platform::unmap(base, 100);
            crate::platform::unmap(other, 100);
        }
        if cfg!(target_os = "linux") {
            assert!(list_shm("rbps.ta").unwrap().contains(&unique("a")));
        }
        target.unlink().unwrap();
        assert_eq!(
            target.open_existing().unwrap_err().raw_os_error(),
            Some(libc::ENOENT)
        );
    }

    #[test]
    fn descriptors_are_close_on_exec() {
        let target = Target::Shm(CString::new(format!("/{}", unique("c"))).unwrap());
        let fd = target.create_exclusive().unwrap();
        target.unlink().unwrap();
        // SAFETY: a valid descriptor.
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    }

    #[test]
    fn a_symlink_at_a_path_is_refused() {
        let dir = std::env::temp_dir();
        let victim = dir.join(unique("victim"));
        let link = dir.join(unique("link"));
        std::fs::write(&victim, b"precious").unwrap();
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let target = Target::File(CString::new(link.to_str().unwrap()).unwrap());
        let err = target.open_existing().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
        assert_eq!(
            target.create_exclusive().unwrap_err().raw_os_error(),
            Some(libc::EEXIST)
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_file(&victim).unwrap();
    }

    #[test]
    fn a_fifo_opens_without_blocking_and_is_not_regular() {
        let path = std::env::temp_dir().join(unique("fifo"));
        let c_path = CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let target = Target::File(c_path);
        let fd = target.open_existing().unwrap();
        assert!(!file_info(&fd).unwrap().is_regular);
        target.unlink().unwrap();
    }

    #[test]
    fn flock_excludes_another_descriptor_until_released() {
        let target = Target::Shm(CString::new(format!("/{}", unique("l"))).unwrap());
        let first = target.create_exclusive().unwrap();
        let second = target.open_existing().unwrap();
        target.unlink().unwrap();
        match try_lock(&first) {
            Err(err) if err.kind() == io::ErrorKind::Unsupported => return,
            taken => assert!(taken.unwrap()),
        }
        assert!(!try_lock(&second).unwrap());
        unlock(&first);
        assert!(try_lock(&second).unwrap());
    }
}
