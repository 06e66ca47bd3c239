//! `arp_object`: reference-counted objects with a C payload, made by and for C callers.
//!
//! A C object is one allocation: the runtime's [`ObjectHeader`], the C dealloc callback and its
//! context, the payload size, then the zeroed payload at a 16-byte aligned offset. Because it
//! starts with an `ObjectHeader`, it is an object of the runtime like any `Obj<T>`: the same
//! retain, release and autorelease apply to both, so an `arp_object *` is exactly a
//! `*mut ObjectHeader`, and Rust code can hand its own objects to C (`Obj::into_raw`) and take
//! C objects back.

use std::alloc::{self, Layout};
use std::ffi::c_void;
use std::mem;
use std::ptr::{self, NonNull};

use autorelease::raw::{self, ObjectClass, ObjectHeader};

use crate::abort::abort_on_panic;

/// The C type `arp_dealloc_fn`: `void (*)(arp_object *obj, void *ctx)`.
///
/// Called once, when the object's retain count reaches zero, before its memory is freed. `obj`'s
/// payload is still readable and writable; the object must not be retained again.
pub type ArpDeallocFn = unsafe extern "C" fn(obj: *mut ObjectHeader, ctx: *mut c_void);

/// The fixed part of a C object; the payload follows at [`PAYLOAD_OFFSET`].
#[repr(C)]
struct CObject {
    header: ObjectHeader,
    dealloc: Option<ArpDeallocFn>,
    ctx: *mut c_void,
    payload_size: usize,
}

/// Payloads are aligned for any C scalar type (`max_align_t` is 16 bytes on 64-bit targets).
pub const PAYLOAD_ALIGN: usize = 16;

/// Where the payload starts, from the start of the object.
const PAYLOAD_OFFSET: usize = mem::size_of::<CObject>().next_multiple_of(PAYLOAD_ALIGN);

const _: () = assert!(mem::align_of::<CObject>() <= PAYLOAD_ALIGN);

/// What every C object shares; its name is what `arp_pool_print` shows for it.
static C_OBJECT_CLASS: ObjectClass = ObjectClass::new(|| "arp_object", dealloc_c_object);

/// The allocation of an object with `payload_size` payload bytes, or `None` if that overflows.
fn layout_for(payload_size: usize) -> Option<Layout> {
    let size = PAYLOAD_OFFSET.checked_add(payload_size)?;
    Layout::from_size_align(size, PAYLOAD_ALIGN).ok()
}

/// The class's dealloc: runs the C callback, then frees the allocation.
///
/// # Safety
/// `obj` must be a C object made by [`arp_object_new`] whose count has reached zero.
unsafe fn dealloc_c_object(obj: NonNull<ObjectHeader>) {
    let c_obj = obj.cast::<CObject>().as_ptr();
    // SAFETY: `obj` is a live `CObject` (the caller's guarantee), and nobody else references it.
    let (dealloc, ctx, payload_size) =
        unsafe { ((*c_obj).dealloc, (*c_obj).ctx, (*c_obj).payload_size) };
    if let Some(dealloc) = dealloc {
        // SAFETY: the callback was supplied for exactly this call; the object is still allocated.
        unsafe { dealloc(obj.as_ptr(), ctx) };
    }
    let layout = layout_for(payload_size).expect("the layout was valid when the object was made");
    // `CObject` needs no drop (no field owns anything), so freeing is all that is left.
    // SAFETY: `arp_object_new` allocated `obj` with this layout, and it is not used after this.
    unsafe { alloc::dealloc(c_obj.cast(), layout) };
}

/// Whether `obj` was made by [`arp_object_new`] (rather than being a Rust `Obj<T>`).
fn is_c_object(obj: &ObjectHeader) -> bool {
    ptr::eq(obj.class(), &C_OBJECT_CLASS)
}

/// `arp_object *arp_object_new(size_t payload_size, arp_dealloc_fn dealloc, void *ctx)`
///
/// A new object with retain count 1 and `payload_size` zeroed payload bytes, 16-byte aligned.
/// `dealloc` (may be `None`) runs exactly once with `ctx`, when the count reaches zero, before the
/// memory is freed. Returns null if the size overflows or the allocation fails.
#[no_mangle]
pub extern "C" fn arp_object_new(
    payload_size: usize,
    dealloc: Option<ArpDeallocFn>,
    ctx: *mut c_void,
) -> *mut ObjectHeader {
    abort_on_panic("arp_object_new", || {
        let Some(layout) = layout_for(payload_size) else {
            return ptr::null_mut();
        };
        // SAFETY: the layout's size is at least `PAYLOAD_OFFSET`, so not zero.
        let memory = unsafe { alloc::alloc_zeroed(layout) }.cast::<CObject>();
        let Some(obj) = NonNull::new(memory) else {
            return ptr::null_mut();
        };
        // SAFETY: `obj` is a fresh allocation large and aligned enough for a `CObject`.
        unsafe {
            obj.as_ptr().write(CObject {
                header: ObjectHeader::new(&C_OBJECT_CLASS),
                dealloc,
                ctx,
                payload_size,
            })
        };
        raw::check_object_address(obj.cast());
        obj.as_ptr().cast()
    })
}

/// `void *arp_object_payload(arp_object *obj)`
///
/// The object's payload: `payload_size` bytes at a 16-byte aligned address, valid while the object
/// lives. Null for a null `obj` and for objects not made by `arp_object_new` (Rust `Obj<T>`s).
///
/// # Safety
/// `obj` must be null or a live object of the runtime.
#[no_mangle]
pub unsafe extern "C" fn arp_object_payload(obj: *mut ObjectHeader) -> *mut c_void {
    // SAFETY: the caller guarantees a non-null `obj` is live.
    match unsafe { obj.as_ref() } {
        Some(header) if is_c_object(header) => {
            // SAFETY: a C object's allocation extends `PAYLOAD_OFFSET + payload_size` bytes.
            unsafe { obj.cast::<u8>().add(PAYLOAD_OFFSET) }.cast()
        }
        _ => ptr::null_mut(),
    }
}

/// `arp_object *arp_retain(arp_object *obj)`
///
/// Adds a reference to `obj` and returns it. Null is returned unchanged. Aborts on count overflow.
///
/// # Safety
/// `obj` must be null or a live object the caller holds a reference to.
#[no_mangle]
pub unsafe extern "C" fn arp_retain(obj: *mut ObjectHeader) -> *mut ObjectHeader {
    if let Some(obj) = NonNull::new(obj) {
        // SAFETY: the caller holds a reference, so the object is live. `retain` aborts rather
        // than panics on overflow, so no guard is needed.
        unsafe { raw::retain(obj) };
    }
    obj
}

/// `void arp_release(arp_object *obj)`
///
/// Gives up a reference; on the last one the object's dealloc runs and its memory is freed. Null
/// is ignored.
///
/// # Safety
/// `obj` must be null or a live object, and the caller gives up one reference it owns.
#[no_mangle]
pub unsafe extern "C" fn arp_release(obj: *mut ObjectHeader) {
    let Some(obj) = NonNull::new(obj) else { return };
    // A Rust object's `Drop` may panic.
    abort_on_panic("arp_release", || {
        // SAFETY: the caller owns the reference it gives up here.
        unsafe { raw::release(obj) }
    })
}

/// `arp_object *arp_autorelease(arp_object *obj)`
///
/// Hands one reference of `obj` to the innermost pool of this thread, which releases it when it
/// is popped, and returns `obj`. Null is returned unchanged.
///
/// # Safety
/// `obj` must be null or a live object, and the caller gives up one reference it owns.
#[no_mangle]
pub unsafe extern "C" fn arp_autorelease(obj: *mut ObjectHeader) -> *mut ObjectHeader {
    let Some(nonnull) = NonNull::new(obj) else {
        return obj;
    };
    // The missing-pool policy may be set (from Rust) to panic.
    abort_on_panic("arp_autorelease", || {
        // SAFETY: the caller owns the reference it gives up here.
        unsafe { raw::autorelease(nonnull) }
    });
    obj
}

/// `size_t arp_retain_count(const arp_object *obj)`
///
/// The current retain count (a snapshot when other threads hold references); 0 for null.
///
/// # Safety
/// `obj` must be null or a live object.
#[no_mangle]
pub unsafe extern "C" fn arp_retain_count(obj: *const ObjectHeader) -> usize {
    // SAFETY: the caller guarantees a non-null `obj` is live.
    unsafe { obj.as_ref() }.map_or(0, ObjectHeader::retain_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_offset_is_aligned_and_past_the_fixed_fields() {
        assert_eq!(PAYLOAD_OFFSET % PAYLOAD_ALIGN, 0);
        assert!(PAYLOAD_OFFSET >= mem::size_of::<CObject>());
    }

    #[test]
    fn layout_rejects_sizes_that_overflow() {
        assert!(layout_for(usize::MAX).is_none());
        assert!(layout_for(isize::MAX as usize).is_none());
        assert_eq!(layout_for(3).unwrap().size(), PAYLOAD_OFFSET + 3);
    }
}
