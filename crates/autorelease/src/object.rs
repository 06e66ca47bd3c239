//! Reference-counted objects: a header (atomic count + class) followed by the value.
//!
//! [`Obj<T>`] is the safe handle. [`ObjectHeader`] and [`ObjectClass`] are public so that other
//! layouts (the C ABI's variable-sized objects) can be the runtime's own objects too: anything that
//! starts with an `ObjectHeader` can be retained, released and autoreleased.
//!
//! # Invariants
//!
//! The `unsafe` code here relies on these, and every `SAFETY` note names the ones it uses:
//!
//! 1. An object is live while its count is above zero. Each unit of the count is owned by exactly
//!    one holder: an [`Obj`] handle, a pool entry (one unit per coalesced autorelease), or a
//!    caller of the raw API; whoever owns a unit may read the object.
//! 2. The class's `dealloc` runs exactly once, when the count reaches zero, on the thread that
//!    gave up the last unit; nothing uses a pointer to the object after that.
//! 3. An `Obj<T>` points at an `ObjBox<T>` that [`Obj::new`] allocated, from the object heap when
//!    [`Obj::<T>::HEAP_CLASS`](Obj) is `Some` (a block of that size class) and as a `Box`
//!    otherwise, and whose class is `Obj::<T>::CLASS`; the header is its first field (`repr(C)`),
//!    so the object pointer and the box pointer are the same address.
//! 4. No `&mut` to a value is ever handed out: handles and pools only share it (`&T`), so any
//!    number of them may alias it, on any thread where `T: Sync` allows.
//! 5. A borrow `&'p T` from [`Obj::autorelease`] is backed by the pool's unit until that pool
//!    pops, which only the end of `'p` (or an `unsafe` raw pop, whose caller vouches for borrows)
//!    does; `T: 'static`, so nothing the value's destructor reads is gone by then.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::panic::Location;
use std::process;
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicUsize, Ordering};

use crate::entry::ADDR_MASK;
use crate::object_heap;
use crate::pool::AutoreleasePool;
use crate::pool_stack;
use crate::valgrind;

/// What every object of one kind shares: its name (for pool printouts) and how to destroy it.
///
/// # Example
/// ```
/// use autorelease::raw::{ObjectClass, ObjectHeader};
/// use std::ptr::NonNull;
///
/// unsafe fn dealloc_boxed_header(obj: NonNull<ObjectHeader>) {
///     // SAFETY: objects of this class are `Box<ObjectHeader>`s (see below).
///     drop(unsafe { Box::from_raw(obj.as_ptr()) });
/// }
/// static BARE: ObjectClass = ObjectClass::new(|| "Bare", dealloc_boxed_header);
///
/// let obj = NonNull::from(Box::leak(Box::new(ObjectHeader::new(&BARE))));
/// // SAFETY: `obj` is a live object with one reference, which we give up.
/// unsafe { autorelease::raw::release(obj) };
/// ```
pub struct ObjectClass {
    name: fn() -> &'static str,
    dealloc: unsafe fn(NonNull<ObjectHeader>),
}

impl ObjectClass {
    /// A class named by `name`, destroyed by `dealloc`.
    ///
    /// `dealloc` runs exactly once, on the thread that drops the last reference, when the count
    /// reaches zero; it must drop the value and free the memory the object was allocated with.
    pub const fn new(
        name: fn() -> &'static str,
        dealloc: unsafe fn(NonNull<ObjectHeader>),
    ) -> ObjectClass {
        ObjectClass { name, dealloc }
    }

    /// The class's name, as shown by [`print_pools`](crate::print_pools).
    pub fn name(&self) -> &'static str {
        (self.name)()
    }
}

impl fmt::Debug for ObjectClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectClass")
            .field("name", &self.name())
            .finish()
    }
}

/// The start of every object: its retain count and its class.
///
/// Objects are handled through `NonNull<ObjectHeader>` by the pool; the header must be the first
/// field of a `#[repr(C)]` layout so that pointer also reaches the rest of the object.
#[repr(C)]
pub struct ObjectHeader {
    count: AtomicUsize,
    class: &'static ObjectClass,
}

impl ObjectHeader {
    /// A header with retain count 1.
    pub const fn new(class: &'static ObjectClass) -> ObjectHeader {
        ObjectHeader {
            count: AtomicUsize::new(1),
            class,
        }
    }

    /// The current retain count. Only a snapshot when other threads hold references.
    pub fn retain_count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// The object's class.
    pub fn class(&self) -> &'static ObjectClass {
        self.class
    }
}

impl fmt::Debug for ObjectHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectHeader")
            .field("count", &self.retain_count())
            .field("class", &self.class.name())
            .finish()
    }
}

/// Past this many references a count is assumed to be leaking in a loop; aborting beats wrapping.
const MAX_COUNT: usize = isize::MAX as usize;

/// Adds one reference to `obj`.
///
/// # Safety
/// `obj` must point at a live object (one whose count has not reached zero) and the caller must
/// hold a reference to it for the duration of the call.
#[inline]
pub unsafe fn retain(obj: NonNull<ObjectHeader>) {
    // Relaxed is enough: a new reference can only be made from an existing one (as `Arc` argues).
    // SAFETY: the caller holds a unit, so the object is live (invariant 1).
    let old = unsafe { obj.as_ref() }
        .count
        .fetch_add(1, Ordering::Relaxed);
    if old > MAX_COUNT {
        eprintln!(
            "autorelease: retain count overflow on object {:p}",
            obj.as_ptr()
        );
        process::abort();
    }
}

/// Gives up one reference to `obj`; the object is destroyed when that was the last one.
///
/// # Safety
/// The caller must own one reference to the live object `obj`, and must not use it afterwards.
#[inline]
pub unsafe fn release(obj: NonNull<ObjectHeader>) {
    // SAFETY: the caller owns a unit, so the object is live (invariant 1).
    let header = unsafe { obj.as_ref() };
    // A count of 1 that we own cannot change under us (nobody else can reach the object), so the
    // common "last reference" case needs no read-modify-write.
    if header.count.load(Ordering::Acquire) != 1 {
        if valgrind::active() {
            // helgrind and drd cannot see what the atomic count orders (see below).
            valgrind::happens_before(obj.as_ptr());
        }
        if header.count.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Make every other thread's use of the object happen before we destroy it.
        atomic::fence(Ordering::Acquire);
    }
    if valgrind::active() {
        // The release/acquire pairs above, told to helgrind and drd: without it, the object heap
        // reusing the block looked like a race with the other threads' releases.
        valgrind::happens_after(obj.as_ptr());
    }
    let dealloc = header.class.dealloc;
    // SAFETY: the count reached zero: this was the last unit, so this is the one call of
    // `dealloc`, and nobody uses the object afterwards (invariant 2).
    unsafe { dealloc(obj) }
}

/// Gives up `n` references at once, where the caller knows at least one more remains (used when a
/// coalesced pool entry is released: all but the last release cannot destroy the object).
///
/// # Safety
/// The caller must own more than `n` references to the live object `obj`.
#[inline]
pub(crate) unsafe fn release_many_not_last(obj: NonNull<ObjectHeader>, n: usize) {
    if n > 0 {
        if valgrind::active() {
            valgrind::happens_before(obj.as_ptr());
        }
        // SAFETY: the caller owns units, so the object is live (invariant 1).
        unsafe { obj.as_ref() }
            .count
            .fetch_sub(n, Ordering::Release);
    }
}

/// Checks, once per allocation, that pool entries can tag the object's address.
#[inline]
pub(crate) fn check_address(obj: NonNull<ObjectHeader>) {
    if obj.as_ptr().addr() > ADDR_MASK {
        eprintln!(
            "autorelease: object address {:p} is above the 48-bit range pool entries can hold",
            obj.as_ptr()
        );
        process::abort();
    }
}

#[repr(C)]
struct ObjBox<T> {
    header: ObjectHeader,
    value: T,
}

/// A reference-counted object, shareable with autorelease pools.
///
/// `Clone` retains, `Drop` releases, and the value is dropped exactly once, when the count reaches
/// zero. [`autorelease`](Obj::autorelease) hands a reference to the innermost pool instead of
/// dropping it now. `Obj<T>` is one thin pointer; it is `Send` and `Sync` when `T` is both, as
/// `Arc` is (a pool on another thread may drop the last reference).
///
/// # Example
/// ```
/// use autorelease::{autoreleasepool, Obj};
///
/// let text = autoreleasepool(|pool| {
///     let s: &String = Obj::new(String::from("kept until the pool pops")).autorelease(pool);
///     s.to_uppercase()
/// });
/// assert_eq!(text, "KEPT UNTIL THE POOL POPS");
/// ```
pub struct Obj<T> {
    ptr: NonNull<ObjBox<T>>,
    _owns: PhantomData<ObjBox<T>>,
}

// SAFETY: as for `Arc<T>`: the count is atomic, and the value may be dropped on (Send) or shared
// with (Sync) whichever thread holds a handle (invariants 2 and 4).
unsafe impl<T: Send + Sync> Send for Obj<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Obj<T> {}

impl<T> Obj<T> {
    const CLASS: &'static ObjectClass =
        &ObjectClass::new(std::any::type_name::<T>, dealloc_box::<T>);

    /// The object heap's size class for an `ObjBox<T>`, if it is small enough for one.
    const HEAP_CLASS: Option<usize> = object_heap::class_for(
        std::mem::size_of::<ObjBox<T>>(),
        std::mem::align_of::<ObjBox<T>>(),
    );

    /// A new object holding `value`, with retain count 1.
    pub fn new(value: T) -> Obj<T> {
        let contents = ObjBox {
            header: ObjectHeader::new(Self::CLASS),
            value,
        };
        let ptr = match Self::HEAP_CLASS {
            Some(class) => {
                let block = object_heap::alloc(class).cast::<ObjBox<T>>();
                // SAFETY: the block is ours, 16-byte aligned and at least as large as an
                // `ObjBox<T>` (`class_for` checked size and alignment).
                unsafe { block.as_ptr().write(contents) };
                block
            }
            None => NonNull::from(Box::leak(Box::new(contents))),
        };
        check_address(ptr.cast());
        Obj {
            ptr,
            _owns: PhantomData,
        }
    }

    /// The current retain count (a snapshot if other threads hold references).
    pub fn retain_count(this: &Obj<T>) -> usize {
        this.header().retain_count()
    }

    /// Whether two handles refer to the same object.
    pub fn ptr_eq(a: &Obj<T>, b: &Obj<T>) -> bool {
        a.ptr == b.ptr
    }

    /// Gives up this handle without releasing; the reference is now the caller's to manage.
    pub fn into_raw(self) -> NonNull<ObjectHeader> {
        self.into_header()
    }

    /// Takes back a reference given up with [`into_raw`](Obj::into_raw).
    ///
    /// # Safety
    /// `obj` must come from `Obj::<T>::into_raw` (same `T`), and the caller gives up that reference.
    pub unsafe fn from_raw(obj: NonNull<ObjectHeader>) -> Obj<T> {
        Obj {
            ptr: obj.cast(),
            _owns: PhantomData,
        }
    }

    fn header(&self) -> &ObjectHeader {
        // SAFETY: this handle owns a unit, so the object is live (invariant 1).
        unsafe { &self.ptr.as_ref().header }
    }

    fn into_header(self) -> NonNull<ObjectHeader> {
        let ptr = self.ptr.cast();
        std::mem::forget(self);
        ptr
    }
}

/// Handing a reference to a pool: only for values that borrow nothing (`T: 'static`).
///
/// A pool releases its objects when it pops, after the code that autoreleased them has returned
/// and its locals are gone, newest object first. A value that borrowed anything could have its
/// destructor run after what it borrows: a local of the pool's closure, or a newer object of the
/// same pool that was released first. `'static` is the rule that rules out every such order; a
/// value can still own other objects (`Obj<RefCell<Vec<Obj<String>>>>`), which keeps them alive.
impl<T: 'static> Obj<T> {
    /// Hands this reference to `pool` and borrows the value for as long as the pool lives.
    ///
    /// The retain count is unchanged; the pool releases the object once when it is popped.
    /// `T` must be `'static`: see [the crate docs](crate#what-the-safe-api-guarantees).
    ///
    /// # Panics
    /// If `pool` is not the innermost pool of this thread (an outer pool's marker used inside an
    /// inner pool would let the reference outlive the object), or if it is being popped.
    #[track_caller]
    pub fn autorelease<'p>(self, pool: AutoreleasePool<'p>) -> &'p T {
        let ptr = self.into_header();
        if !pool.autorelease_raw(ptr, Location::caller()) {
            // SAFETY: the pool refused it, so the unit is still ours (invariant 1): dropping this handle
            // releases it while the panic unwinds.
            let _ours = unsafe { Obj::<T>::from_raw(ptr) };
            pool.assert_innermost();
            unreachable!("a pool refused an object while being innermost");
        }
        // SAFETY: the pool now owns a unit, and it is the innermost live pool, so the borrow is
        // backed until `'p` ends (invariant 5); the box layout is invariant 3's.
        unsafe { &(*ptr.cast::<ObjBox<T>>().as_ptr()).value }
    }

    /// Hands this reference to the innermost pool of this thread, keeping no borrow.
    ///
    /// With no pool pushed the object is kept until the thread exits (objc4's behaviour; see
    /// [`MissingPoolPolicy`](crate::MissingPoolPolicy)).
    #[track_caller]
    pub fn autorelease_to_innermost(self) {
        pool_stack::autorelease(self.into_header(), Location::caller());
    }
}

/// Returning objects without a pool entry: objc4's `objc_autoreleaseReturnValue` /
/// `objc_retainAutoreleasedReturnValue` pair, with the object's identity always checked.
impl<T: 'static> Obj<T> {
    /// Hands this reference to the caller of the current function as a return value: what
    /// [`autorelease`](Obj::autorelease) does, except that a [`Returned::claim`] of the same object
    /// that comes before anything else touches the pools takes the reference back with no pool
    /// entry and no retain or release. Otherwise (a push, a pop, another autorelease or hand-off,
    /// thread exit) it goes into `pool` first, exactly once.
    ///
    /// # Panics
    /// If `pool` is not the innermost pool of this thread, as for `autorelease`.
    #[track_caller]
    pub fn autorelease_return<'p>(self, pool: AutoreleasePool<'p>) -> Returned<'p, T> {
        let ptr = self.into_header();
        if !pool.autorelease_return_raw(ptr, Location::caller()) {
            // SAFETY: the pool refused it, so the reference is still ours (invariant 1).
            let _ours = unsafe { Obj::<T>::from_raw(ptr) };
            pool.assert_innermost();
            unreachable!("a pool refused an object while being innermost");
        }
        Returned {
            ptr: ptr.cast(),
            _pool: PhantomData,
        }
    }
}

/// An object returned by [`Obj::autorelease_return`], whose reference is waiting for the caller's
/// [`claim`](Returned::claim), or already in the pool `'p` (which keeps the object alive until it
/// pops). Not `Send`: the hand-off belongs to the thread's pools.
#[must_use = "claim it, or the pool releases it"]
pub struct Returned<'p, T> {
    ptr: NonNull<ObjBox<T>>,
    _pool: PhantomData<(&'p T, *const ())>,
}

impl<'p, T> Returned<'p, T> {
    /// Takes a reference to the returned object: the handed-off one if it is still waiting (no
    /// retain, no pool entry), else a new one (a retain; the handed-off reference stays in the
    /// pool).
    pub fn claim(self) -> Obj<T> {
        // SAFETY: the object is live: its handed-off unit is either waiting or in the pool `'p`,
        // which is still live (invariants 1 and 5).
        unsafe { pool_stack::claim_return(self.ptr.cast()) };
        // SAFETY: `claim_return` gave us one unit of this `ObjBox<T>` (invariant 3).
        unsafe { Obj::from_raw(self.ptr.cast()) }
    }

    /// The returned value, borrowed from this handle. Not for `'p`: a claim gives the reference
    /// to the claimer, who may drop it before the pool pops.
    pub fn get(&self) -> &T {
        // SAFETY: while this handle is unclaimed its unit is waiting or in the live pool `'p`
        // (invariants 1 and 5), and a claim consumes the handle, ending this borrow.
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

/// Destroys an `ObjBox<T>` made by [`Obj::new`].
///
/// # Safety
/// `obj` must be an `ObjBox<T>` whose count has reached zero.
unsafe fn dealloc_box<T>(obj: NonNull<ObjectHeader>) {
    let ptr = obj.cast::<ObjBox<T>>();
    match Obj::<T>::HEAP_CLASS {
        Some(class) => {
            /// Gives the block back when dropped: also when the value's destructor panics.
            struct FreeBlock(NonNull<u8>, usize);
            impl Drop for FreeBlock {
                fn drop(&mut self) {
                    // SAFETY: the block of class `self.1`, whose value has been dropped (or is
                    // unwinding out of its destructor), and which nothing uses any more.
                    unsafe { object_heap::free(self.0, self.1) }
                }
            }
            let _free = FreeBlock(ptr.cast(), class);
            // SAFETY: `Obj::new` wrote an `ObjBox<T>` into a heap block of `class` (invariant 3),
            // and nobody else references it now (invariant 2).
            unsafe { ptr.as_ptr().drop_in_place() };
        }
        // SAFETY: `Obj::new` allocated it as a `Box<ObjBox<T>>` (invariant 3), and nobody else
        // references it now (invariant 2).
        None => drop(unsafe { Box::from_raw(ptr.as_ptr()) }),
    }
}

impl<T> Clone for Obj<T> {
    /// Retains the object.
    fn clone(&self) -> Obj<T> {
        // SAFETY: this handle owns a unit, so the object is live (invariant 1).
        unsafe { retain(self.ptr.cast()) };
        Obj {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Obj<T> {
    /// Releases the object.
    fn drop(&mut self) {
        // SAFETY: this handle owns one unit and is going away (invariant 1).
        unsafe { release(self.ptr.cast()) }
    }
}

impl<T> Deref for Obj<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this handle owns a unit, so the value is live (invariant 1); no `&mut` to it
        // is ever handed out (invariant 4).
        unsafe { &self.ptr.as_ref().value }
    }
}

impl<T: fmt::Debug> fmt::Debug for Obj<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for Obj<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T> fmt::Pointer for Obj<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr, f)
    }
}
