//! `name:`, `path:`, `create:` and `mode:` for every class, and what named
//! objects have in common: `#name`, `#path`, `#unlink`, `Klass.unlink`,
//! `ProcessShared.named_objects`.
//!
//! A class file's `initialize` calls [`initialize`] (or, for plain memory,
//! [`split_args`] and [`open_region`]), and its `init` calls [`include_in`]; see ARCHITECTURE.md, "Where to add a
//! class".

use super::errors::{argument_error, core_error, errno_error, not_implemented_error, type_error};
use super::gc;
use super::guard::{function, method};
use super::handle::HandleClass;
use super::typed::This;
use crate::core::named::{
    self as core_named, Create, HasRegion, Hooks, Layout, NamedError, NamedSpec, Origin,
    SharedState,
};
use crate::core::region::SharedRegion;
use crate::core::CoreError;
use magnus::{
    prelude::*, r_hash::ForEach, scan_args::scan_args, Error, RClass, RHash, RModule, Ruby, Symbol,
    Value,
};
use std::time::Duration;

/// How long an opener sleeps (GVL released, interruptible) between looks
/// at an object another process is initializing.
const PAUSE: Duration = Duration::from_millis(1);

/// `initialize` of every class whose resource is a [`SharedState`]: splits
/// the naming keywords off `args`, reads the initial values from the
/// positional rest with `init`, and opens the handle on fresh anonymous
/// memory or on the named object (initial values apply only if this call
/// creates it).
pub fn initialize<T: HandleClass>(
    ruby: &Ruby,
    rb_self: This<T>,
    args: &[Value],
    init: impl FnOnce(&[Value]) -> Result<<T::Resource as SharedState>::Init, Error>,
) -> Result<(), Error>
where
    T::Resource: SharedState,
    <T::Resource as SharedState>::Init: Clone,
{
    let (args, naming) = split_args(ruby, args)?;
    let init = init(args)?;
    let resource = create::<T::Resource>(ruby, naming.as_ref(), T::CLASS_NAME, init)?;
    rb_self.handle().open(ruby, resource)
}

/// The `init` of [`initialize`] for classes without initial values: no
/// positional argument.
pub fn no_arguments(args: &[Value]) -> Result<(), Error> {
    scan_args::<(), (), (), (), (), ()>(args).map(drop)
}

/// Splits the keywords of a named object off the end of `args`: the
/// positional arguments, and what to open (`None`: anonymous memory).
/// Unknown keywords, `name:` with `path:`, a bad `create:` or `mode:` raise
/// `ArgumentError`; a name or path that is not a String, `TypeError`.
pub fn split_args<'a>(
    ruby: &Ruby,
    args: &'a [Value],
) -> Result<(&'a [Value], Option<NamedSpec>), Error> {
    let Some((last, positional)) = args.split_last() else {
        return Ok((args, None));
    };
    let Some(keywords) = RHash::from_value(*last) else {
        return Ok((args, None));
    };
    let mut name = None;
    let mut path = None;
    let mut create = None;
    let mut mode = None;
    let mut unknown = Vec::new();
    keywords.foreach(|key: Value, value: Value| {
        match Symbol::from_value(key).and_then(|key| key.name().ok()) {
            Some(key) if key == "name" => name = Some(value),
            Some(key) if key == "path" => path = Some(value),
            Some(key) if key == "create" => create = Some(value),
            Some(key) if key == "mode" => mode = Some(value),
            _ => unknown.push(key.inspect()),
        }
        Ok(ForEach::Continue)
    })?;
    if !unknown.is_empty() {
        return Err(argument_error(
            ruby,
            format!("unknown keyword(s): {}", unknown.join(", ")),
        ));
    }
    let origin = match (name.filter(|v| !v.is_nil()), path.filter(|v| !v.is_nil())) {
        (Some(_), Some(_)) => {
            return Err(argument_error(ruby, "give name: or path:, not both"));
        }
        (Some(name), None) => Origin::shm(&string(ruby, name, "name")?),
        (None, Some(path)) => Origin::file(&path_string(ruby, path)?),
        (None, None) => {
            if create.is_some() || mode.is_some() {
                return Err(argument_error(
                    ruby,
                    "create: and mode: need name: or path:",
                ));
            }
            return Ok((positional, None));
        }
    }
    .map_err(|err| named_error(ruby, err))?;
    let create = match create {
        None => Create::OpenOrCreate,
        Some(value) if value.is_kind_of(ruby.class_true_class()) => Create::OpenOrCreate,
        Some(value) if value.is_kind_of(ruby.class_false_class()) => Create::OpenOnly,
        Some(value)
            if Symbol::from_value(value)
                .and_then(|symbol| symbol.name().ok())
                .is_some_and(|name| name == "exclusive") =>
        {
            Create::Exclusive
        }
        Some(value) => {
            return Err(argument_error(
                ruby,
                format!(
                    "create: must be true, false or :exclusive, not {}",
                    value.inspect()
                ),
            ))
        }
    };
    let mode = match mode {
        None => None,
        Some(value) => Some(
            magnus::Integer::from_value(value)
                .and_then(|mode| mode.to_u32().ok())
                .filter(|&mode| mode <= 0o777)
                .ok_or_else(|| {
                    argument_error(
                        ruby,
                        format!(
                            "mode: must be a permission mode from 0 to 0o777, not {}",
                            value.inspect()
                        ),
                    )
                })?,
        ),
    };
    Ok((
        positional,
        Some(NamedSpec {
            origin,
            create,
            mode,
        }),
    ))
}

fn string(ruby: &Ruby, value: Value, what: &str) -> Result<String, Error> {
    magnus::RString::from_value(value)
        .ok_or_else(|| {
            type_error(
                ruby,
                format!(
                    "{what} must be a String, not {}",
                    super::convert::class_name(value)
                ),
            )
        })?
        .to_string()
}

/// A path: a String, or anything with `to_path` (a `Pathname`).
fn path_string(ruby: &Ruby, value: Value) -> Result<String, Error> {
    if magnus::RString::from_value(value).is_none() && value.respond_to("to_path", false)? {
        return string(ruby, value.funcall("to_path", ())?, "path");
    }
    string(ruby, value, "path")
}

/// Maps a naming failure to the exception the README promises.
pub fn named_error(ruby: &Ruby, err: NamedError) -> Error {
    match err {
        NamedError::WrongKind(message) => type_error(ruby, message),
        NamedError::Invalid(message) => argument_error(ruby, message),
        NamedError::Os { errno, message } => errno_error(ruby, errno, &message),
        NamedError::Core(err) => core_error(ruby, err),
    }
}

/// Why an attempt to make an object failed: the core refused, or a Ruby
/// interrupt arrived while it waited for another process.
enum Attempt {
    Failed(NamedError),
    Interrupted(Error),
}

impl Attempt {
    fn out_of_mappings(&self) -> bool {
        match self {
            Attempt::Failed(NamedError::Os { errno, .. }) => *errno == libc::ENOMEM,
            Attempt::Failed(NamedError::Core(CoreError::Os(os))) => {
                os.raw_os_error() == Some(libc::ENOMEM)
            }
            _ => false,
        }
    }

    fn raise(self, ruby: &Ruby) -> Error {
        match self {
            Attempt::Failed(err) => named_error(ruby, err),
            Attempt::Interrupted(err) => err,
        }
    }
}

/// Runs `open` (which may wait for another process initializing the
/// object) with hooks that sleep between looks, GVL released, and let
/// Ruby's interrupts through.
fn with_hooks<T>(
    ruby: &Ruby,
    open: impl FnOnce(&mut Hooks<'_>) -> Result<T, NamedError>,
) -> Result<T, Attempt> {
    let mut interrupted = None;
    let mut pause = || match ruby.thread_sleep(PAUSE) {
        Ok(()) => Ok(()),
        Err(err) => {
            interrupted = Some(err);
            Err(NamedError::Os {
                errno: libc::EINTR,
                message: "interrupted".into(),
            })
        }
    };
    let result = open(&mut Hooks {
        pause: &mut pause,
        on_step: &mut |_| {},
    });
    match (result, interrupted) {
        (Err(_), Some(err)) => Err(Attempt::Interrupted(err)),
        (result, _) => result.map_err(Attempt::Failed),
    }
}

/// Bytes reported to the GC for a mapping of `size` bytes of state.
fn mapped_bytes(size: usize, named: bool) -> usize {
    let page = crate::platform::page_size();
    let total = if named {
        size.saturating_add(core_named::HEADER_LEN)
    } else {
        size
    };
    total.div_ceil(page).saturating_mul(page)
}

/// Makes a core object in anonymous memory, or in the named object `named`
/// describes, recorded as class `tag` (its Ruby name) with no elements.
/// `init` (initial values) applies only when the state is created here.
pub fn create<T: SharedState>(
    ruby: &Ruby,
    named: Option<&NamedSpec>,
    tag: &str,
    init: T::Init,
) -> Result<T, Error>
where
    T::Init: Clone,
{
    create_counted(ruby, named, tag, ("", 1), init)
}

/// [`create`] for a class whose size is best told as `count` elements of
/// type `element` (a queue's ring, in `u8`): what a mismatch names.
pub fn create_counted<T: SharedState>(
    ruby: &Ruby,
    named: Option<&NamedSpec>,
    tag: &str,
    (element, count): (&str, u64),
    init: T::Init,
) -> Result<T, Error>
where
    T::Init: Clone,
{
    let size = T::state_size(&init);
    let layout = Layout {
        class: tag,
        element,
        count,
        size,
    };
    let made = gc::allocate_with(
        ruby,
        mapped_bytes(size, named.is_some()),
        Attempt::out_of_mappings,
        || {
            with_hooks(ruby, |hooks| {
                core_named::create::<T>(named.map(|spec| (spec, &layout)), init.clone(), hooks)
            })
        },
    );
    made.map(|(object, _)| object)
        .map_err(|err| err.raise(ruby))
}

/// A plain region (`SharedMemory`): fresh anonymous memory, or the named
/// object `named` describes, checked against `layout`.
pub fn open_region(
    ruby: &Ruby,
    named: Option<&NamedSpec>,
    layout: &Layout<'_>,
) -> Result<SharedRegion, Error> {
    gc::allocate_with(
        ruby,
        mapped_bytes(layout.size, named.is_some()),
        Attempt::out_of_mappings,
        || match named {
            None => SharedRegion::new(layout.size).map_err(|err| Attempt::Failed(err.into())),
            Some(spec) => with_hooks(ruby, |hooks| {
                core_named::open(spec, layout, |_| Ok(()), hooks)
            })
            .map(|opened| opened.region),
        },
    )
    .map_err(|err| err.raise(ruby))
}

/// How to find the origin of one class's objects; `None` when `value` is
/// not of that class.
type OriginOf = fn(&Ruby, Value) -> Option<Result<Option<Origin>, Error>>;

/// One entry per class that includes `ProcessShared::Named`.
static CLASSES: std::sync::Mutex<Vec<OriginOf>> = std::sync::Mutex::new(Vec::new());

fn origin_if<T: HandleClass>(ruby: &Ruby, value: Value) -> Option<Result<Option<Origin>, Error>>
where
    T::Resource: HasRegion,
{
    let object = This::<T>::try_convert(value).ok()?;
    Some(
        object
            .handle()
            .with(ruby, |resource| resource.region().origin().cloned()),
    )
}

/// Where `value` (an object of a class that includes `Named`) came from.
fn origin_of(ruby: &Ruby, value: Value) -> Result<Option<Origin>, Error> {
    let classes = CLASSES
        .lock()
        .map(|classes| classes.clone())
        .unwrap_or_default();
    classes
        .iter()
        .find_map(|origin_if| origin_if(ruby, value))
        .unwrap_or_else(|| {
            Err(type_error(
                ruby,
                format!(
                    "{} is not a named-object class",
                    super::convert::class_name(value)
                ),
            ))
        })
}

/// `#name`: the name given as `name:`, or nil.
fn name(ruby: &Ruby, rb_self: Value) -> Result<Option<String>, Error> {
    Ok(origin_of(ruby, rb_self)?.and_then(|origin| origin.name))
}

/// `#path`: the file given as `path:`, or where the system shows a named
/// shared-memory object (`/dev/shm/...` on Linux); nil for anonymous ones.
fn path(ruby: &Ruby, rb_self: Value) -> Result<Option<String>, Error> {
    Ok(origin_of(ruby, rb_self)?.and_then(|origin| origin.path))
}

/// `#unlink`: removes the name (true), or finds it already gone (false).
/// Processes that have the object keep using it. `ArgumentError` for an
/// anonymous object.
fn unlink(ruby: &Ruby, rb_self: Value) -> Result<bool, Error> {
    let origin = origin_of(ruby, rb_self)?
        .ok_or_else(|| argument_error(ruby, "an anonymous object has no name to unlink"))?;
    origin.unlink().map_err(|err| named_error(ruby, err))
}

/// `Klass.unlink(name)` / `Klass.unlink(path: path)`: removes a name
/// (true), or finds none (false).
fn unlink_name(ruby: &Ruby, _class: Value, args: &[Value]) -> Result<bool, Error> {
    let (positional, spec) = split_args(ruby, args)?;
    let args = scan_args::<(), (Option<Value>,), (), (), (), ()>(positional)?;
    let origin = match (args.optional.0, spec) {
        (Some(name), None) => {
            Origin::shm(&string(ruby, name, "name")?).map_err(|err| named_error(ruby, err))?
        }
        (None, Some(spec)) if spec.mode.is_none() => spec.origin,
        _ => {
            return Err(argument_error(
                ruby,
                "give a name, or path: (and nothing else)",
            ))
        }
    };
    origin.unlink().map_err(|err| named_error(ruby, err))
}

/// `ProcessShared.named_objects`: `{ name => class }` for this gem's
/// shared-memory objects (class nil when unreadable).
fn named_objects(ruby: &Ruby) -> Result<RHash, Error> {
    let listed = core_named::named_objects().ok_or_else(|| {
        not_implemented_error(ruby, "this system cannot list shared-memory objects")
    })?;
    let hash = ruby.hash_new();
    let namespace: RModule = ruby.define_module("ProcessShared")?;
    for (name, tag) in listed {
        let class = tag
            .and_then(|tag| tag.strip_prefix("ProcessShared::").map(str::to_string))
            .and_then(|short| namespace.const_get::<_, Value>(short.as_str()).ok());
        hash.aset(name, class)?;
    }
    Ok(hash)
}

/// Makes `class` (wrapping `T`) a named-object class: includes
/// `ProcessShared::Named` (`#name`, `#path`, `#unlink`) and extends it with
/// `Named::ClassMethods` (`Klass.unlink`).
pub fn include_in<T: HandleClass>(ruby: &Ruby, class: RClass) -> Result<(), Error>
where
    T::Resource: HasRegion,
{
    if let Ok(mut classes) = CLASSES.lock() {
        classes.push(origin_if::<T>);
    }
    let named: RModule = ruby.define_module("ProcessShared")?.const_get("Named")?;
    let class_methods: RModule = named.const_get("ClassMethods")?;
    class.include_module(named)?;
    class.extend_object(class_methods)?;
    Ok(())
}

/// Defines `ProcessShared::Named`, its `ClassMethods`, and
/// `ProcessShared.named_objects`. Runs before the classes' `init`.
pub fn init(_ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let named = namespace.define_module("Named")?;
    named.define_method("name", method!(name, 0))?;
    named.define_method("path", method!(path, 0))?;
    named.define_method("unlink", method!(unlink, 0))?;
    let class_methods = named.define_module("ClassMethods")?;
    class_methods.define_method("unlink", method!(unlink_name, -1))?;
    namespace.define_singleton_method("named_objects", function!(named_objects, 0))?;
    Ok(())
}
