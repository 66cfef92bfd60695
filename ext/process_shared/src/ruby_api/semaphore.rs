//! `ProcessShared::Semaphore`: a counting semaphore shared across fork.

use super::args::initial_value;
use super::errors::OrRaise;
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with, open_page};
use super::methods;
use super::typed::This;
use crate::core::semaphore::Semaphore as CoreSemaphore;
use magnus::{prelude::*, Error, RModule, Ruby, Value};

handle_class!(Semaphore, "ProcessShared::Semaphore", CoreSemaphore);

impl Semaphore {
    fn waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreSemaphore::waiting)
    }

    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |semaphore| {
            let value = semaphore
                .value()
                .map_or_else(|_| "unknown".to_string(), |value| value.to_string());
            format!("value {value}, {} waiting", semaphore.waiting())
        })
    }

    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let initial = initial_value(ruby, args)?;
        open_page(ruby, rb_self, || CoreSemaphore::new(initial))
    }

    fn value(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self
            .handle
            .with(ruby, CoreSemaphore::value)?
            .or_raise(ruby)
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Semaphore", ruby.class_object())?;
    define_handle_class!(class, Semaphore);
    class.define_method("initialize", method!(Semaphore::initialize, -1))?;
    class.define_method("wait", method!(methods::wait::<Semaphore>, 0))?;
    class.define_method("try_wait", method!(methods::try_wait::<Semaphore>, -1))?;
    class.define_method("post", method!(methods::post::<Semaphore>, 0))?;
    class.define_method("value", method!(Semaphore::value, 0))?;
    class.define_method("synchronize", method!(methods::synchronize::<Semaphore>, 0))?;
    class.define_method("waiting", method!(Semaphore::waiting, 0))?;
    class.define_method("inspect", method!(Semaphore::inspect, 0))?;
    Ok(())
}
