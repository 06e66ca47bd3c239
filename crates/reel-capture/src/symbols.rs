//! Finding the real GL, GLX and EGL functions, and interposing `dlsym` so that programs which
//! `dlopen` libGL/libEGL themselves (glad, epoxy, SDL, glmark2) get the hooks too.

use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::hooks;

/// glibc's own `dlsym`, found with `dlvsym` (which is not interposed).
static REAL_DLSYM: AtomicUsize = AtomicUsize::new(0);

type DlsymFn = unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void;

/// The real `dlsym`. glibc 2.34 moved it into libc with a new version; older glibc has only
/// the 2.2.5 one.
fn real_dlsym() -> Option<DlsymFn> {
    let mut addr = REAL_DLSYM.load(Ordering::Acquire);
    if addr == 0 {
        for version in [c"GLIBC_2.34", c"GLIBC_2.2.5"] {
            // SAFETY: `dlvsym` with valid C strings; it does not call `dlsym`.
            addr = unsafe { libc::dlvsym(libc::RTLD_NEXT, c"dlsym".as_ptr(), version.as_ptr()) }
                as usize;
            if addr != 0 {
                break;
            }
        }
        REAL_DLSYM.store(addr, Ordering::Release);
    }
    // SAFETY: a non-zero address found under the name `dlsym` is glibc's `dlsym`.
    (addr != 0).then(|| unsafe { std::mem::transmute::<usize, DlsymFn>(addr) })
}

/// Looks `name` up in `handle` with the real `dlsym`.
pub fn lookup(handle: *mut c_void, name: &CStr) -> *mut c_void {
    match real_dlsym() {
        // SAFETY: the real dlsym with a handle from dlopen (or RTLD_NEXT) and a C string.
        Some(f) => unsafe { f(handle, name.as_ptr()) },
        None => std::ptr::null_mut(),
    }
}

/// Finds `name` in the already loaded library `soname` (a program that `dlopen`ed it locally
/// keeps it out of the global scope), else in the libraries after this one.
pub fn lookup_in(soname: &CStr, name: &CStr) -> *mut c_void {
    // SAFETY: RTLD_NOLOAD only returns a handle to a library already loaded; it loads nothing.
    let handle = unsafe { libc::dlopen(soname.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
    let found = if handle.is_null() {
        std::ptr::null_mut()
    } else {
        let f = lookup(handle, name);
        // SAFETY: drops the reference the NOLOAD dlopen above took; the library stays loaded.
        unsafe { libc::dlclose(handle) };
        f
    };
    if found.is_null() {
        lookup(libc::RTLD_NEXT, name)
    } else {
        found
    }
}

/// Called by the `dlsym` entry point below: the hook for `name` when the program asks for one
/// of the hooked functions (remembering the real one), else null, and the entry point then
/// jumps to the real `dlsym` with the caller's own return address (which `RTLD_NEXT` depends on).
extern "C" fn dlsym_override(handle: *mut c_void, name: *const c_char) -> *mut c_void {
    // Initializes REAL_DLSYM for the jump that follows a null return.
    if real_dlsym().is_none() || name.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: dlsym's contract: `name` is a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(name) };
    let Some(hook) = hooks::hook_for(name) else {
        return std::ptr::null_mut();
    };
    let real = lookup(handle, name);
    if real.is_null() {
        return std::ptr::null_mut();
    }
    hooks::remember_real(name, real);
    hook
}

/// `dlsym` itself: asks `dlsym_override`, and if it declines, tail-jumps to glibc's `dlsym` so
/// that glibc sees the original caller's return address (RTLD_NEXT lookups are relative to the
/// caller; a call from here would make them relative to this library).
///
/// # Safety
/// dlsym's contract: `handle` is a handle from `dlopen` or a pseudo-handle, `name` a C string.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void {
    std::arch::naked_asm!(
        "push rdi",
        "push rsi",
        "sub rsp, 8",
        "call {override}",
        "add rsp, 8",
        "pop rsi",
        "pop rdi",
        "test rax, rax",
        "jnz 2f",
        "jmp qword ptr [rip + {real}]",
        "2:",
        "ret",
        override = sym dlsym_override,
        real = sym REAL_DLSYM,
    )
}

/// `dlsym` on other architectures: the same, without the tail jump (RTLD_NEXT lookups made by
/// the program then start after this library).
#[cfg(not(target_arch = "x86_64"))]
#[no_mangle]
pub unsafe extern "C" fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void {
    let hook = dlsym_override(handle, name);
    if !hook.is_null() {
        return hook;
    }
    match real_dlsym() {
        // SAFETY: forwarding the caller's arguments to the real dlsym.
        Some(f) => unsafe { f(handle, name) },
        None => std::ptr::null_mut(),
    }
}
