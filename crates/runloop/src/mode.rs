//! Run-loop modes, and the table of which timers, sources and observers each mode holds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use crate::observer::Observer;
use crate::source::Source;
use crate::timer::Timer;

/// The name of a run-loop mode.
///
/// A run fires only the items of the mode it runs in. [`Mode::DEFAULT`] is the usual one;
/// [`Mode::COMMON`] is not a mode but the set of modes marked common (see
/// [`RunLoop::add_common_mode`](crate::RunLoop::add_common_mode)): an item added to it belongs to
/// every common mode, present and future. Modes are compared by name.
///
/// ```
/// use runloop::Mode;
/// const TRACKING: Mode = Mode::from_static("tracking");
/// assert_eq!(TRACKING, Mode::new(String::from("tracking")));
/// assert_ne!(TRACKING, Mode::DEFAULT);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mode(Cow<'static, str>);

impl Mode {
    /// The default mode (`kCFRunLoopDefaultMode`); it is marked common on every run loop.
    pub const DEFAULT: Mode = Mode(Cow::Borrowed("kCFRunLoopDefaultMode"));

    /// The common-modes set (`kCFRunLoopCommonModes`). Items added to it belong to every mode
    /// marked common. It cannot be run in.
    pub const COMMON: Mode = Mode(Cow::Borrowed("kCFRunLoopCommonModes"));

    /// A mode with the given name.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Mode {
        Mode(name.into())
    }

    /// A mode named by a static string, usable in `const` items.
    pub const fn from_static(name: &'static str) -> Mode {
        Mode(Cow::Borrowed(name))
    }

    /// The mode's name.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// Whether this is [`Mode::COMMON`], the common-modes set rather than a mode.
    pub fn is_common_set(&self) -> bool {
        *self == Mode::COMMON
    }
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mode({:?})", self.name())
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The timers, sources and observers of one mode (or of the common set), in the order added.
#[derive(Default)]
pub(crate) struct ModeItems {
    pub(crate) timers: Vec<Timer>,
    pub(crate) sources: Vec<Source>,
    pub(crate) observers: Vec<Observer>,
}

/// Something a mode can hold: gives the table generic access to the list it lives in.
pub(crate) trait ModeItem: Clone {
    fn list(items: &ModeItems) -> &Vec<Self>;
    fn list_mut(items: &mut ModeItems) -> &mut Vec<Self>;
    /// Identity, not equality of contents.
    fn same(&self, other: &Self) -> bool;
    /// False once invalidated: the table then treats the item as absent.
    fn is_valid(&self) -> bool;
}

/// Implements [`ModeItem`] and `Debug` for an item handle: `$item(Rc<..>)` whose inner struct
/// has a `registration` field, kept in `ModeItems::$list`. `Debug` shows the listed getters,
/// then `valid`.
macro_rules! mode_item {
    ($item:ident in $list:ident, debug { $($field:ident: $getter:ident),* $(,)? }) => {
        impl $crate::mode::ModeItem for $item {
            fn list(items: &$crate::mode::ModeItems) -> &Vec<Self> {
                &items.$list
            }
            fn list_mut(items: &mut $crate::mode::ModeItems) -> &mut Vec<Self> {
                &mut items.$list
            }
            fn same(&self, other: &Self) -> bool {
                ::std::rc::Rc::ptr_eq(&self.0, &other.0)
            }
            fn is_valid(&self) -> bool {
                self.0.registration.is_valid()
            }
        }

        impl ::std::fmt::Debug for $item {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($item))
                    $(.field(stringify!($field), &self.$getter()))*
                    .field("valid", &self.0.registration.is_valid())
                    .finish()
            }
        }
    };
}
pub(crate) use mode_item;

/// Every mode of one run loop, the common-modes set and the items added to it.
///
/// Items do not know the table: an invalidated item stays in its lists until the table next
/// changes ([`add`](ModeTable::add), [`add_common_mode`](ModeTable::add_common_mode)), which drops
/// it; until then every query skips it. Dropping it under the table's borrow is fine: an
/// invalidated item has already dropped its callback, so its drop runs no user code.
///
/// Removal returns the removed handles so the caller can drop them after releasing its borrow of
/// the table: dropping the last handle of a valid item drops its callback, which is user code.
pub(crate) struct ModeTable {
    modes: HashMap<Mode, ModeItems>,
    common_modes: Vec<Mode>,
    common_items: ModeItems,
}

impl ModeTable {
    /// A table whose only mode is [`Mode::DEFAULT`], marked common (as in CoreFoundation).
    pub(crate) fn new() -> ModeTable {
        let mut modes = HashMap::new();
        modes.insert(Mode::DEFAULT, ModeItems::default());
        ModeTable {
            modes,
            common_modes: vec![Mode::DEFAULT],
            common_items: ModeItems::default(),
        }
    }

    pub(crate) fn is_common(&self, mode: &Mode) -> bool {
        self.common_modes.contains(mode)
    }

    pub(crate) fn common_modes(&self) -> Vec<Mode> {
        self.common_modes.clone()
    }

    /// Marks `mode` common: it gets every item of the common set, now and later.
    pub(crate) fn add_common_mode(&mut self, mode: &Mode) {
        assert!(
            !mode.is_common_set(),
            "Mode::COMMON is the set of common modes; it cannot itself be marked common"
        );
        if self.is_common(mode) {
            return;
        }
        self.drop_invalidated();
        self.common_modes.push(mode.clone());
        let items = self.modes.entry(mode.clone()).or_default();
        merge::<Timer>(items, &self.common_items);
        merge::<Source>(items, &self.common_items);
        merge::<Observer>(items, &self.common_items);
    }

    /// Adds `item` to `mode` (or to the common set and every common mode); a no-op where present.
    pub(crate) fn add<T: ModeItem>(&mut self, item: &T, mode: &Mode) {
        self.drop_invalidated();
        if mode.is_common_set() {
            push_unique(T::list_mut(&mut self.common_items), item);
            for common in &self.common_modes {
                push_unique(
                    T::list_mut(self.modes.entry(common.clone()).or_default()),
                    item,
                );
            }
        } else {
            push_unique(
                T::list_mut(self.modes.entry(mode.clone()).or_default()),
                item,
            );
        }
    }

    /// Removes `item` from `mode` (from the common set: from it and from every common mode).
    pub(crate) fn remove<T: ModeItem>(&mut self, item: &T, mode: &Mode) -> Vec<T> {
        let mut removed = Vec::new();
        if mode.is_common_set() {
            removed.extend(take(T::list_mut(&mut self.common_items), item));
            for common in &self.common_modes {
                if let Some(items) = self.modes.get_mut(common) {
                    removed.extend(take(T::list_mut(items), item));
                }
            }
        } else if let Some(items) = self.modes.get_mut(mode) {
            removed.extend(take(T::list_mut(items), item));
        }
        removed
    }

    /// Whether `item` is in `mode` (for [`Mode::COMMON`]: in the common set).
    pub(crate) fn contains<T: ModeItem>(&self, item: &T, mode: &Mode) -> bool {
        let items = if mode.is_common_set() {
            Some(&self.common_items)
        } else {
            self.modes.get(mode)
        };
        item.is_valid() && items.is_some_and(|items| T::list(items).iter().any(|i| i.same(item)))
    }

    /// The valid items of one kind in `mode`, in the order they were added.
    pub(crate) fn items<T: ModeItem>(&self, mode: &Mode) -> Vec<T> {
        self.modes
            .get(mode)
            .map(|items| {
                T::list(items)
                    .iter()
                    .filter(|i| i.is_valid())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `mode` holds a valid timer or source (observers do not keep a run going).
    pub(crate) fn has_timers_or_sources(&self, mode: &Mode) -> bool {
        self.modes.get(mode).is_some_and(|items| {
            items.timers.iter().any(Timer::is_valid) || items.sources.iter().any(Source::is_valid)
        })
    }

    /// Drops the invalidated items from every list (see the type's docs for why no user code
    /// runs).
    fn drop_invalidated(&mut self) {
        for items in self.modes.values_mut().chain([&mut self.common_items]) {
            items.timers.retain(Timer::is_valid);
            items.sources.retain(Source::is_valid);
            items.observers.retain(Observer::is_valid);
        }
    }
}

fn push_unique<T: ModeItem>(list: &mut Vec<T>, item: &T) {
    if !list.iter().any(|i| i.same(item)) {
        list.push(item.clone());
    }
}

fn merge<T: ModeItem>(into: &mut ModeItems, from: &ModeItems) {
    for item in T::list(from) {
        push_unique(T::list_mut(into), item);
    }
}

fn take<T: ModeItem>(list: &mut Vec<T>, item: &T) -> Vec<T> {
    let mut removed = Vec::new();
    list.retain(|i| {
        if i.same(item) {
            removed.push(i.clone());
            false
        } else {
            true
        }
    });
    removed
}
