//! The state every native object shares: not yet initialized, open, or
//! closed. Open objects hold an `Arc` so that a thread blocked without the
//! GVL keeps the mapping alive even if another thread closes the object.

use super::errors::{closed_error, type_error};
use super::typed::This;
use crate::core::CoreResult;
use magnus::{Error, Ruby, TypedData};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::Arc;

enum State<T> {
    Uninitialized,
    Open(Arc<T>),
    Closed,
}

/// A Ruby object's hold on a shared resource.
pub struct Handle<T> {
    /// The resource of `State::Open`'s `Arc` while the state is open, else
    /// `None`: what [`peek`](Self::peek) reads, one load instead of a
    /// borrow flag, a state tag and the `Arc`.
    open: Cell<Option<NonNull<T>>>,
    state: RefCell<State<T>>,
}

// SAFETY: `open` only caches a pointer into the `Arc<T>` that `state`
// owns, so the handle may move to another thread exactly when that `Arc`
// may (T: Send + Sync), as the RefCell alone did.
unsafe impl<T: Send + Sync> Send for Handle<T> {}

impl<T> Default for Handle<T> {
    fn default() -> Self {
        Handle {
            open: Cell::new(None),
            state: RefCell::new(State::Uninitialized),
        }
    }
}

impl<T> Handle<T> {
    /// Fills a freshly allocated handle (`initialize`); a second call raises.
    pub fn open(&self, ruby: &Ruby, resource: T) -> Result<(), Error> {
        self.adopt(ruby, Arc::new(resource))
    }

    /// Makes this handle share another's resource (`initialize_copy`).
    pub fn adopt(&self, ruby: &Ruby, resource: Arc<T>) -> Result<(), Error> {
        let mut state = self
            .state
            .try_borrow_mut()
            .map_err(|_| type_error(ruby, "object is busy"))?;
        if !matches!(*state, State::Uninitialized) {
            return Err(type_error(ruby, "object already initialized"));
        }
        self.open.set(Some(NonNull::from(&*resource)));
        *state = State::Open(resource);
        Ok(())
    }

    /// The open resource, or `ClosedError`.
    pub fn get(&self, ruby: &Ruby) -> Result<Arc<T>, Error> {
        match self.state.try_borrow().as_deref() {
            Ok(State::Open(resource)) => Ok(Arc::clone(resource)),
            Ok(State::Closed) => Err(closed_error(ruby, "closed")),
            Ok(State::Uninitialized) => Err(closed_error(ruby, "not initialized")),
            Err(_) => Err(closed_error(ruby, "object is being closed")),
        }
    }

    /// Runs `f` on the open resource without touching its reference count.
    /// `f` must not call into Ruby (Ruby code could close the handle).
    pub fn with<R>(&self, ruby: &Ruby, f: impl FnOnce(&T) -> R) -> Result<R, Error> {
        match self.state.try_borrow().as_deref() {
            Ok(State::Open(resource)) => Ok(f(resource)),
            Ok(State::Closed) => Err(closed_error(ruby, "closed")),
            Ok(State::Uninitialized) => Err(closed_error(ruby, "not initialized")),
            Err(_) => Err(closed_error(ruby, "object is being closed")),
        }
    }

    /// The open resource, with neither a reference count nor a borrow
    /// guard: for the C entry points of `fast_path` and `fast_lock`.
    ///
    /// # Safety
    /// The caller holds the GVL and calls no Ruby code while it uses the
    /// reference (only Ruby code can close the handle).
    #[inline(always)]
    pub unsafe fn peek(&self) -> Option<&T> {
        // SAFETY: `open` points into the `Arc` that `state` holds while it
        // is open (set with it in `adopt`, cleared before it is dropped in
        // `close`); only Ruby code can close the handle (see the contract).
        self.open.get().map(|resource| unsafe { resource.as_ref() })
    }

    /// Drops this process's hold; idempotent. The memory is unmapped once no
    /// blocked thread uses it any more.
    pub fn close(&self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            self.open.set(None);
            *state = State::Closed;
        }
    }

    /// True after `close` (an uninitialized object is not closed).
    pub fn is_closed(&self) -> bool {
        matches!(self.state.try_borrow().as_deref(), Ok(State::Closed))
    }
}

/// A Ruby class whose objects hold a [`Handle`]. [`define_handle_class!`]
/// gives it the methods every such class has (allocation,
/// `initialize_copy`, `close`, `closed?`), so its file holds only what is
/// particular to it.
pub trait HandleClass: TypedData + Default {
    /// What the handle holds.
    type Resource;

    /// The Ruby class's name, e.g. `ProcessShared::Mutex` (recorded in the
    /// header of a named object).
    const CLASS_NAME: &'static str;

    /// The object's handle.
    fn handle(&self) -> &Handle<Self::Resource>;

    /// What `close` does first with the open resource (a lock releases a
    /// hold of the calling thread, which nothing could release later).
    fn before_close(resource: &Self::Resource) {
        let _ = resource;
    }
}

/// `initialize` of a class whose resource fills one shared page: makes it
/// with `make` (collecting garbage first if the process ran out of
/// mappings) and opens the handle. Anonymous only: a class whose core type
/// implements `SharedState` uses `named::initialize` instead, and so takes
/// `name:`/`path:` (every class does today; this stays for one that
/// cannot).
#[allow(dead_code)]
pub fn open_page<T: HandleClass>(
    ruby: &Ruby,
    rb_self: This<T>,
    make: impl FnMut() -> CoreResult<T::Resource>,
) -> Result<(), Error> {
    let resource = super::gc::allocate(ruby, crate::platform::page_size(), make)?;
    rb_self.handle().open(ruby, resource)
}

/// `initialize_copy`: the copy shares the original's resource.
pub fn initialize_copy<T: HandleClass>(
    ruby: &Ruby,
    rb_self: This<T>,
    original: This<T>,
) -> Result<(), Error> {
    rb_self.handle().adopt(ruby, original.handle().get(ruby)?)
}

/// `close`: releases this process's hold; idempotent.
pub fn close<T: HandleClass>(ruby: &Ruby, rb_self: This<T>) {
    let _ = rb_self.handle().with(ruby, T::before_close);
    rb_self.handle().close();
}

/// `closed?`: true after `close`.
pub fn is_closed<T: HandleClass>(rb_self: This<T>) -> bool {
    rb_self.handle().is_closed()
}

/// `inspect`: `#<Class state>`, the state described by `describe` while
/// the object is open, else `closed` or `uninitialized`. Never raises.
pub fn inspect_with<T: HandleClass>(
    ruby: &Ruby,
    rb_self: This<T>,
    describe: impl FnOnce(&T::Resource) -> String,
) -> String {
    let class = super::convert::class_name(magnus::IntoValue::into_value_with(rb_self, ruby));
    let state = match rb_self.handle().with(ruby, describe) {
        Ok(state) => state,
        Err(_) if rb_self.handle().is_closed() => "closed".to_string(),
        Err(_) => "uninitialized".to_string(),
    };
    format!("#<{class} {state}>")
}

/// Defines a Ruby class's Rust type: a `#[magnus::wrap]` struct holding a
/// `Handle` of the resource, and its [`HandleClass`] impl. `before_close`
/// names a function run on the open resource by `close`.
///
/// ```ignore
/// handle_class!(Mutex, "ProcessShared::Mutex", CoreMutex, before_close = release_own_hold);
/// ```
macro_rules! handle_class {
    ($name:ident, $class:literal, $resource:ty $(, before_close = $before_close:path)?) => {
        #[doc = concat!("`", $class, "`: a Ruby object's hold on a shared resource.")]
        #[magnus::wrap(class = $class, free_immediately, size)]
        #[derive(Default)]
        pub struct $name {
            pub(crate) handle: $crate::ruby_api::handle::Handle<$resource>,
        }

        impl $crate::ruby_api::handle::HandleClass for $name {
            type Resource = $resource;
            const CLASS_NAME: &'static str = $class;

            fn handle(&self) -> &$crate::ruby_api::handle::Handle<$resource> {
                &self.handle
            }

            $(
                fn before_close(resource: &$resource) {
                    $before_close(resource)
                }
            )?
        }
    };
}

/// Defines `class`'s allocator and the methods of [`HandleClass`] for the
/// Rust type `$type`.
macro_rules! define_handle_class {
    ($class:expr, $type:ty) => {{
        use $crate::ruby_api::guard::method;
        use $crate::ruby_api::handle;
        let class: magnus::RClass = $class;
        class.define_alloc_func::<$type>();
        class.define_method(
            "initialize_copy",
            method!(handle::initialize_copy::<$type>, 1),
        )?;
        class.define_method("close", method!(handle::close::<$type>, 0))?;
        class.define_method("closed?", method!(handle::is_closed::<$type>, 0))?;
    }};
}

pub(crate) use {define_handle_class, handle_class};
