//! Model-based test: random sequences of push / pop (including drain-through pops) / autorelease /
//! retain / release / destructors that autorelease, across many pages, checked after every step
//! against a plain `Vec` stack model of what should have been released, in which order.

use std::cell::RefCell;
use std::collections::HashMap;

use autorelease::{pop, push, stats, Obj, PoolToken};
use proptest::prelude::*;

thread_local! {
    static DROPPED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Logs its id when dropped; a "spawner" autoreleases a child object from its destructor.
struct Tracked {
    id: u32,
    spawns: bool,
}

const CHILD: u32 = 1_000_000;

impl Drop for Tracked {
    fn drop(&mut self) {
        let _ = DROPPED.try_with(|d| d.borrow_mut().push(self.id));
        if self.spawns {
            Obj::new(Tracked {
                id: self.id + CHILD,
                spawns: false,
            })
            .autorelease_to_innermost();
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Push,
    /// Pop the pool this many levels below the innermost (0 = innermost).
    Pop(usize),
    /// Autorelease a new object; `spawns`: its destructor autoreleases another.
    AutoreleaseNew {
        spawns: bool,
    },
    /// Autorelease this many new objects (spills across pages).
    AutoreleaseMany(usize),
    /// Make a new object and keep a handle to it.
    Hold {
        spawns: bool,
    },
    /// Retain a held object and autorelease the new reference (`k` picks which).
    AutoreleaseHeld(usize, usize),
    /// Release a held handle.
    DropHeld(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Push),
        3 => (0usize..3).prop_map(Op::Pop),
        6 => any::<bool>().prop_map(|spawns| Op::AutoreleaseNew { spawns }),
        1 => (1usize..700).prop_map(Op::AutoreleaseMany),
        2 => any::<bool>().prop_map(|spawns| Op::Hold { spawns }),
        4 => (any::<usize>(), 1usize..4).prop_map(|(i, n)| Op::AutoreleaseHeld(i, n)),
        2 => any::<usize>().prop_map(Op::DropHeld),
    ]
}

/// What the runtime should do, with a `Vec` per pool.
#[derive(Default)]
struct Model {
    pools: Vec<Vec<u32>>,
    counts: HashMap<u32, usize>,
    spawners: Vec<u32>,
    dropped: Vec<u32>,
}

impl Model {
    fn release(&mut self, id: u32) {
        let count = self
            .counts
            .get_mut(&id)
            .expect("released an unknown object");
        *count -= 1;
        if *count == 0 {
            self.counts.remove(&id);
            self.dropped.push(id);
            if self.spawners.contains(&id) {
                // The child goes to the innermost pool: the one being popped, if any.
                self.counts.insert(id + CHILD, 1);
                self.pools
                    .last_mut()
                    .expect("spawners are only released inside pools")
                    .push(id + CHILD);
            }
        }
    }

    fn pop_to(&mut self, remaining: usize) {
        while self.pools.len() > remaining {
            match self.pools.last_mut().unwrap().pop() {
                Some(id) => self.release(id),
                None => {
                    self.pools.pop();
                }
            }
        }
    }

    fn pending(&self) -> usize {
        self.pools.iter().map(Vec::len).sum()
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    DROPPED.with(|d| d.borrow_mut().clear());
    let mut model = Model::default();
    let mut tokens: Vec<PoolToken> = Vec::new();
    let mut held: Vec<(u32, Obj<Tracked>)> = Vec::new();
    let mut next_id = 0u32;
    let mut new_id = |model: &mut Model, spawns: bool| {
        next_id += 1;
        model.counts.insert(next_id, 1);
        if spawns {
            model.spawners.push(next_id);
        }
        (
            next_id,
            Obj::new(Tracked {
                id: next_id,
                spawns,
            }),
        )
    };
    // An outer pool, so that nothing is ever autoreleased with no pool in place.
    tokens.push(push());
    model.pools.push(Vec::new());

    for op in ops {
        match op {
            Op::Push => {
                tokens.push(push());
                model.pools.push(Vec::new());
            }
            Op::Pop(levels) => {
                if tokens.len() > 1 {
                    let index = tokens.len() - 1 - levels.min(tokens.len() - 2);
                    let token = tokens.drain(index..).next().unwrap();
                    // SAFETY: the test holds no borrows of pooled objects.
                    unsafe { pop(token) };
                    model.pop_to(index);
                }
            }
            Op::AutoreleaseNew { spawns } => {
                let (id, obj) = new_id(&mut model, spawns);
                obj.autorelease_to_innermost();
                model.pools.last_mut().unwrap().push(id);
            }
            Op::AutoreleaseMany(n) => {
                for _ in 0..n {
                    let (id, obj) = new_id(&mut model, false);
                    obj.autorelease_to_innermost();
                    model.pools.last_mut().unwrap().push(id);
                }
            }
            Op::Hold { spawns } => held.push(new_id(&mut model, spawns)),
            Op::AutoreleaseHeld(i, times) => {
                if !held.is_empty() {
                    let (id, obj) = &held[i % held.len()];
                    for _ in 0..times {
                        obj.clone().autorelease_to_innermost();
                        *model.counts.get_mut(id).unwrap() += 1;
                        model.pools.last_mut().unwrap().push(*id);
                    }
                }
            }
            Op::DropHeld(i) => {
                if !held.is_empty() {
                    let (id, obj) = held.remove(i % held.len());
                    drop(obj);
                    model.release(id);
                }
            }
        }
        let dropped = DROPPED.with(|d| d.borrow().clone());
        prop_assert_eq!(&dropped, &model.dropped, "release order diverged");
        let s = stats();
        prop_assert_eq!(s.pending, model.pending());
        prop_assert_eq!(s.depth, model.pools.len());
    }

    // Tear down: drop held handles (a spawner's child goes to the outer pool), pop the outer
    // pool, and everything must be gone.
    for (id, obj) in held.drain(..) {
        drop(obj);
        model.release(id);
    }
    // SAFETY: the test holds no borrows of pooled objects.
    unsafe { pop(tokens.remove(0)) };
    model.pop_to(0);
    let dropped = DROPPED.with(|d| d.borrow().clone());
    prop_assert_eq!(&dropped, &model.dropped);
    prop_assert!(model.counts.is_empty());
    prop_assert_eq!(stats().pending, 0);
    prop_assert_eq!(stats().depth, 0);
    Ok(())
}

/// 10,000 cases by default; `PROPTEST_CASES` lowers it (e.g. under valgrind).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn random_pool_operations_match_a_vec_stack_model(ops in prop::collection::vec(op(), 1..60)) {
        // A fresh thread per case, so a failing case's leftovers cannot leak into the next one.
        std::thread::spawn(move || run(ops)).join().expect("case panicked")?;
    }
}
