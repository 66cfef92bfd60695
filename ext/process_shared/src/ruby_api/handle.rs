//! The state every native object shares: not yet initialized, open, or
//! closed. Open objects hold an `Arc` so that a thread blocked without the
//! GVL keeps the mapping alive even if another thread closes the object.

use super::errors::{closed_error, type_error};
use magnus::{Error, Ruby};
use std::cell::RefCell;
use std::sync::Arc;

enum State<T> {
    Uninitialized,
    Open(Arc<T>),
    Closed,
}

/// A Ruby object's hold on a shared resource.
pub struct Handle<T> {
    state: RefCell<State<T>>,
}

impl<T> Default for Handle<T> {
    fn default() -> Self {
        Handle {
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
    /// guard: for the C entry points of `fast_path`.
    ///
    /// # Safety
    /// The caller holds the GVL and calls no Ruby code while it uses the
    /// reference (only Ruby code can close the handle).
    pub unsafe fn peek(&self) -> Option<&T> {
        // SAFETY: no `borrow_mut` can happen while the reference is used:
        // that needs Ruby code to run (see the contract).
        match unsafe { self.state.try_borrow_unguarded() } {
            Ok(State::Open(resource)) => Some(resource),
            _ => None,
        }
    }

    /// Drops this process's hold; idempotent. The memory is unmapped once no
    /// blocked thread uses it any more.
    pub fn close(&self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            *state = State::Closed;
        }
    }

    /// True after `close` (an uninitialized object is not closed).
    pub fn is_closed(&self) -> bool {
        matches!(self.state.try_borrow().as_deref(), Ok(State::Closed))
    }
}
