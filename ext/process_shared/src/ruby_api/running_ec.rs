//! The running fiber's execution context, read without calling libruby:
//! a cheap key for the owner-token caches of `owner`.
//!
//! libruby keeps the running fiber's execution context in its thread-local
//! `ruby_current_ec` (`vm_core.h`, Ruby 3.0 on). Every fiber, a thread's
//! root fiber included, has its own context embedded in its `rb_fiber_t`
//! (`cont.saved_ec`), which is freed only with the fiber (for a root
//! fiber without a `Fiber` object, with its thread). So two fibers alive
//! at the same time never share a context address, and while a cache pins
//! a `Fiber` object (`owner` does), an address equal to the one read when
//! that fiber was cached means that this very fiber runs: the address can
//! be reused only after the fiber is freed, which the pin prevents.
//!
//! Reading it is three instructions with the initial-exec TLS model on
//! x86-64 Linux, where libruby (or a statically linked `ruby`) is loaded
//! at startup and so its thread-locals have a fixed offset from the thread
//! pointer. [`install`] checks that offset against `dlsym` once; if the
//! symbol is missing (it is referenced weakly, so the extension still
//! loads) or anything disagrees, and on every other target, [`running`]
//! returns 0 and callers ask `rb_fiber_current` instead.

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod tls {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Whether the offset in the GOT was checked against `dlsym`.
    static USABLE: AtomicBool = AtomicBool::new(false);

    /// The offset of `ruby_current_ec` from the thread pointer, as the
    /// dynamic linker resolved it (0 if the weak symbol is missing).
    #[inline(always)]
    fn offset() -> usize {
        let offset: usize;
        // SAFETY: loads the GOT entry the linker made for an initial-exec
        // reference to `ruby_current_ec` (weak: left 0 when undefined);
        // reads memory only, touches no flag or stack.
        unsafe {
            std::arch::asm!(
                ".weak ruby_current_ec",
                "movq ruby_current_ec@GOTTPOFF(%rip), {offset}",
                offset = out(reg) offset,
                options(att_syntax, nostack, readonly, preserves_flags),
            );
        }
        offset
    }

    /// The thread pointer (`%fs:0` holds it on x86-64 Linux).
    fn thread_pointer() -> usize {
        let pointer: usize;
        // SAFETY: the first word of the thread control block points to
        // itself (x86-64 TLS ABI); reads memory only.
        unsafe {
            std::arch::asm!(
                "movq %fs:0, {pointer}",
                pointer = out(reg) pointer,
                options(att_syntax, nostack, readonly, preserves_flags),
            );
        }
        pointer
    }

    /// The value of `ruby_current_ec` on this thread, without checks.
    #[inline(always)]
    fn read() -> usize {
        let offset = offset();
        let ec: usize;
        // SAFETY: only after `install` found `%fs:offset` to be this
        // thread's `ruby_current_ec` (the offset is the same for every
        // thread); reads memory only.
        unsafe {
            std::arch::asm!(
                "movq %fs:({offset}), {ec}",
                offset = in(reg) offset,
                ec = lateout(reg) ec,
                options(att_syntax, nostack, readonly, preserves_flags),
            );
        }
        ec
    }

    /// Checks, once, that the initial-exec offset names libruby's
    /// `ruby_current_ec`. Called at load, on a Ruby thread.
    pub fn install() {
        // SAFETY: a NUL-terminated name; for a thread-local `dlsym` gives
        // the calling thread's copy.
        let named = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"ruby_current_ec".as_ptr()) };
        let usable = !named.is_null()
            && offset() != 0
            && thread_pointer().wrapping_add(offset()) == named as usize
            && read() != 0;
        USABLE.store(usable, Ordering::Relaxed);
    }

    /// The running fiber's execution context, or 0 when unknown.
    #[inline(always)]
    pub fn running() -> usize {
        if USABLE.load(Ordering::Relaxed) {
            read()
        } else {
            0
        }
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub use tls::{install, running};

/// Nothing to check where the context is not read.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub fn install() {}

/// Always unknown here: callers use `rb_fiber_current`.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
#[inline(always)]
pub fn running() -> usize {
    0
}
