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
//!
//! The request codes are valgrind's public ABI (`valgrind.h`, `helgrind.h`, whose
//! `ANNOTATE_HAPPENS_BEFORE`/`AFTER` codes drd shares); a test compares them with the installed
//! headers when they are present.

/// `VG_USERREQ__RUNNING_ON_VALGRIND`.
#[cfg(test)]
const RUNNING_ON_VALGRIND: usize = 0x1001;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_return_their_default_outside_valgrind_and_change_nothing() {
        if client_request(0, RUNNING_ON_VALGRIND, [0; 5]) != 0 {
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
             int main(void) { printf(\"%lu %lu %lu %lu %lu\\n\",\n\
             (unsigned long)VG_USERREQ__RUNNING_ON_VALGRIND, (unsigned long)_VG_USERREQ__HG_USERSO_SEND_PRE,\n\
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
