//! Programs the safe API must reject, checked as `compile_fail` doctests (with the expected error
//! code where rustc gives one), so a change that made any of them compile fails the test suite.
//!
//! A borrow of an autoreleased object cannot be returned from its pool:
//! ```compile_fail
//! use autorelease::{autoreleasepool, Obj};
//! let escaped: &i32 = autoreleasepool(|pool| Obj::new(1).autorelease(pool));
//! ```
//!
//! ...nor stored outside it:
//! ```compile_fail,E0521
//! use autorelease::{autoreleasepool, Obj};
//! let mut kept = None;
//! autoreleasepool(|pool| kept = Some(Obj::new(2).autorelease(pool)));
//! ```
//!
//! The pool marker itself cannot leave its scope:
//! ```compile_fail,E0521
//! use autorelease::autoreleasepool;
//! let mut marker = None;
//! autoreleasepool(|pool| marker = Some(pool));
//! ```
//!
//! Markers cannot cross threads:
//! ```compile_fail,E0277
//! use autorelease::autoreleasepool;
//! autoreleasepool(|pool| std::thread::spawn(move || drop(pool)).join().unwrap());
//! ```
//!
//! ...nor be shared with another thread:
//! ```compile_fail,E0277
//! use autorelease::autoreleasepool;
//! autoreleasepool(|pool| std::thread::scope(|s| { s.spawn(|| pool.depth()); }));
//! ```
//!
//! A returned object's hand-off cannot outlive its pool (its reference may be in that pool):
//! ```compile_fail
//! use autorelease::{autoreleasepool, Obj};
//! let returned = autoreleasepool(|pool| Obj::new(3).autorelease_return(pool));
//! ```
//!
//! ...nor be claimed on another thread (the hand-off is this thread's):
//! ```compile_fail,E0277
//! use autorelease::{autoreleasepool, Obj};
//! autoreleasepool(|pool| {
//!     let returned = Obj::new(4).autorelease_return(pool);
//!     std::thread::scope(|s| { s.spawn(move || returned.claim()); });
//! });
//! ```
//!
//! ...and a borrow of its value ends with the claim, which may free the object:
//! ```compile_fail,E0505
//! use autorelease::{autoreleasepool, Obj};
//! autoreleasepool(|pool| {
//!     let returned = Obj::new(5).autorelease_return(pool);
//!     let value: &i32 = returned.get();
//!     drop(returned.claim());
//!     println!("{value}");
//! });
//! ```
//!
//! Pool tokens belong to the thread that pushed them:
//! ```compile_fail,E0277
//! let token = autorelease::push();
//! std::thread::spawn(move || unsafe { autorelease::pop(token) });
//! ```
//!
//! `Obj<T>` is `Send` only when `T` is `Send + Sync`, as `Arc<T>` is:
//! ```compile_fail,E0277
//! let obj = autorelease::Obj::new(std::rc::Rc::new(1));
//! std::thread::spawn(move || drop(obj));
//! ```
//!
//! No `&mut` access to an object's value is ever handed out:
//! ```compile_fail,E0596
//! let obj = autorelease::Obj::new(vec![1]);
//! obj.push(2);
//! ```

//!
//! # Destructors that run at the pop cannot reach what is already gone
//!
//! A pool releases its objects after the code that autoreleased them has returned, newest first,
//! so only values that borrow nothing (`T: 'static`) can be autoreleased. Each of these compiled
//! before that bound, and each let a destructor read freed memory at the pop.
//!
//! A value borrowing a local of the pool's own closure (the local dies first):
//! ```compile_fail,E0597
//! use autorelease::{autoreleasepool, Obj};
//! struct Peek<'a>(&'a [u8]);
//! impl Drop for Peek<'_> {
//!     fn drop(&mut self) { assert_eq!(self.0[0], 7) }
//! }
//! autoreleasepool(|pool| {
//!     let buf = vec![7u8; 4096];
//!     let _p = Obj::new(Peek(&buf)).autorelease(pool);
//! });
//! ```
//!
//! The same through `autorelease_to_innermost`, which takes no pool marker at all:
//! ```compile_fail,E0597
//! use autorelease::{autoreleasepool, Obj};
//! struct Reader<'a>(&'a String);
//! impl Drop for Reader<'_> {
//!     fn drop(&mut self) { assert!(!self.0.is_empty()) }
//! }
//! autoreleasepool(|_outer| {
//!     let s = String::from("still alive?");
//!     Obj::new(Reader(&s)).autorelease_to_innermost();
//! });
//! ```
//!
//! An older object holding a borrow of a newer one through a `Cell` (the newer is released first):
//! ```compile_fail,E0521
//! use autorelease::{autoreleasepool, Obj};
//! use std::cell::Cell;
//! struct Holder<'a>(Cell<Option<&'a String>>);
//! impl Drop for Holder<'_> {
//!     fn drop(&mut self) { if let Some(s) = self.0.get() { assert!(!s.is_empty()) } }
//! }
//! autoreleasepool(|pool| {
//!     let h = Obj::new(Holder(Cell::new(None))).autorelease(pool);
//!     let s = Obj::new(String::from("newer")).autorelease(pool);
//!     h.0.set(Some(s));
//! });
//! ```
//!
//! ...or through a `RefCell<Vec<&T>>` collecting newer objects:
//! ```compile_fail,E0521
//! use autorelease::{autoreleasepool, Obj};
//! use std::cell::RefCell;
//! autoreleasepool(|pool| {
//!     let list = Obj::new(RefCell::new(Vec::<&String>::new())).autorelease(pool);
//!     let s = Obj::new(String::from("newer")).autorelease(pool);
//!     list.borrow_mut().push(s);
//! });
//! ```
//!
//! A closure capturing a local, run by a destructor:
//! ```compile_fail,E0373
//! use autorelease::{autoreleasepool, Obj};
//! struct OnDrop<F: FnMut()>(F);
//! impl<F: FnMut()> Drop for OnDrop<F> {
//!     fn drop(&mut self) { (self.0)() }
//! }
//! autoreleasepool(|pool| {
//!     let name = String::from("local");
//!     Obj::new(OnDrop(|| println!("{name}"))).autorelease(pool);
//! });
//! ```
//!
//! A borrow of another object's value, taken through its `Obj` handle, then that handle dropped:
//! ```compile_fail,E0597
//! use autorelease::{autoreleasepool, Obj};
//! struct Peek<'a>(&'a [u8]);
//! impl Drop for Peek<'_> {
//!     fn drop(&mut self) { assert!(!self.0.is_empty()) }
//! }
//! autoreleasepool(|pool| {
//!     let owner = Obj::new(String::from("owned"));
//!     let view = Obj::new(Peek(owner.as_bytes()));
//!     view.clone().autorelease(pool);
//!     drop(view);
//!     drop(owner);
//! });
//! ```
//!
//! A marker kept in a value, for its destructor to autorelease into the pool being popped:
//! ```compile_fail,E0521
//! use autorelease::{autoreleasepool, AutoreleasePool, Obj};
//! struct Sneak<'p>(AutoreleasePool<'p>);
//! impl Drop for Sneak<'_> {
//!     fn drop(&mut self) { Obj::new(1).autorelease(self.0); }
//! }
//! autoreleasepool(|pool| {
//!     Obj::new(Sneak(pool)).autorelease(pool);
//! });
//! ```
//!
//! The control: values that own what they hold, newer objects included, are accepted.
//! ```
//! use autorelease::{autoreleasepool, Obj};
//! use std::cell::RefCell;
//! autoreleasepool(|pool| {
//!     let list = Obj::new(RefCell::new(Vec::<Obj<String>>::new())).autorelease(pool);
//!     let newer = Obj::new(String::from("newer"));
//!     list.borrow_mut().push(newer.clone());
//!     let s: &String = newer.autorelease(pool);
//!     let t: &&str = Obj::new("a static str").autorelease(pool);
//!     assert_eq!((s.len(), t.len(), list.borrow().len()), (5, 12, 1));
//!     Obj::new(5u8).autorelease_to_innermost();
//! });
//! ```
