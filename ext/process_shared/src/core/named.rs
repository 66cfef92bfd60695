//! Named objects: the state of any class in a POSIX shared-memory object
//! (`name:`) or a regular file (`path:`), so that processes that are not
//! parent and child can share it.
//!
//! A class gives only a [`Layout`] (its tag, element type, count and state
//! size) and a function that initializes fresh, zero-filled state; [`open`]
//! does the rest and returns a [`SharedRegion`] like the anonymous one.
//!
//! # Layout of a named object
//!
//! | bytes            | what                                                 |
//! |------------------|------------------------------------------------------|
//! | 0..8             | magic `RBPSHOBJ`                                     |
//! | 8..12            | layout version ([`LAYOUT_VERSION`])                  |
//! | 12..16           | state: 0 not ready, [`READY`] once initialized       |
//! | 16..24           | claim: 0, or the process key of its initializer      |
//! | 24..32, 32..40   | element count, state size in bytes                   |
//! | 40..72, 72..88   | class tag, element type (NUL-padded)                 |
//! | [`HEADER_LEN`].. | the class's state                                    |
//!
//! # Creating without races
//!
//! The name is created with `O_EXCL`, given its exact mode (`fchmod`,
//! whatever the umask) and sized; then whoever wins the compare-and-swap of
//! `claim` from 0 to its process key writes the header and the class's
//! fresh state and finally stores `READY`. Everyone else waits for `READY`
//! and checks the header against what it expected. A creator killed at any
//! step leaves a name the next opener can use: a zero-length object is
//! sized by whoever opens it next (under `flock`, so two openers expecting
//! different sizes cannot shrink it under each other), and a claim held by
//! a process that is gone is taken over and the state initialized afresh.
//! Initial values are thus applied exactly once, by the one initializer.

use super::error::CoreError;
use super::identity::current_process;
use super::region::SharedRegion;
use crate::platform::{self, named as os, named::Target};
use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// What every name gets in front of it in the system's namespace, so that
/// the gem's objects stay apart from other programs' in `/dev/shm`.
pub const PREFIX: &str = "rbps.";
/// The longest name: `/`, the prefix and the name fit macOS's 31 bytes.
pub const MAX_NAME_LEN: usize = 24;
/// Bytes before the class's state; a multiple of every alignment we need.
pub const HEADER_LEN: usize = 128;
/// Bumped whenever the header or any class's state layout changes.
pub const LAYOUT_VERSION: u32 = 3;
/// The value of `state` once the object is initialized.
pub const READY: u32 = 0x5245_4459;
/// The mode of objects created without `mode:`.
pub const DEFAULT_MODE: u32 = 0o600;

const MAGIC: [u8; 8] = *b"RBPSHOBJ";
const CLASS_LEN: usize = 32;
const ELEMENT_LEN: usize = 16;

#[repr(C)]
struct Header {
    magic: [u8; 8],
    version: u32,
    state: AtomicU32,
    claim: AtomicU64,
    count: u64,
    size: u64,
    class: [u8; CLASS_LEN],
    element: [u8; ELEMENT_LEN],
}

const _: () = assert!(std::mem::size_of::<Header>() <= HEADER_LEN);

/// What `create:` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Open the object, creating it if missing (`create: true`).
    OpenOrCreate,
    /// Create it; `EEXIST` if it exists (`create: :exclusive`).
    Exclusive,
    /// Open it; `ENOENT` if missing (`create: false`).
    OpenOnly,
}

/// Which object to open, and how.
#[derive(Debug, Clone)]
pub struct NamedSpec {
    pub origin: Origin,
    pub create: Create,
    /// `mode:` if given: the mode a created object gets, and the mode an
    /// existing one must have.
    pub mode: Option<u32>,
}

/// Where a named region came from: what `#name`/`#path` report and what
/// `#unlink` removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The name as the caller gave it (shared memory), or `None` for a file.
    pub name: Option<String>,
    /// The file's path, or where the system shows a shared-memory object
    /// (`/dev/shm/...` on Linux; `None` on macOS, which shows it nowhere).
    pub path: Option<String>,
    pub target: Target,
}

impl Origin {
    /// A shared-memory object named `name` (checked: see [`check_name`]).
    pub fn shm(name: &str) -> Result<Origin, NamedError> {
        check_name(name)?;
        let full = format!("/{PREFIX}{name}");
        let path = cfg!(target_os = "linux").then(|| format!("/dev/shm{full}"));
        Ok(Origin {
            name: Some(name.to_string()),
            path,
            target: Target::Shm(CString::new(full).expect("checked names hold no NUL")),
        })
    }

    /// A regular file at `path` (any path the system accepts, but not
    /// empty and without NUL).
    pub fn file(path: &str) -> Result<Origin, NamedError> {
        if path.is_empty() {
            return Err(NamedError::Invalid("path must not be empty".into()));
        }
        let c_path = CString::new(path)
            .map_err(|_| NamedError::Invalid("path must not contain NUL".into()))?;
        Ok(Origin {
            name: None,
            path: Some(path.to_string()),
            target: Target::File(c_path),
        })
    }

    /// The name or path, for messages.
    pub fn describe(&self) -> String {
        match (&self.name, &self.path) {
            (Some(name), _) => format!("name {name:?}"),
            (None, Some(path)) => format!("path {path:?}"),
            (None, None) => "anonymous object".to_string(),
        }
    }

    /// Removes the name; `Ok(false)` if it did not exist.
    pub fn unlink(&self) -> Result<bool, NamedError> {
        match self.target.unlink() {
            Ok(()) => Ok(true),
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(err) => Err(NamedError::os(err, &self.describe())),
        }
    }
}

/// Checks a name: 1 to [`MAX_NAME_LEN`] bytes of `A-Z a-z 0-9 . _ -`,
/// starting with a letter or digit. Portable to every system's shared
/// memory, and never a path.
pub fn check_name(name: &str) -> Result<(), NamedError> {
    let valid_chars = name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    let starts_well = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    if name.len() > MAX_NAME_LEN || !valid_chars || !starts_well {
        return Err(NamedError::Invalid(format!(
            "invalid name {name:?}: use 1 to {MAX_NAME_LEN} characters of A-Z a-z 0-9 . _ -, \
             starting with a letter or digit"
        )));
    }
    Ok(())
}

/// What a class stores, as recorded in the header and checked on opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout<'a> {
    /// The class tag (at most 32 bytes), e.g. `ProcessShared::Mutex`.
    pub class: &'a str,
    /// The element type (at most 16 bytes), or `""`.
    pub element: &'a str,
    /// How many elements (1 for classes without elements).
    pub count: u64,
    /// The size of the class's state in bytes (positive).
    pub size: usize,
}

impl Layout<'_> {
    fn describe(&self) -> String {
        if self.element.is_empty() {
            format!("{} bytes", self.size)
        } else {
            format!("{} {} ({} bytes)", self.count, self.element, self.size)
        }
    }
}

/// Why a named object could not be opened.
#[derive(Debug)]
pub enum NamedError {
    /// Another class is stored there, or no object of this gem at all
    /// (`TypeError`).
    WrongKind(String),
    /// Bad name, mode or size, or another element type or size is stored
    /// there (`ArgumentError`).
    Invalid(String),
    /// The system refused (`Errno::*`), with a message naming the object.
    Os { errno: i32, message: String },
    /// Any other failure of the core.
    Core(CoreError),
}

impl NamedError {
    fn os(err: io::Error, what: &str) -> NamedError {
        match err.raw_os_error() {
            Some(errno) => NamedError::Os {
                errno,
                message: what.to_string(),
            },
            None => NamedError::Core(CoreError::Os(err)),
        }
    }
}

impl From<CoreError> for NamedError {
    fn from(err: CoreError) -> Self {
        NamedError::Core(err)
    }
}

impl fmt::Display for NamedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamedError::WrongKind(message) | NamedError::Invalid(message) => f.write_str(message),
            NamedError::Os { errno, message } => {
                write!(f, "{message}: {}", io::Error::from_raw_os_error(*errno))
            }
            NamedError::Core(err) => err.fmt(f),
        }
    }
}

/// The steps of opening, reported to a test hook so that tests can kill the
/// opener at each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The name was created (empty, owner-only).
    NameCreated,
    /// Its mode was set.
    ModeSet,
    /// It was sized.
    Sized,
    /// This process claimed the initialization.
    Claimed,
    /// The header was written.
    HeaderWritten,
    /// The class's state was initialized; `READY` comes next.
    StateInitialized,
}

impl Step {
    /// Every step, in the order an opener that creates the name takes them.
    #[cfg(test)]
    pub const ALL: [Step; 6] = [
        Step::NameCreated,
        Step::ModeSet,
        Step::Sized,
        Step::Claimed,
        Step::HeaderWritten,
        Step::StateInitialized,
    ];
}

/// What the binding supplies to [`open`].
pub struct Hooks<'a> {
    /// Called while another process initializes the object; sleeps a short
    /// while (GVL released, interruptible) or returns an error to give up.
    pub pause: &'a mut dyn FnMut() -> Result<(), NamedError>,
    /// Called after each [`Step`] (tests only; does nothing otherwise).
    pub on_step: &'a mut dyn FnMut(Step),
}

/// An opened named object: the class's state, and whether this call
/// initialized it (so the caller knows whether its initial values were
/// applied).
#[derive(Debug)]
pub struct Opened {
    pub region: SharedRegion,
    pub initialized_here: bool,
}

/// Opens (or creates, as `spec.create` says) the named object for a class
/// with `layout`, running `init_fresh` on zero-filled state if and only if
/// this call is the one that initializes it. The descriptor is closed
/// before returning.
pub fn open(
    spec: &NamedSpec,
    layout: &Layout<'_>,
    init_fresh: impl FnOnce(&SharedRegion) -> Result<(), CoreError>,
    hooks: &mut Hooks<'_>,
) -> Result<Opened, NamedError> {
    check_layout(layout)?;
    if let Some(mode) = spec.mode {
        if mode > 0o777 {
            return Err(NamedError::Invalid(format!(
                "mode 0o{mode:o} is not a permission mode (0 to 0o777)"
            )));
        }
    }
    let what = spec.origin.describe();
    let total = HEADER_LEN + layout.size;
    let (fd, created) = open_fd(spec, &what)?;
    if created {
        (hooks.on_step)(Step::NameCreated);
        os::set_mode(&fd, spec.mode.unwrap_or(DEFAULT_MODE))
            .map_err(|err| NamedError::os(err, &what))?;
        (hooks.on_step)(Step::ModeSet);
    }
    let info = os::file_info(&fd).map_err(|err| NamedError::os(err, &what))?;
    if !info.is_regular {
        return Err(NamedError::WrongKind(format!(
            "{what} is not a regular file"
        )));
    }
    if !created {
        check_access(&info, spec.mode, &what)?;
    }
    let len = size_if_empty(&fd, info.len, total as u64, &what)?;
    (hooks.on_step)(Step::Sized);
    if len < HEADER_LEN as u64 {
        return Err(NamedError::WrongKind(format!(
            "{what} is not a process_shared object (only {len} bytes)"
        )));
    }
    if len < total as u64 {
        // Too small for what we expect: map the header alone to say what
        // is stored there instead.
        let header = Mapping::new(&fd, HEADER_LEN, &what)?;
        drop(fd);
        wait_until_ready(header.header(), hooks)?;
        check_header(header.header(), layout, &what)?;
        return Err(NamedError::WrongKind(format!(
            "{what} is truncated: {len} bytes, {total} expected"
        )));
    }
    let mapping = Mapping::new(&fd, total, &what)?;
    drop(fd);
    let origin = spec.origin.clone();
    // A file of any other length that is not ready is someone else's data,
    // however it starts: only one we sized (or a shared-memory object, which
    // macOS rounds up to pages) is initialized in place.
    let may_initialize = len == total as u64 || matches!(origin.target, Target::Shm(_));
    let initialized_here =
        ready_or_initialize(&mapping, layout, may_initialize, init_fresh, hooks)?;
    check_header(mapping.header(), layout, &what)?;
    let (base, mapped_len) = mapping.into_raw();
    // SAFETY: base/mapped_len are one map_file result now owned by the
    // region alone; HEADER_LEN + size == mapped_len.
    let region = unsafe {
        SharedRegion::from_named_mapping(base, mapped_len, HEADER_LEN, layout.size, Some(origin))
    };
    Ok(Opened {
        region,
        initialized_here,
    })
}

fn check_layout(layout: &Layout<'_>) -> Result<(), NamedError> {
    if layout.class.is_empty()
        || layout.class.len() > CLASS_LEN
        || layout.element.len() > ELEMENT_LEN
    {
        return Err(NamedError::Invalid(format!(
            "class tag {:?} or element type {:?} too long",
            layout.class, layout.element
        )));
    }
    if layout.size == 0 || layout.size > SharedRegion::MAX_LEN {
        return Err(NamedError::Invalid(format!(
            "size {} is not between 1 and {} bytes",
            layout.size,
            SharedRegion::MAX_LEN
        )));
    }
    Ok(())
}

/// Opens or creates the name as asked: the descriptor, and whether this
/// call created the name.
fn open_fd(spec: &NamedSpec, what: &str) -> Result<(OwnedFd, bool), NamedError> {
    let target = &spec.origin.target;
    let fail = |err: io::Error| NamedError::os(err, what);
    match spec.create {
        Create::Exclusive => Ok((target.create_exclusive().map_err(fail)?, true)),
        Create::OpenOnly => Ok((target.open_existing().map_err(fail)?, false)),
        Create::OpenOrCreate => {
            // Another process may unlink the name between our two attempts;
            // a few rounds settle any such race.
            let mut last = None;
            for _ in 0..100 {
                match target.create_exclusive() {
                    Ok(fd) => return Ok((fd, true)),
                    Err(err) if err.raw_os_error() == Some(libc::EEXIST) => {}
                    Err(err) => return Err(fail(err)),
                }
                match target.open_existing() {
                    Ok(fd) => return Ok((fd, false)),
                    Err(err) if err.raw_os_error() == Some(libc::ENOENT) => last = Some(err),
                    Err(err) => return Err(fail(err)),
                }
            }
            Err(fail(last.unwrap_or_else(|| {
                io::Error::from_raw_os_error(libc::ENOENT)
            })))
        }
    }
}

/// Refuses an existing object that another user owns, unless `mode:` was
/// given, and one whose permissions differ from a given `mode:`.
fn check_access(info: &os::FileInfo, mode: Option<u32>, what: &str) -> Result<(), NamedError> {
    let denied = |message: String| NamedError::Os {
        errno: libc::EACCES,
        message,
    };
    match mode {
        None if info.owner != os::effective_uid() => Err(denied(format!(
            "{what} is owned by uid {}; pass mode: to share objects between users",
            info.owner
        ))),
        Some(mode) if info.permissions != mode => Err(denied(format!(
            "{what} has mode 0o{:o}, not the 0o{mode:o} asked for",
            info.permissions
        ))),
        _ => Ok(()),
    }
}

/// Gives a zero-length object (just created, or whose creator died before
/// sizing it) its length; the length it has in the end.
fn size_if_empty(fd: &OwnedFd, len: u64, total: u64, what: &str) -> Result<u64, NamedError> {
    if len != 0 {
        return Ok(len);
    }
    let fail = |err: io::Error| NamedError::os(err, what);
    let locked = match os::try_lock(fd) {
        Ok(true) => true,
        Ok(false) => {
            // Held for one fstat and one ftruncate by a live process (the
            // kernel drops a dead one's): wait for it.
            let mut spins = 0u32;
            loop {
                std::thread::yield_now();
                if os::try_lock(fd).map_err(fail)? {
                    break true;
                }
                spins += 1;
                if spins > 100 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
        Err(err) if err.kind() == io::ErrorKind::Unsupported => false,
        Err(err) => return Err(fail(err)),
    };
    let sized = (|| {
        if os::file_info(fd)?.len == 0 {
            match os::set_len(fd, total) {
                // macOS sizes a shared-memory object once: someone did.
                Err(err) if !locked && err.raw_os_error() == Some(libc::EINVAL) => {}
                other => other?,
            }
        }
        Ok(os::file_info(fd)?.len)
    })();
    if locked {
        os::unlock(fd);
    }
    sized.map_err(fail)
}

/// A mapping of the start of a named object, unmapped on drop unless
/// handed over with `into_raw`.
struct Mapping {
    base: std::ptr::NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(fd: &OwnedFd, len: usize, what: &str) -> Result<Mapping, NamedError> {
        let base = os::map_file(fd, len).map_err(|err| NamedError::os(err, what))?;
        Ok(Mapping { base, len })
    }

    fn header(&self) -> &Header {
        // SAFETY: every mapping is at least HEADER_LEN >= size_of::<Header>
        // bytes, page-aligned; the header's fields are plain bytes and
        // atomics, valid for any bit pattern, and only written by an
        // initializer before it publishes READY (or by a takeover while
        // READY is unset).
        unsafe { &*self.base.as_ptr().cast::<Header>() }
    }

    fn into_raw(self) -> (std::ptr::NonNull<u8>, usize) {
        let parts = (self.base, self.len);
        std::mem::forget(self);
        parts
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: one map_file result, unmapped once, here.
        unsafe { platform::unmap(self.base, self.len) };
    }
}

/// Bits of a process key holding the start time; the pid is above them.
const START_BITS: u32 = 42;
const START_MASK: u64 = (1 << START_BITS) - 1;

fn my_key() -> u64 {
    let me = current_process();
    (u64::from(me.pid) << START_BITS) | (me.start_time & START_MASK)
}

fn key_is_gone(key: u64) -> bool {
    platform::process_is_gone((key >> START_BITS) as u32, key & START_MASK, START_MASK)
}

/// Waits until the object is `READY`, taking nothing over (for a header
/// mapped alone, to report what it holds).
fn wait_until_ready(header: &Header, hooks: &mut Hooks<'_>) -> Result<(), NamedError> {
    while header.state.load(Ordering::Acquire) != READY {
        let claim = header.claim.load(Ordering::Acquire);
        if claim == 0 || key_is_gone(claim) {
            // Nobody is initializing it with this size: report it as it is.
            return Ok(());
        }
        (hooks.pause)()?;
    }
    Ok(())
}

/// Returns once the object is `READY`: initialized by this call (`true`)
/// or by another process (`false`).
fn ready_or_initialize(
    mapping: &Mapping,
    layout: &Layout<'_>,
    may_initialize: bool,
    init_fresh: impl FnOnce(&SharedRegion) -> Result<(), CoreError>,
    hooks: &mut Hooks<'_>,
) -> Result<bool, NamedError> {
    let header = mapping.header();
    let me = my_key();
    loop {
        let state = header.state.load(Ordering::Acquire);
        if state == READY {
            return Ok(false);
        }
        if state != 0 || !may_initialize || !looks_like_ours(header) {
            // Someone else's data (a file given as `path:`): never overwrite it.
            return Ok(false);
        }
        match try_claim(header, me) {
            Claim::Won => {
                (hooks.on_step)(Step::Claimed);
                initialize(mapping, layout, init_fresh, hooks)?;
                return Ok(true);
            }
            Claim::AlreadyReady => return Ok(false),
            Claim::Held => (hooks.pause)()?,
        }
    }
}

/// What [`try_claim`] found.
#[derive(Debug, PartialEq, Eq)]
enum Claim {
    /// The caller holds the claim of an object that is not ready: it
    /// initializes it.
    Won,
    /// The object became ready meanwhile.
    AlreadyReady,
    /// A live process holds the claim (or another caller won it first).
    Held,
}

/// Claims the right to initialize a header that was not ready when last
/// read: from nobody, or from a process that is gone.
///
/// A claimant that is gone may have finished first: it stores `READY` and
/// exits between our read of `state` and our look at its claim. So after
/// winning the claim, `state` is read again; the gone claimant can write
/// nothing more, so what it shows is final, and a ready object is left
/// as it is instead of being initialized a second time.
fn try_claim(header: &Header, me: u64) -> Claim {
    let claim = header.claim.load(Ordering::Acquire);
    let claimable = claim == 0 || (claim != me && key_is_gone(claim));
    if !claimable
        || header
            .claim
            .compare_exchange(claim, me, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
    {
        return Claim::Held;
    }
    if header.state.load(Ordering::Acquire) == READY {
        return Claim::AlreadyReady;
    }
    Claim::Won
}

/// Whether a header that is not ready yet is one of ours being (or left
/// half) initialized: its magic is still zero or already ours.
fn looks_like_ours(header: &Header) -> bool {
    // SAFETY: a plain field of the mapped header, read by copy.
    let magic = unsafe { std::ptr::addr_of!(header.magic).read_volatile() };
    magic == MAGIC || magic == [0; 8]
}

/// Writes the header and fresh state, then publishes `READY`. The caller
/// holds the claim.
fn initialize(
    mapping: &Mapping,
    layout: &Layout<'_>,
    init_fresh: impl FnOnce(&SharedRegion) -> Result<(), CoreError>,
    hooks: &mut Hooks<'_>,
) -> Result<(), NamedError> {
    let base = mapping.base.as_ptr();
    // SAFETY: the mapping is HEADER_LEN + size bytes, and we hold the
    // claim: no other process writes the header's plain fields or the state
    // until READY, and nobody reads them before READY. A dead initializer's
    // half-written state is cleared first.
    unsafe {
        std::ptr::write_bytes(base.add(HEADER_LEN), 0, layout.size);
        let header = base.cast::<Header>();
        std::ptr::addr_of_mut!((*header).magic).write_volatile(MAGIC);
        std::ptr::addr_of_mut!((*header).version).write_volatile(LAYOUT_VERSION);
        std::ptr::addr_of_mut!((*header).count).write_volatile(layout.count);
        std::ptr::addr_of_mut!((*header).size).write_volatile(layout.size as u64);
        std::ptr::addr_of_mut!((*header).class).write_volatile(padded(layout.class));
        std::ptr::addr_of_mut!((*header).element).write_volatile(padded(layout.element));
    }
    (hooks.on_step)(Step::HeaderWritten);
    // A temporary region over the state, for `init_fresh` (which is given
    // the same view the class will use). It must not unmap on drop.
    // SAFETY: the view lies inside the live mapping, which outlives it; it
    // is forgotten, never dropped, so the mapping is unmapped only once.
    let view = unsafe {
        SharedRegion::from_named_mapping(mapping.base, mapping.len, HEADER_LEN, layout.size, None)
    };
    let result = init_fresh(&view);
    std::mem::forget(view);
    result?;
    (hooks.on_step)(Step::StateInitialized);
    mapping.header().state.store(READY, Ordering::Release);
    Ok(())
}

fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut out = [0u8; N];
    out[..text.len()].copy_from_slice(text.as_bytes());
    out
}

fn unpadded(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Compares a header with what the caller expects; the error names both.
fn check_header(header: &Header, layout: &Layout<'_>, what: &str) -> Result<(), NamedError> {
    let stored = read_header(header);
    let Some(stored) = stored else {
        return Err(NamedError::WrongKind(format!(
            "{what} is not a process_shared object (or its creator died before initializing it)"
        )));
    };
    if stored.version != LAYOUT_VERSION {
        return Err(NamedError::WrongKind(format!(
            "{what} has layout version {}, this version of process_shared reads {LAYOUT_VERSION}",
            stored.version
        )));
    }
    if stored.class != layout.class {
        return Err(NamedError::WrongKind(format!(
            "{what} is a {}, not a {}",
            stored.class, layout.class
        )));
    }
    let matches = stored.element == layout.element
        && stored.count == layout.count
        && stored.size == layout.size as u64;
    if !matches {
        let stored_layout = Layout {
            class: &stored.class,
            element: &stored.element,
            count: stored.count,
            size: usize::try_from(stored.size).unwrap_or(usize::MAX),
        };
        return Err(NamedError::Invalid(format!(
            "{what} holds {} of {}, not {}",
            stored.class,
            stored_layout.describe(),
            layout.describe()
        )));
    }
    Ok(())
}

/// What a ready header records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHeader {
    pub version: u32,
    pub class: String,
    pub element: String,
    pub count: u64,
    pub size: u64,
}

fn read_header(header: &Header) -> Option<StoredHeader> {
    if header.state.load(Ordering::Acquire) != READY {
        return None;
    }
    // SAFETY: plain fields of a mapped header, read by copy (another
    // process may write them only before READY, which we saw set).
    let (magic, version, count, size, class, element) = unsafe {
        (
            std::ptr::addr_of!(header.magic).read_volatile(),
            std::ptr::addr_of!(header.version).read_volatile(),
            std::ptr::addr_of!(header.count).read_volatile(),
            std::ptr::addr_of!(header.size).read_volatile(),
            std::ptr::addr_of!(header.class).read_volatile(),
            std::ptr::addr_of!(header.element).read_volatile(),
        )
    };
    (magic == MAGIC).then(|| StoredHeader {
        version,
        class: unpadded(&class),
        element: unpadded(&element),
        count,
        size,
    })
}

/// The gem's shared-memory objects (names without the prefix) with the
/// class tag each records (`None` when it cannot be read: another user's,
/// not initialized, not ours); `None` where the system cannot list them.
pub fn named_objects() -> Option<Vec<(String, Option<String>)>> {
    let names = os::list_shm(PREFIX)?;
    Some(
        names
            .into_iter()
            .filter_map(|full| {
                let name = full.strip_prefix(PREFIX)?.to_string();
                let class = Origin::shm(&name)
                    .ok()
                    .and_then(|origin| stored_class(&origin));
                Some((name, class))
            })
            .collect(),
    )
}

/// The class tag a named object records, if it can be read.
pub fn stored_class(origin: &Origin) -> Option<String> {
    let fd = origin.target.open_read_only().ok()?;
    let info = os::file_info(&fd).ok()?;
    if !info.is_regular || info.len < HEADER_LEN as u64 {
        return None;
    }
    let base = os::map_file_read_only(&fd, HEADER_LEN).ok()?;
    // SAFETY: HEADER_LEN mapped bytes, page-aligned; see `Mapping::header`.
    let stored = read_header(unsafe { &*base.as_ptr().cast::<Header>() });
    // SAFETY: the mapping just made, unmapped once.
    unsafe { platform::unmap(base, HEADER_LEN) };
    stored.map(|stored| stored.class)
}

/// Anything whose state is one [`SharedRegion`]: what `#name`, `#path`
/// and `#unlink` look at.
pub trait HasRegion {
    /// The region.
    fn region(&self) -> &SharedRegion;
}

impl<T: SharedState> HasRegion for T {
    fn region(&self) -> &SharedRegion {
        SharedState::region(self)
    }
}

/// A core type whose whole state lives in one [`SharedRegion`], so that it
/// can live in anonymous memory or in a named object alike. A class
/// implements this once and gets naming for free: see [`create`].
pub trait SharedState: Sized {
    /// What initializing fresh state needs (initial values; `()` if none).
    type Init;
    /// Bytes of state.
    fn state_size(init: &Self::Init) -> usize;
    /// Refuses bad initial values before anything is created or opened
    /// (they are checked even when an existing object ignores them).
    fn check_init(init: &Self::Init) -> Result<(), CoreError> {
        let _ = init;
        Ok(())
    }
    /// Initializes fresh, zero-filled state.
    fn init_state(region: &SharedRegion, init: Self::Init) -> Result<(), CoreError>;
    /// Wraps a region whose state is initialized.
    fn from_region(region: SharedRegion) -> Self;
    /// The region, for `#name`, `#path` and `#unlink`.
    fn region(&self) -> &SharedRegion;
}

/// Makes a `T` in fresh anonymous memory (what every class's `new` does).
pub fn anonymous<T: SharedState>(init: T::Init) -> Result<T, CoreError> {
    T::check_init(&init)?;
    let region = SharedRegion::new(T::state_size(&init))?;
    T::init_state(&region, init)?;
    Ok(T::from_region(region))
}

/// Makes a `T` in fresh anonymous memory, or (with `named`) in the named
/// object `spec` names, checked against `layout` (whose `size` must be
/// `T::state_size(&init)`). `init` is applied only if the state is
/// initialized here; the `bool` says whether it was.
pub fn create<T: SharedState>(
    named: Option<(&NamedSpec, &Layout<'_>)>,
    init: T::Init,
    hooks: &mut Hooks<'_>,
) -> Result<(T, bool), NamedError> {
    let Some((spec, layout)) = named else {
        return Ok((anonymous(init)?, true));
    };
    T::check_init(&init)?;
    debug_assert_eq!(layout.size, T::state_size(&init));
    let opened = open(spec, layout, |region| T::init_state(region, init), hooks)?;
    Ok((T::from_region(opened.region), opened.initialized_here))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::{exit_code, fork_and};
    use std::sync::atomic::AtomicU64;

    const TAG: &str = "ProcessShared::Test";

    fn unique(tag: &str) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!("t{tag}{}x{n}", std::process::id())
    }

    struct Cleanup(Origin);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = self.0.unlink();
        }
    }

    fn spec(origin: &Origin, create: Create) -> NamedSpec {
        NamedSpec {
            origin: origin.clone(),
            create,
            mode: None,
        }
    }

    fn layout(count: u64) -> Layout<'static> {
        Layout {
            class: TAG,
            element: "int64",
            count,
            size: 8 * count as usize,
        }
    }

    fn pause() -> Result<(), NamedError> {
        std::thread::sleep(std::time::Duration::from_millis(1));
        Ok(())
    }

    /// Opens with `value` written into element 0 on creation.
    fn open_with(
        spec: &NamedSpec,
        layout: &Layout<'_>,
        value: i64,
        on_step: &mut dyn FnMut(Step),
    ) -> Result<Opened, NamedError> {
        open(
            spec,
            layout,
            |region| region.write::<i64>(0, value),
            &mut Hooks {
                pause: &mut pause,
                on_step,
            },
        )
    }

    fn plain_open(spec: &NamedSpec, layout: &Layout<'_>, value: i64) -> Result<Opened, NamedError> {
        open_with(spec, layout, value, &mut |_| {})
    }

    #[test]
    fn names_are_checked() {
        for good in ["a", "myapp.jobs", "A-b_c.9", &"x".repeat(MAX_NAME_LEN)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".hidden",
            "-x",
            "a/b",
            "a b",
            "caf\u{e9}",
            "a\0b",
            &"x".repeat(MAX_NAME_LEN + 1),
        ] {
            assert!(
                matches!(check_name(bad), Err(NamedError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(1 + PREFIX.len() + MAX_NAME_LEN <= 31);
    }

    #[test]
    fn initial_values_apply_only_on_creation_and_the_memory_is_shared() {
        let origin = Origin::shm(&unique("a")).unwrap();
        let _cleanup = Cleanup(origin.clone());
        let first = plain_open(&spec(&origin, Create::OpenOrCreate), &layout(2), 7).unwrap();
        assert!(first.initialized_here);
        let second = plain_open(&spec(&origin, Create::OpenOrCreate), &layout(2), 99).unwrap();
        assert!(!second.initialized_here);
        assert_eq!(second.region.read::<i64>(0).unwrap(), 7);
        second.region.write::<i64>(8, -3).unwrap();
        assert_eq!(first.region.read::<i64>(8).unwrap(), -3);
        assert_eq!(first.region.len(), 16);
        assert_eq!(first.region.origin(), Some(&origin));
    }

    #[test]
    fn create_modes_give_eexist_and_enoent() {
        let origin = Origin::shm(&unique("c")).unwrap();
        let _cleanup = Cleanup(origin.clone());
        let errno = |result: Result<Opened, NamedError>| match result {
            Err(NamedError::Os { errno, .. }) => errno,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            errno(plain_open(&spec(&origin, Create::OpenOnly), &layout(1), 0)),
            libc::ENOENT
        );
        plain_open(&spec(&origin, Create::Exclusive), &layout(1), 0).unwrap();
        assert_eq!(
            errno(plain_open(&spec(&origin, Create::Exclusive), &layout(1), 0)),
            libc::EEXIST
        );
        plain_open(&spec(&origin, Create::OpenOnly), &layout(1), 0).unwrap();
        assert!(origin.unlink().unwrap());
        assert!(!origin.unlink().unwrap());
    }

    #[test]
    fn another_class_or_size_is_refused_naming_both() {
        let origin = Origin::shm(&unique("k")).unwrap();
        let _cleanup = Cleanup(origin.clone());
        plain_open(&spec(&origin, Create::OpenOrCreate), &layout(4), 0).unwrap();
        let other_class = Layout {
            class: "ProcessShared::Other",
            ..layout(4)
        };
        match plain_open(&spec(&origin, Create::OpenOrCreate), &other_class, 0) {
            Err(NamedError::WrongKind(message)) => {
                assert!(
                    message.contains(TAG) && message.contains("ProcessShared::Other"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        for wrong in [
            layout(3),
            layout(5),
            Layout {
                element: "uint64",
                ..layout(4)
            },
        ] {
            match plain_open(&spec(&origin, Create::OpenOrCreate), &wrong, 0) {
                Err(NamedError::Invalid(message)) => {
                    assert!(message.contains("4 int64"), "{message}");
                    assert!(message.contains(&wrong.describe()), "{message}");
                }
                other => panic!("{wrong:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn mode_is_exact_whatever_the_umask_and_checked_on_open() {
        let origin = Origin::shm(&unique("m")).unwrap();
        let _cleanup = Cleanup(origin.clone());
        // SAFETY: umask has no preconditions; restored below.
        let old = unsafe { libc::umask(0o077) };
        let shared = NamedSpec {
            mode: Some(0o660),
            ..spec(&origin, Create::OpenOrCreate)
        };
        let opened = plain_open(&shared, &layout(1), 0);
        // SAFETY: as above.
        unsafe { libc::umask(old) };
        opened.unwrap();
        let fd = origin.target.open_existing().unwrap();
        assert_eq!(os::file_info(&fd).unwrap().permissions, 0o660);
        plain_open(&shared, &layout(1), 0).unwrap();
        let narrower = NamedSpec {
            mode: Some(0o600),
            ..spec(&origin, Create::OpenOrCreate)
        };
        assert!(matches!(
            plain_open(&narrower, &layout(1), 0),
            Err(NamedError::Os {
                errno: libc::EACCES,
                ..
            })
        ));
    }

    #[test]
    fn an_object_of_another_user_is_refused_unless_mode_shares_it() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return; // only root can give an object away
        }
        let origin = Origin::shm(&unique("u")).unwrap();
        let _cleanup = Cleanup(origin.clone());
        plain_open(&spec(&origin, Create::OpenOrCreate), &layout(1), 0).unwrap();
        let fd = origin.target.open_existing().unwrap();
        let raw_fd = std::os::fd::AsRawFd::as_raw_fd(&fd);
        // SAFETY: a valid descriptor; 65534 is `nobody`.
        let given_away = unsafe { libc::fchown(raw_fd, 65534, 65534) };
        assert_eq!(given_away, 0);
        assert!(matches!(
            plain_open(&spec(&origin, Create::OpenOrCreate), &layout(1), 0),
            Err(NamedError::Os {
                errno: libc::EACCES,
                ..
            })
        ));
        let sharing = NamedSpec {
            mode: Some(DEFAULT_MODE),
            ..spec(&origin, Create::OpenOrCreate)
        };
        plain_open(&sharing, &layout(1), 0).unwrap();
    }

    #[test]
    fn garbage_truncated_and_special_files_are_refused() {
        let dir = std::env::temp_dir();
        let path = dir.join(unique("g"));
        let origin = Origin::file(path.to_str().unwrap()).unwrap();
        let _cleanup = Cleanup(origin.clone());
        let open_it = || plain_open(&spec(&origin, Create::OpenOnly), &layout(1), 0);
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(open_it(), Err(NamedError::WrongKind(_))));
        std::fs::write(&path, vec![0xab; 4096]).unwrap();
        assert!(
            matches!(open_it(), Err(NamedError::WrongKind(_))),
            "garbage"
        );
        std::fs::remove_file(&path).unwrap();
        plain_open(&spec(&origin, Create::OpenOrCreate), &layout(64), 0).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len((HEADER_LEN + 100) as u64)
            .unwrap();
        match plain_open(&spec(&origin, Create::OpenOnly), &layout(64), 0) {
            Err(NamedError::WrongKind(message)) => {
                assert!(message.contains("truncated"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(open_it().is_err());
        std::fs::remove_dir(&path).unwrap();
    }

    #[test]
    fn a_foreign_file_starting_with_zeros_is_left_alone() {
        let path = std::env::temp_dir().join(unique("f"));
        let mut contents = vec![0u8; 10_000];
        contents[9_999] = 7;
        std::fs::write(&path, &contents).unwrap();
        let origin = Origin::file(path.to_str().unwrap()).unwrap();
        let _cleanup = Cleanup(origin.clone());
        assert!(matches!(
            plain_open(&spec(&origin, Create::OpenOrCreate), &layout(1), 5),
            Err(NamedError::WrongKind(_))
        ));
        assert_eq!(std::fs::read(&path).unwrap(), contents);
    }

    #[test]
    fn an_empty_file_is_initialized_by_its_first_opener() {
        let path = std::env::temp_dir().join(unique("e"));
        std::fs::write(&path, b"").unwrap();
        let origin = Origin::file(path.to_str().unwrap()).unwrap();
        let _cleanup = Cleanup(origin.clone());
        let opened = plain_open(&spec(&origin, Create::OpenOnly), &layout(1), 5).unwrap();
        assert!(opened.initialized_here);
        assert_eq!(opened.region.read::<i64>(0).unwrap(), 5);
    }

    /// A creator killed after each step leaves a name that the next opener
    /// initializes, applying its own initial value once.
    #[test]
    fn a_creator_killed_at_any_step_leaves_a_usable_name() {
        for step in Step::ALL {
            let origin = Origin::shm(&unique("d")).unwrap();
            let _cleanup = Cleanup(origin.clone());
            let child_spec = spec(&origin, Create::Exclusive);
            let pid = fork_and(|| {
                let _ = open_with(&child_spec, &layout(2), 1, &mut |reached| {
                    if reached == step {
                        // SAFETY: raising a signal in our own process.
                        unsafe { libc::raise(libc::SIGKILL) };
                    }
                });
                0
            });
            assert_eq!(exit_code(pid), -1, "{step:?}");
            let opened = plain_open(&spec(&origin, Create::OpenOrCreate), &layout(2), 2)
                .unwrap_or_else(|err| panic!("{step:?}: {err}"));
            assert!(opened.initialized_here, "{step:?}");
            assert_eq!(opened.region.read::<i64>(0).unwrap(), 2, "{step:?}");
            let again = plain_open(&spec(&origin, Create::OpenOnly), &layout(2), 3).unwrap();
            assert!(!again.initialized_here);
            assert_eq!(again.region.read::<i64>(0).unwrap(), 2);
        }
    }

    /// The claim of an initializer that finished and exited (a zombie not
    /// yet reaped counts as gone) is not taken to initialize again: an
    /// opener that read `state` just before `READY` was stored must find it
    /// ready once it holds the claim.
    #[test]
    fn a_finished_initializer_that_exited_is_not_replaced() {
        let mut page = [0u64; HEADER_LEN / 8];
        // SAFETY: a zeroed, aligned buffer at least the size of a Header,
        // whose fields are all valid when zero.
        let header = unsafe { &*page.as_mut_ptr().cast::<Header>() };
        let finished = fork_and(|| 0);
        let zombie_key = {
            // The child has exited but is not reaped yet: a zombie.
            let give_up = crate::platform::monotonic_now() + std::time::Duration::from_secs(10);
            let start = crate::platform::process_start_time(finished as u32);
            let key =
                (u64::from(finished as u32) << START_BITS) | (start.unwrap_or(0) & START_MASK);
            while !key_is_gone(key) {
                assert!(
                    crate::platform::monotonic_now() < give_up,
                    "the child never ended"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            key
        };
        header.claim.store(zombie_key, Ordering::SeqCst);
        header.state.store(READY, Ordering::SeqCst);
        assert_eq!(try_claim(header, my_key()), Claim::AlreadyReady);
        header.state.store(0, Ordering::SeqCst);
        header.claim.store(zombie_key, Ordering::SeqCst);
        assert_eq!(
            try_claim(header, my_key()),
            Claim::Won,
            "a dead claimant that never finished"
        );
        assert_eq!(exit_code(finished), 0);
    }

    /// Many processes opening one new name at once: exactly one initializes
    /// it, and none sees it before it is ready.
    #[test]
    fn concurrent_creators_initialize_exactly_once() {
        for round in 0..5 {
            let origin = Origin::shm(&unique("r")).unwrap();
            let _cleanup = Cleanup(origin.clone());
            let creator_spec = spec(&origin, Create::OpenOrCreate);
            let children: Vec<_> = (0..8)
                .map(|index| {
                    let creator_spec = creator_spec.clone();
                    fork_and(move || {
                        // Slow initializers widen the window for a race.
                        let opened = open(
                            &creator_spec,
                            &layout(2),
                            |region| {
                                std::thread::sleep(std::time::Duration::from_millis(5));
                                region.write::<i64>(0, 100 + index)
                            },
                            &mut Hooks {
                                pause: &mut pause,
                                on_step: &mut |_| {},
                            },
                        );
                        match opened {
                            Ok(opened) => {
                                let value = opened.region.read::<i64>(0).unwrap_or(0);
                                if !(100..108).contains(&value) {
                                    return 3;
                                }
                                // Count initializers in element 1.
                                if opened.initialized_here {
                                    let _ = opened.region.write::<i64>(8, index + 1);
                                    10
                                } else {
                                    0
                                }
                            }
                            Err(_) => 2,
                        }
                    })
                })
                .collect();
            let codes: Vec<i32> = children.into_iter().map(exit_code).collect();
            assert_eq!(
                codes.iter().filter(|&&code| code == 10).count(),
                1,
                "round {round}: {codes:?}"
            );
            assert!(
                codes.iter().all(|&code| code == 0 || code == 10),
                "{codes:?}"
            );
            let opened = plain_open(&creator_spec, &layout(2), -1).unwrap();
            assert_eq!(
                opened.region.read::<i64>(0).unwrap(),
                99 + opened.region.read::<i64>(8).unwrap()
            );
        }
    }

    #[test]
    fn an_unlinked_name_stays_usable_by_whoever_has_it_mapped() {
        let origin = Origin::shm(&unique("l")).unwrap();
        let first = plain_open(&spec(&origin, Create::OpenOrCreate), &layout(1), 1).unwrap();
        assert!(origin.unlink().unwrap());
        first.region.write::<i64>(0, 11).unwrap();
        assert_eq!(first.region.read::<i64>(0).unwrap(), 11);
        let fresh = plain_open(&spec(&origin, Create::OpenOrCreate), &layout(1), 4).unwrap();
        assert_eq!(fresh.region.read::<i64>(0).unwrap(), 4);
        assert!(origin.unlink().unwrap());
    }

    #[test]
    fn named_objects_lists_ours_with_their_class() {
        let name = unique("n");
        let origin = Origin::shm(&name).unwrap();
        let _cleanup = Cleanup(origin.clone());
        plain_open(&spec(&origin, Create::OpenOrCreate), &layout(1), 0).unwrap();
        if let Some(listed) = named_objects() {
            assert!(
                listed.contains(&(name, Some(TAG.to_string()))),
                "{listed:?}"
            );
        }
    }

    #[test]
    fn many_create_unlink_cycles_leak_nothing() {
        let origin = Origin::shm(&unique("z")).unwrap();
        let open_fds = || std::fs::read_dir("/proc/self/fd").map(Iterator::count).ok();
        let fds_before = open_fds();
        for _ in 0..1000 {
            let opened = plain_open(&spec(&origin, Create::Exclusive), &layout(1), 0).unwrap();
            assert!(origin.unlink().unwrap());
            drop(opened);
        }
        assert!(!origin.unlink().unwrap());
        if cfg!(target_os = "linux") {
            // Other tests run in parallel threads and may hold a descriptor
            // for a moment; ours would be a thousand.
            assert!(open_fds().unwrap() < fds_before.unwrap() + 20);
        }
    }
}
