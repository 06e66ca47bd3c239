//! Valgrind client requests: telling valgrind's tools what they cannot see for themselves.
//!
//! A client request is a special no-op instruction sequence (valgrind.h's "magic sequence"): on
//! real hardware it rotates a register a full turn and leaves a default result; under valgrind
//! the tool recognises it and acts on the request. So these calls cost a few register operations
//! outside valgrind, and nothing here changes what the program does.
//!
//! The runtime uses them for what valgrind's tools cannot infer:
//! - the page source's lock is a futex-based `std::sync::Mutex`, invisible to helgrind and drd;
//!   [`happens_before`] / [`happens_after`] on its address describe what it orders;
//! - blocks of the object heap are not `malloc`'s, so memcheck must be told which are handed out
//!   ([`malloclike_block`]) and which are free ([`freelike_block`]), or it would miss a use after
//!   free or a leak of an object.
//!
//! The request codes are valgrind's public ABI (`valgrind.h`, `memcheck.h`, `helgrind.h`, whose
//! `ANNOTATE_HAPPENS_BEFORE`/`AFTER` codes drd shares); a test compares them with the installed
//! headers when they are present.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// `VG_USERREQ__RUNNING_ON_VALGRIND`.
const RUNNING_ON_VALGRIND: usize = 0x1001;
/// `VG_USERREQ__MALLOCLIKE_BLOCK`.
const MALLOCLIKE_BLOCK: usize = 0x1301;
/// `VG_USERREQ__FREELIKE_BLOCK`.
const FREELIKE_BLOCK: usize = 0x1302;
/// `VG_USERREQ__MAKE_MEM_NOACCESS` (memcheck).
const MAKE_MEM_NOACCESS: usize = 0x4d43_0000;
/// `VG_USERREQ__MAKE_MEM_DEFINED` (memcheck).
const MAKE_MEM_DEFINED: usize = 0x4d43_0002;
/// `VG_USERREQ__HG_CLEAN_MEMORY` (helgrind; drd's `VG_USERREQ__DRD_CLEAN_MEMORY` is the same).
const CLEAN_MEMORY: usize = 0x4847_0000;
/// `_VG_USERREQ__HG_USERSO_SEND_PRE` (helgrind's `ANNOTATE_HAPPENS_BEFORE`; drd's too).
const HAPPENS_BEFORE: usize = 0x4847_0121;
/// `_VG_USERREQ__HG_USERSO_RECV_POST` (helgrind's `ANNOTATE_HAPPENS_AFTER`; drd's too).
const HAPPENS_AFTER: usize = 0x4847_0122;

/// Sends request `code` with `args` and returns valgrind's answer, or `default` when not running
/// under valgrind.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn client_request(default: usize, code: usize, args: [usize; 5]) -> usize {
    let block: [usize; 6] = [code, args[0], args[1], args[2], args[3], args[4]];
    let result;
    // SAFETY: valgrind.h's amd64 magic sequence. The four rotations of rdi add up to 128 bits, a
    // full turn, so rdi is unchanged; xchg of rbx with itself changes nothing. Outside valgrind the
    // sequence leaves rdx = `default`; under valgrind the tool reads the request block through
    // rax (which lives across the asm) and writes its answer to rdx.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") block.as_ptr(),
            inout("rdx") default => result,
            options(nostack),
        );
    }
    result
}

/// Sends request `code` with `args` and returns valgrind's answer, or `default` when not running
/// under valgrind.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn client_request(default: usize, code: usize, args: [usize; 5]) -> usize {
    let block: [usize; 6] = [code, args[0], args[1], args[2], args[3], args[4]];
    let result;
    // SAFETY: valgrind.h's arm64 magic sequence: the rotations of x12 add up to 128 bits (a full
    // turn) and `orr x10, x10, x10` changes nothing. The request block is read through x4, the
    // answer (or `default`) is left in x3.
    unsafe {
        std::arch::asm!(
            "ror x12, x12, #3",
            "ror x12, x12, #13",
            "ror x12, x12, #51",
            "ror x12, x12, #61",
            "orr x10, x10, x10",
            in("x4") block.as_ptr(),
            inout("x3") default => result,
            options(nostack),
        );
    }
    result
}

/// Valgrind does not run on other targets: every request returns its default.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn client_request(default: usize, _code: usize, _args: [usize; 5]) -> usize {
    default
}

/// Whether the program runs under valgrind (any tool).
pub(crate) fn running_on_valgrind() -> bool {
    client_request(0, RUNNING_ON_VALGRIND, [0; 5]) != 0
}

/// Whether hot paths should send their requests: 0 not yet known, 1 no, 2 yes.
static ACTIVE: AtomicU8 = AtomicU8::new(0);

/// [`running_on_valgrind`], asked once: hot paths (object allocation, the last release of an
/// object) test this instead of always sending requests, which outside valgrind would cost the
/// request block's stores on every call.
///
/// `AUTORELEASE_VALGRIND_REQUESTS=0` turns them off under valgrind too, for instruction counts
/// under callgrind that match native runs (`benches/profile.sh`); memcheck, helgrind and drd then
/// lose what the requests tell them.
#[inline]
pub(crate) fn active() -> bool {
    match ACTIVE.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let yes = running_on_valgrind()
                && std::env::var_os("AUTORELEASE_VALGRIND_REQUESTS").is_none_or(|v| v != "0");
            ACTIVE.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
    }
}

/// Tells valgrind's tools that `size` bytes at `addr` are now a heap block, as if `malloc` had
/// returned them (contents undefined): leaks, invalid frees and uses after free are then reported
/// for it as for `malloc`'s blocks.
#[inline]
pub(crate) fn malloclike_block<T>(addr: *const T, size: usize) {
    client_request(0, MALLOCLIKE_BLOCK, [addr.addr(), size, 0, 0, 0]);
}

/// Tells valgrind's tools that the block at `addr` (from [`malloclike_block`]) is freed.
#[inline]
pub(crate) fn freelike_block<T>(addr: *const T) {
    client_request(0, FREELIKE_BLOCK, [addr.addr(), 0, 0, 0, 0]);
}

/// Tells memcheck that `len` bytes at `addr` may not be read or written.
#[inline]
pub(crate) fn make_noaccess<T>(addr: *const T, len: usize) {
    client_request(0, MAKE_MEM_NOACCESS, [addr.addr(), len, 0, 0, 0]);
}

/// Tells memcheck that `len` bytes at `addr` may be read and hold defined values.
#[inline]
pub(crate) fn make_defined<T>(addr: *const T, len: usize) {
    client_request(0, MAKE_MEM_DEFINED, [addr.addr(), len, 0, 0, 0]);
}

/// Tells helgrind and drd to forget every earlier access to `len` bytes at `addr`, as they do for
/// memory `free` gives back: the block is reused, and its old accesses are no race with the new.
#[inline]
pub(crate) fn clean_memory<T>(addr: *const T, len: usize) {
    client_request(0, CLEAN_MEMORY, [addr.addr(), len, 0, 0, 0]);
}

/// Tells helgrind and drd that everything this thread did so far happens before whatever a thread
/// does after a later [`happens_after`] on the same `tag`.
#[inline]
pub(crate) fn happens_before<T>(tag: *const T) {
    client_request(0, HAPPENS_BEFORE, [tag.addr(), 0, 0, 0, 0]);
}

/// The receiving end of [`happens_before`].
#[inline]
pub(crate) fn happens_after<T>(tag: *const T) {
    client_request(0, HAPPENS_AFTER, [tag.addr(), 0, 0, 0, 0]);
}

/// A held `std::sync::Mutex` that tells helgrind and drd what the lock orders.
///
/// `std::sync::Mutex` waits on a futex, which the race detectors cannot see, so without this
/// everything handed between threads through a lock of the runtime (pool pages through the page
/// source, object blocks through the object heap's shared lists) looked like a race.
pub(crate) struct AnnotatedGuard<T: 'static> {
    guard: MutexGuard<'static, T>,
    lock: &'static Mutex<T>,
}

/// Locks `lock`, annotated for the race detectors. The runtime never panics while holding one of
/// its locks, so a poisoned lock still guards consistent data.
pub(crate) fn lock_annotated<T>(lock: &'static Mutex<T>) -> AnnotatedGuard<T> {
    let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
    happens_after(lock);
    AnnotatedGuard { guard, lock }
}

impl<T> Deref for AnnotatedGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for AnnotatedGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for AnnotatedGuard<T> {
    fn drop(&mut self) {
        // Before the unlock (the inner guard drops after this body): everything done under the
        // lock happens before the next holder's `happens_after`.
        happens_before(self.lock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_return_their_default_outside_valgrind_and_change_nothing() {
        if running_on_valgrind() {
            return;
        }
        assert_eq!(client_request(42, RUNNING_ON_VALGRIND, [0; 5]), 42);
        let x = 7u64;
        happens_before(&x);
        happens_after(&x);
        assert_eq!(x, 7);
    }

    /// The codes are valgrind's ABI: compare them with the installed headers, when present.
    #[test]
    fn request_codes_match_the_installed_valgrind_headers() {
        let include = std::path::Path::new("/usr/include/valgrind");
        if !include.join("helgrind.h").exists() {
            eprintln!("valgrind headers not installed: codes not compared");
            return;
        }
        let dir = tempfile_dir();
        let source = dir.join("codes.c");
        std::fs::write(
            &source,
            "#include <stdio.h>\n#include <valgrind/valgrind.h>\n#include <valgrind/memcheck.h>\n\
             #include <valgrind/helgrind.h>\n#include <valgrind/drd.h>\n\
             int main(void) { printf(\"%lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu\\n\",\n\
             (unsigned long)VG_USERREQ__RUNNING_ON_VALGRIND, (unsigned long)VG_USERREQ__MALLOCLIKE_BLOCK,\n\
             (unsigned long)VG_USERREQ__FREELIKE_BLOCK, (unsigned long)VG_USERREQ__MAKE_MEM_NOACCESS,\n\
             (unsigned long)VG_USERREQ__MAKE_MEM_DEFINED, (unsigned long)VG_USERREQ__HG_CLEAN_MEMORY,\n\
             (unsigned long)VG_USERREQ__DRD_CLEAN_MEMORY, (unsigned long)_VG_USERREQ__HG_USERSO_SEND_PRE,\n\
             (unsigned long)_VG_USERREQ__HG_USERSO_RECV_POST,\n\
             (unsigned long)VG_USERREQ__DRD_ANNOTATE_HAPPENS_BEFORE,\n\
             (unsigned long)VG_USERREQ__DRD_ANNOTATE_HAPPENS_AFTER); return 0; }\n",
        )
        .unwrap();
        let exe = dir.join("codes");
        let status = std::process::Command::new("cc")
            .arg(&source)
            .arg("-o")
            .arg(&exe)
            .status()
            .expect("a C compiler (cc) to read the valgrind headers");
        assert!(status.success(), "compiling the header check failed");
        let out = std::process::Command::new(&exe).output().unwrap();
        let got = String::from_utf8(out.stdout).unwrap();
        let want = [
            RUNNING_ON_VALGRIND,
            MALLOCLIKE_BLOCK,
            FREELIKE_BLOCK,
            MAKE_MEM_NOACCESS,
            MAKE_MEM_DEFINED,
            CLEAN_MEMORY,
            CLEAN_MEMORY,
            HAPPENS_BEFORE,
            HAPPENS_AFTER,
            HAPPENS_BEFORE,
            HAPPENS_AFTER,
        ]
        .map(|c| c.to_string())
        .join(" ");
        assert_eq!(got.trim(), want);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("autorelease-vg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
