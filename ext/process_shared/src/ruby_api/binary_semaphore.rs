//! `ProcessShared::BinarySemaphore`: a semaphore whose value is only ever 0
//! or 1, shared across fork.

use super::args::initial_value;
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with, open_page};
use super::methods;
use super::typed::This;
use crate::core::binary_semaphore::BinarySemaphore as CoreBinarySemaphore;
use magnus::{prelude::*, Error, RModule, Ruby, Value};

handle_class!(
    BinarySemaphore,
    "ProcessShared::BinarySemaphore",
    CoreBinarySemaphore
);

impl BinarySemaphore {
    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |semaphore| {
            format!(
                "value {}, {} waiting",
                semaphore.value(),
                semaphore.waiting()
            )
        })
    }

    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let initial = initial_value(ruby, args)?;
        open_page(ruby, rb_self, || CoreBinarySemaphore::new(initial))
    }

    fn value(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreBinarySemaphore::value)
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("BinarySemaphore", ruby.class_object())?;
    define_handle_class!(class, BinarySemaphore);
    class.define_method("initialize", method!(BinarySemaphore::initialize, -1))?;
    class.define_method("wait", method!(methods::wait::<BinarySemaphore>, 0))?;
    class.define_method(
        "try_wait",
        method!(methods::try_wait::<BinarySemaphore>, -1),
    )?;
    class.define_method("post", method!(methods::post::<BinarySemaphore>, 0))?;
    class.define_method("value", method!(BinarySemaphore::value, 0))?;
    class.define_method(
        "synchronize",
        method!(methods::synchronize::<BinarySemaphore>, 0),
    )?;
    class.define_method("inspect", method!(BinarySemaphore::inspect, 0))?;
    Ok(())
}
