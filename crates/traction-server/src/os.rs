//! The two things the server asks of the operating system directly (the workspace's only
//! `unsafe` code, each call audited): handing freed memory back, and running background work
//! at a low priority.
//!
//! Freed memory: //! glibc keeps what a thread freed in that thread's arena for reuse, so after a burst of heavy
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

/// Lowers the calling thread's scheduling priority to nice 19, so background work (the alert
/// evaluator, scheduled reports, `traction alert eval` from cron) takes the cores only when the
/// pages and the API leave them idle: "the evaluator must never slow the pages" (issue 15). On
/// Linux each thread has its own nice value; elsewhere this does nothing. Whether it worked.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn background_priority() -> bool {
    // SAFETY: gettid and setpriority take plain integers and no pointers; lowering one's own
    // priority needs no privilege and cannot fail in a way that leaves anything inconsistent.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19) == 0
    }
}

/// Lowers the calling thread's scheduling priority; nothing to do here off Linux.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn background_priority() -> bool {
    false
}
