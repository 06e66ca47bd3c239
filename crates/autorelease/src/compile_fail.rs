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
