//! `arp_object`: reference-counted objects with a C payload, made by and for C callers.
//!
//! A C object is one allocation: the runtime's [`ObjectHeader`], then, for an object with a
//! dealloc callback, the callback and its context, then the zeroed payload at a 16-byte aligned
//! offset. Because it starts with an `ObjectHeader`, it is an object of the runtime like any
//! `Obj<T>`: the same retain, release and autorelease apply to both, so an `arp_object *` is
//! exactly a `*mut ObjectHeader`, and Rust code can hand its own objects to C (`Obj::into_raw`)
//! and take C objects back.
//!
//! Three layouts, told apart by the object's class:
//!
//! | layout | when | payload at | memory |
//! |---|---|---|---|
//! | plain | no callback, header + payload within [`SMALL_OBJECT_MAX`] | 16 | runtime's object heap |
//! | with callback | a callback, header + callback + payload within it | 32 | runtime's object heap |
//! | large | anything bigger | 48 | the global allocator, size stored |
//!
//! Small objects store no size: each of the object heap's size classes has a class of its own
//! (with a dealloc that knows the block size), so a W1 object with an 8-byte payload takes one
//! 32-byte block.

use std::alloc::{self, Layout};
use std::ffi::c_void;
use std::mem;
use std::ptr::{self, NonNull};

use autorelease::raw::{self, ObjectClass, ObjectHeader, SMALL_OBJECT_MAX};

use crate::abort::abort_on_panic;

/// The C type `arp_dealloc_fn`: `void (*)(arp_object *obj, void *ctx)`.
///
/// Called once, when the object's retain count reaches zero, before its memory is freed. `obj`'s
/// payload is still readable and writable; the object must not be retained again.
pub type ArpDeallocFn = unsafe extern "C" fn(obj: *mut ObjectHeader, ctx: *mut c_void);

/// The fixed part of a small object with a callback; the payload follows at [`CALLBACK_OFFSET`].
#[repr(C)]
struct CallbackObject {
    header: ObjectHeader,
    dealloc: Option<ArpDeallocFn>,
    ctx: *mut c_void,
}

/// The fixed part of a large object; the payload follows at [`LARGE_OFFSET`].
#[repr(C)]
struct LargeObject {
    header: ObjectHeader,
    dealloc: Option<ArpDeallocFn>,
    ctx: *mut c_void,
    payload_size: usize,
}

/// Payloads are aligned for any C scalar type (`max_align_t` is 16 bytes on 64-bit targets).
pub const PAYLOAD_ALIGN: usize = 16;

/// Where a plain object's payload starts.
const PLAIN_OFFSET: usize = mem::size_of::<ObjectHeader>().next_multiple_of(PAYLOAD_ALIGN);
/// Where the payload of a small object with a callback starts.
const CALLBACK_OFFSET: usize = mem::size_of::<CallbackObject>().next_multiple_of(PAYLOAD_ALIGN);
/// Where a large object's payload starts.
const LARGE_OFFSET: usize = mem::size_of::<LargeObject>().next_multiple_of(PAYLOAD_ALIGN);

const _: () = assert!(mem::align_of::<LargeObject>() <= PAYLOAD_ALIGN);
const _: () = assert!(SMALL_OBJECT_MAX.is_multiple_of(PAYLOAD_ALIGN));

/// Small objects of one size class: blocks of `BLOCK` bytes.
const SMALL_CLASSES: usize = SMALL_OBJECT_MAX / PAYLOAD_ALIGN;

fn class_name() -> &'static str {
    "arp_object"
}

macro_rules! small_classes {
    ($dealloc:ident; $($blocks:literal)*) => {
        [$(ObjectClass::new(class_name, $dealloc::<{ $blocks * PAYLOAD_ALIGN }>)),*]
    };
}

/// The classes of plain objects, by size class (block size `(i + 1) * 16`).
static PLAIN_CLASSES: [ObjectClass; SMALL_CLASSES] =
    small_classes!(dealloc_plain; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
/// The classes of small objects with a callback, by size class.
static CALLBACK_CLASSES: [ObjectClass; SMALL_CLASSES] =
    small_classes!(dealloc_callback; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
/// The class of large objects; its name is what `arp_pool_print` shows, as for the others.
static LARGE_CLASS: ObjectClass = ObjectClass::new(class_name, dealloc_large);

/// The size class (index into the class tables) of a small block of `total` bytes.
fn small_class(total: usize) -> usize {
    total.div_ceil(PAYLOAD_ALIGN) - 1
}

/// A plain object's dealloc: gives its `BLOCK`-byte block back to the object heap.
///
/// # Safety
/// `obj` must be a plain object of a `BLOCK`-byte block whose count has reached zero.
unsafe fn dealloc_plain<const BLOCK: usize>(obj: NonNull<ObjectHeader>) {
    // SAFETY: `arp_object_new` allocated it with `alloc_small_object` for a size of this class,
    // and nobody references it now. The header needs no drop.
    unsafe { raw::free_small_object(obj.cast(), BLOCK) }
}

/// A small object's dealloc: runs the C callback, then gives the block back.
///
/// # Safety
/// `obj` must be a small object with a callback, of a `BLOCK`-byte block, whose count has
/// reached zero.
unsafe fn dealloc_callback<const BLOCK: usize>(obj: NonNull<ObjectHeader>) {
    let c_obj = obj.cast::<CallbackObject>().as_ptr();
    // SAFETY: `obj` is a live `CallbackObject` (the caller's guarantee), referenced by nobody.
    let (dealloc, ctx) = unsafe { ((*c_obj).dealloc, (*c_obj).ctx) };
    if let Some(dealloc) = dealloc {
        // SAFETY: the callback was supplied for exactly this call; the object is still allocated.
        unsafe { dealloc(obj.as_ptr(), ctx) };
    }
    // SAFETY: as in `dealloc_plain`.
    unsafe { raw::free_small_object(obj.cast(), BLOCK) }
}

/// The allocation of a large object with `payload_size` payload bytes, or `None` if that
/// overflows.
fn layout_for(payload_size: usize) -> Option<Layout> {
    let size = LARGE_OFFSET.checked_add(payload_size)?;
    Layout::from_size_align(size, PAYLOAD_ALIGN).ok()
}

/// A large object's dealloc: runs the C callback, then frees the allocation.
///
/// # Safety
/// `obj` must be a large C object made by [`arp_object_new`] whose count has reached zero.
unsafe fn dealloc_large(obj: NonNull<ObjectHeader>) {
    let c_obj = obj.cast::<LargeObject>().as_ptr();
    // SAFETY: `obj` is a live `LargeObject` (the caller's guarantee), referenced by nobody.
    let (dealloc, ctx, payload_size) =
        unsafe { ((*c_obj).dealloc, (*c_obj).ctx, (*c_obj).payload_size) };
    if let Some(dealloc) = dealloc {
        // SAFETY: the callback was supplied for exactly this call; the object is still allocated.
        unsafe { dealloc(obj.as_ptr(), ctx) };
    }
    let layout = layout_for(payload_size).expect("the layout was valid when the object was made");
    // `LargeObject` needs no drop (no field owns anything), so freeing is all that is left.
    // SAFETY: `arp_object_new` allocated `obj` with this layout, and it is not used after this.
    unsafe { alloc::dealloc(c_obj.cast(), layout) };
}

/// Where the payload of `obj` starts, if it was made by [`arp_object_new`] (rather than being a
/// Rust `Obj<T>`).
fn payload_offset(obj: &ObjectHeader) -> Option<usize> {
    let class = ptr::from_ref(obj.class());
    let within = |table: &[ObjectClass; SMALL_CLASSES]| table.as_ptr_range().contains(&class);
    if within(&PLAIN_CLASSES) {
        Some(PLAIN_OFFSET)
    } else if within(&CALLBACK_CLASSES) {
        Some(CALLBACK_OFFSET)
    } else if ptr::eq(class, &LARGE_CLASS) {
        Some(LARGE_OFFSET)
    } else {
        None
    }
}

/// A small object of `total` bytes with its fixed part written by `init`, its `payload_size`
/// payload bytes at `offset` zeroed.
fn new_small(
    total: usize,
    offset: usize,
    payload_size: usize,
    init: impl FnOnce(NonNull<u8>),
) -> *mut ObjectHeader {
    let block = raw::alloc_small_object(total).expect("total is a small object's size");
    init(block);
    // SAFETY: the block holds `total = offset + payload_size` bytes; only the payload the C
    // caller sees must be zero (the block's tail past it is never read).
    unsafe { block.as_ptr().add(offset).write_bytes(0, payload_size) };
    raw::check_object_address(block.cast());
    block.as_ptr().cast()
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
        if dealloc.is_none() && payload_size <= SMALL_OBJECT_MAX - PLAIN_OFFSET {
            let total = PLAIN_OFFSET + payload_size;
            return new_small(total, PLAIN_OFFSET, payload_size, |block| {
                let class = &PLAIN_CLASSES[small_class(total)];
                // SAFETY: a fresh block, 16-byte aligned, large enough for a header.
                unsafe { block.cast::<ObjectHeader>().write(ObjectHeader::new(class)) };
            });
        }
        if payload_size <= SMALL_OBJECT_MAX - CALLBACK_OFFSET {
            let total = CALLBACK_OFFSET + payload_size;
            return new_small(total, CALLBACK_OFFSET, payload_size, |block| {
                let class = &CALLBACK_CLASSES[small_class(total)];
                // SAFETY: a fresh block, 16-byte aligned, large enough for the fixed part.
                unsafe {
                    block.cast::<CallbackObject>().write(CallbackObject {
                        header: ObjectHeader::new(class),
                        dealloc,
                        ctx,
                    })
                };
            });
        }
        new_large(payload_size, dealloc, ctx)
    })
}

fn new_large(
    payload_size: usize,
    dealloc: Option<ArpDeallocFn>,
    ctx: *mut c_void,
) -> *mut ObjectHeader {
    let Some(layout) = layout_for(payload_size) else {
        return ptr::null_mut();
    };
    // SAFETY: the layout's size is at least `LARGE_OFFSET`, so not zero.
    let memory = unsafe { alloc::alloc_zeroed(layout) }.cast::<LargeObject>();
    let Some(obj) = NonNull::new(memory) else {
        return ptr::null_mut();
    };
    // SAFETY: `obj` is a fresh allocation large and aligned enough for a `LargeObject`.
    unsafe {
        obj.as_ptr().write(LargeObject {
            header: ObjectHeader::new(&LARGE_CLASS),
            dealloc,
            ctx,
            payload_size,
        })
    };
    raw::check_object_address(obj.cast());
    obj.as_ptr().cast()
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
    match unsafe { obj.as_ref() }.and_then(payload_offset) {
        Some(offset) => {
            // SAFETY: a C object's allocation extends `offset + payload_size` bytes.
            unsafe { obj.cast::<u8>().add(offset) }.cast()
        }
        None => ptr::null_mut(),
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

/// The hand-off of a return value, shared by `arp_autorelease_return` and
/// `objc_autoreleaseReturnValue`.
///
/// # Safety
/// As for [`arp_autorelease_return`].
pub(crate) unsafe fn autorelease_return(
    entry: &'static str,
    obj: *mut ObjectHeader,
) -> *mut ObjectHeader {
    let Some(nonnull) = NonNull::new(obj) else {
        return obj;
    };
    // Moving an earlier hand-off into its pool may meet the missing-pool policy's panic.
    abort_on_panic(entry, || {
        // SAFETY: the caller owns the unit it hands off.
        unsafe { raw::autorelease_return(nonnull) }
    });
    obj
}

/// The claim of a return value, shared by `arp_retain_autoreleased_return` and
/// `objc_retainAutoreleasedReturnValue`.
///
/// # Safety
/// As for [`arp_retain_autoreleased_return`].
pub(crate) unsafe fn retain_autoreleased_return(
    entry: &'static str,
    obj: *mut ObjectHeader,
) -> *mut ObjectHeader {
    let Some(nonnull) = NonNull::new(obj) else {
        return obj;
    };
    abort_on_panic(entry, || {
        // SAFETY: the caller guarantees the object is live.
        unsafe { raw::retain_autoreleased_return(nonnull) }
    });
    obj
}

/// `arp_object *arp_autorelease_return(arp_object *obj)`
///
/// Returns `obj` to the caller's caller at +0 (objc4's `objc_autoreleaseReturnValue`): the
/// caller's reference waits for an [`arp_retain_autoreleased_return`] of the same object, which
/// takes it with no pool entry and no retain or release. Anything else that observes this
/// thread's pools first (a push, a pop, an autorelease, another hand-off, thread exit) moves it
/// into the innermost pool, as [`arp_autorelease`] would have. NULL is returned unchanged.
///
/// # Safety
/// `obj` must be null or a live object, and the caller gives up one reference it owns.
#[no_mangle]
pub unsafe extern "C" fn arp_autorelease_return(obj: *mut ObjectHeader) -> *mut ObjectHeader {
    // SAFETY: the caller's guarantee is ours.
    unsafe { autorelease_return("arp_autorelease_return", obj) }
}

/// `arp_object *arp_retain_autoreleased_return(arp_object *obj)`
///
/// Takes a reference to a returned object (objc4's `objc_retainAutoreleasedReturnValue`): the
/// handed-off one if `obj` is the object handed off, else a retain (any other waiting hand-off
/// then goes into the innermost pool). The identity is always checked: a claim of another object
/// never takes the hand-off. Returns `obj`; NULL is returned unchanged.
///
/// # Safety
/// `obj` must be null or a live object: just returned by `arp_autorelease_return`, or kept alive
/// by a pool or a reference.
#[no_mangle]
pub unsafe extern "C" fn arp_retain_autoreleased_return(
    obj: *mut ObjectHeader,
) -> *mut ObjectHeader {
    // SAFETY: the caller's guarantee is ours.
    unsafe { retain_autoreleased_return("arp_retain_autoreleased_return", obj) }
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
    fn payload_offsets_are_aligned_and_past_the_fixed_fields() {
        assert_eq!(PLAIN_OFFSET, 16);
        assert_eq!(CALLBACK_OFFSET % PAYLOAD_ALIGN, 0);
        assert!(CALLBACK_OFFSET >= mem::size_of::<CallbackObject>());
        assert_eq!(LARGE_OFFSET % PAYLOAD_ALIGN, 0);
        assert!(LARGE_OFFSET >= mem::size_of::<LargeObject>());
    }

    #[test]
    fn layout_rejects_sizes_that_overflow() {
        assert!(layout_for(usize::MAX).is_none());
        assert!(layout_for(isize::MAX as usize).is_none());
        assert_eq!(layout_for(3).unwrap().size(), LARGE_OFFSET + 3);
    }

    /// Every size from 0 to past the small limit, with and without a callback: the payload is
    /// zeroed, writable to its last byte, and recognised; the object is freed by its class.
    #[test]
    fn objects_of_every_size_have_zeroed_writable_payloads() {
        unsafe extern "C" fn nothing(_obj: *mut ObjectHeader, _ctx: *mut c_void) {}
        for size in 0..=SMALL_OBJECT_MAX + 32 {
            for dealloc in [None, Some(nothing as ArpDeallocFn)] {
                let obj = arp_object_new(size, dealloc, ptr::null_mut());
                assert!(!obj.is_null());
                // SAFETY: a live object we own; its payload has `size` bytes.
                unsafe {
                    let payload = arp_object_payload(obj).cast::<u8>();
                    assert!(!payload.is_null());
                    assert_eq!(payload.addr() % PAYLOAD_ALIGN, 0);
                    let bytes = std::slice::from_raw_parts_mut(payload, size);
                    assert!(bytes.iter().all(|&b| b == 0), "size {size}");
                    bytes.fill(0xEE);
                    arp_release(obj);
                }
            }
        }
    }
}
