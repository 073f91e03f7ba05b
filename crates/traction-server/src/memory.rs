//! Handing freed memory back to the system.
//!
//! glibc keeps what a thread freed in that thread's arena for reuse, so after a burst of heavy
//! reads the pages stay resident although nothing uses them (issue 25: 186–212 MB stayed at scale
//! L after 150 s idle, with every cache already dropped). `malloc_trim(0)` asks glibc to return
//! the free pages of every arena. It briefly locks each arena, so it is called only once per idle
//! spell (`admission::release_when_idle`), never on a request's path.

/// Returns the allocator's free pages to the system; whether anything was returned. Elsewhere
/// than glibc (musl, macOS) it does nothing: those allocators return large blocks themselves.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_freed() -> bool {
    // SAFETY: malloc_trim takes no pointers and touches only glibc's own free lists, which it
    // locks while it runs; it may be called from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Returns the allocator's free pages to the system; nothing to do off glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed() -> bool {
    false
}
