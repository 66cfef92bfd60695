//! How `ProcessShared::Queue` turns objects into record bytes and back.
//!
//! `Marshal` costs far more than moving the bytes through the ring (a
//! small `[1, "job", {id: 7}]` takes about ten times the instructions of
//! the push and pop themselves), so plain data travels in a compact native
//! encoding, written straight from the objects into a Rust buffer and read
//! straight back into new objects. Everything else is `Marshal` data, as
//! before. The first byte of a record tells which: Marshal data always
//! starts with its major version, 4; a native record starts with
//! [`NATIVE`].
//!
//! The native encoding covers exactly the objects whose `Marshal` round
//! trip it can reproduce: `nil`, `true`, `false`, Integers in Fixnum range,
//! Floats, Strings of class String without instance variables in UTF-8,
//! US-ASCII or ASCII-8BIT, Symbols in UTF-8 or US-ASCII, and Arrays and
//! Hashes of exactly those classes, without instance variables, default
//! value or proc, not `compare_by_identity`, nested at most [`MAX_DEPTH`]
//! deep. An object that appears twice (shared or recursive) sends the whole
//! item through `Marshal`, which keeps the sharing. Loaded objects are not
//! frozen (as `Marshal.load`'s); Hash keys go through `Hash#[]=` (as
//! `Marshal.load`'s: String keys come out frozen).
//!
//! Layout of a native value: a tag byte, then
//!
//! | tag | value   | then                                                   |
//! |-----|---------|--------------------------------------------------------|
//! | `0` | nil     |                                                        |
//! | `T` | true    |                                                        |
//! | `F` | false   |                                                        |
//! | `i` | Integer | 8 bytes, little-endian two's complement                |
//! | `f` | Float   | 8 bytes, little-endian IEEE 754 (NaN made canonical)   |
//! | `s` | String  | encoding byte, 4-byte length, the bytes                |
//! | `:` | Symbol  | encoding byte, 4-byte length, the name's bytes         |
//! | `[` | Array   | 4-byte count, the elements                             |
//! | `{` | Hash    | 4-byte count, key and value of each pair, in order     |
//!
//! Decoding trusts nothing: every length is checked against the bytes
//! left, nesting against [`MAX_DEPTH`], Symbol names against their
//! encoding, and a record must end where its value ends; anything else
//! raises `ArgumentError`.

use magnus::rb_sys::{protect, AsRawValue, FromRawValue};
use magnus::{Error, RString, Ruby, Value};
use rb_sys::stable_api::{get_default, StableApiDefinition};
use rb_sys::{ruby_value_type, ID, VALUE};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::os::raw::{c_int, c_long};
use std::sync::OnceLock;

/// The first byte of a native record (never 4, Marshal's first byte).
pub const NATIVE: u8 = 0xA5;
/// The first byte of every Marshal record (its major version).
const MARSHAL_MAJOR: u8 = 4;
/// Deepest nesting of Arrays and Hashes encoded natively.
pub const MAX_DEPTH: usize = 64;

const NIL: u8 = b'0';
const TRUE: u8 = b'T';
const FALSE: u8 = b'F';
const FIXNUM: u8 = b'i';
const FLOAT: u8 = b'f';
const STRING: u8 = b's';
const SYMBOL: u8 = b':';
const ARRAY: u8 = b'[';
const HASH: u8 = b'{';

const BINARY: u8 = 0;
const UTF_8: u8 = 1;
const US_ASCII: u8 = 2;

/// An item's record bytes.
pub enum Encoded {
    /// A native record.
    Native(Vec<u8>),
    /// `Marshal.dump`'s String.
    Marshal(RString),
}

impl Encoded {
    /// The record bytes.
    ///
    /// # Safety
    /// For `Marshal`, the caller holds the GVL and runs no Ruby code while
    /// it uses the slice (nothing else can change or free the String).
    pub unsafe fn bytes(&self) -> &[u8] {
        match self {
            Encoded::Native(bytes) => bytes,
            // SAFETY: the caller's promise above.
            Encoded::Marshal(string) => unsafe { string.as_slice() },
        }
    }
}

/// Encodes `object`: natively if it is plain data, else with `Marshal`
/// (whose exceptions, e.g. `TypeError` for a Proc, are raised as they are).
pub fn encode(ruby: &Ruby, object: Value) -> Result<Encoded, Error> {
    let mut encoder = Encoder {
        out: Vec::with_capacity(64),
        seen: Seen::default(),
    };
    encoder.out.push(NATIVE);
    match encoder.value(object.as_raw(), 0) {
        Ok(()) => Ok(Encoded::Native(encoder.out)),
        Err(NotNative) => {
            // SAFETY: called through `protect`, which turns any exception
            // into an Err; `object` is alive (an argument of the method).
            let dumped = protect(|| unsafe { rb_sys::rb_marshal_dump(object.as_raw(), QNIL) })?;
            // SAFETY: rb_marshal_dump returned a String.
            let dumped = unsafe { Value::from_raw(dumped) };
            RString::from_value(dumped)
                .map(Encoded::Marshal)
                .ok_or_else(|| Error::new(ruby.exception_type_error(), "Marshal.dump failed"))
        }
    }
}

/// Decodes a record made by [`encode`]; `ArgumentError` if it is corrupt.
pub fn decode(ruby: &Ruby, record: &[u8]) -> Result<Value, Error> {
    match record.split_first() {
        Some((&NATIVE, body)) => {
            let mut corrupt = false;
            let mut reader = Reader { bytes: body };
            // SAFETY: `protect` catches any exception raised while building
            // the objects (e.g. NoMemoryError); the reader holds no value
            // with a destructor, so unwinding past it skips nothing.
            let value = protect(|| match reader.value(0) {
                Ok(value) if reader.bytes.is_empty() => value,
                _ => {
                    corrupt = true;
                    QNIL
                }
            })?;
            if corrupt {
                return Err(Error::new(
                    ruby.exception_arg_error(),
                    "queue record is corrupt",
                ));
            }
            // SAFETY: a live object just built (or an immediate).
            Ok(unsafe { Value::from_raw(value) })
        }
        Some((&MARSHAL_MAJOR, _)) => {
            let data = ruby.str_from_slice(record);
            // SAFETY: called through `protect`; `data` is a live String.
            let value = protect(|| unsafe { rb_sys::rb_marshal_load(data.as_raw()) })?;
            // SAFETY: what Marshal.load returned.
            Ok(unsafe { Value::from_raw(value) })
        }
        _ => Err(Error::new(
            ruby.exception_arg_error(),
            "queue record is corrupt",
        )),
    }
}

const QNIL: VALUE = rb_sys::Qnil as VALUE;
const QTRUE: VALUE = rb_sys::Qtrue as VALUE;
const QFALSE: VALUE = rb_sys::Qfalse as VALUE;

/// The object is not plain data: the whole item goes through Marshal.
struct NotNative;

/// Hashes object addresses (aligned, distinct) for [`Seen`].
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, address: u64) {
        self.0 = (address >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The Strings, Arrays and Hashes met so far: a small item checks a short
/// list, a large one a hash set.
#[derive(Default)]
struct Seen {
    few: Vec<VALUE>,
    many: HashSet<VALUE, BuildHasherDefault<AddressHasher>>,
}

impl Seen {
    const FEW: usize = 16;

    /// False if `object` was met before.
    fn first_time(&mut self, object: VALUE) -> bool {
        if self.few.len() < Self::FEW {
            if self.few.contains(&object) {
                return false;
            }
            self.few.push(object);
            return true;
        }
        if self.few.contains(&object) {
            return false;
        }
        self.many.insert(object)
    }
}

struct Encoder {
    out: Vec<u8>,
    seen: Seen,
}

/// The class of a heap object.
fn class_of(object: VALUE) -> VALUE {
    // SAFETY: `object` is a live heap object (the callers checked).
    unsafe { get_default().rbasic_class(object) }.map_or(0, |class| class.as_ptr() as VALUE)
}

/// Whether a heap object has instance variables.
fn has_ivars(object: VALUE) -> bool {
    // SAFETY: `object` is a live heap object.
    unsafe { rb_sys::rb_ivar_count(object) != 0 }
}

/// The native encoding byte of a String's or Symbol name's encoding.
fn encoding_code(string: VALUE) -> Option<u8> {
    // SAFETY: `string` is a live String.
    let index = unsafe { get_default().encoding_get(string) };
    // SAFETY: plain queries of Ruby's fixed encoding table.
    let (utf8, ascii, binary) = unsafe {
        (
            rb_sys::rb_utf8_encindex(),
            rb_sys::rb_usascii_encindex(),
            rb_sys::rb_ascii8bit_encindex(),
        )
    };
    match index {
        index if index == utf8 => Some(UTF_8),
        index if index == ascii => Some(US_ASCII),
        index if index == binary => Some(BINARY),
        _ => None,
    }
}

/// The bytes of a live String.
///
/// # Safety
/// The String must stay alive and unchanged while the slice is used (no
/// Ruby code runs in between).
unsafe fn string_bytes<'a>(string: VALUE) -> &'a [u8] {
    let api = get_default();
    // SAFETY: the caller's promise; a String's pointer and length describe
    // its bytes.
    unsafe {
        let len = api.rstring_len(string) as usize;
        if len == 0 {
            return &[];
        }
        std::slice::from_raw_parts(api.rstring_ptr(string).cast::<u8>(), len)
    }
}

fn id(cell: &OnceLock<ID>, name: &str) -> ID {
    *cell.get_or_init(|| {
        // SAFETY: interns a short ASCII name; IDs of static names live for ever.
        unsafe { rb_sys::rb_intern2(name.as_ptr().cast(), name.len() as c_long) }
    })
}

/// Whether a Hash (of class Hash) has no default value or proc and
/// compares keys by value, asking its (C-implemented) methods; an exception
/// from one of them counts as "no".
fn plain_hash(hash: VALUE) -> bool {
    static DEFAULT: OnceLock<ID> = OnceLock::new();
    static DEFAULT_PROC: OnceLock<ID> = OnceLock::new();
    static BY_IDENTITY: OnceLock<ID> = OnceLock::new();
    let (default, default_proc, by_identity) = (
        id(&DEFAULT, "default"),
        id(&DEFAULT_PROC, "default_proc"),
        id(&BY_IDENTITY, "compare_by_identity?"),
    );
    let call = |method: ID| {
        // SAFETY: calls a method without arguments on a live Hash; only
        // inside `protect` below, where nothing has a destructor.
        unsafe { rb_sys::rb_funcallv(hash, method, 0, std::ptr::null()) }
    };
    let plain = protect(|| {
        let plain =
            call(default) == QNIL && call(default_proc) == QNIL && call(by_identity) == QFALSE;
        if plain {
            QTRUE
        } else {
            QFALSE
        }
    });
    matches!(plain, Ok(QTRUE))
}

impl Encoder {
    fn length(&mut self, len: usize) -> Result<(), NotNative> {
        let len = u32::try_from(len).map_err(|_| NotNative)?;
        self.out.extend_from_slice(&len.to_le_bytes());
        Ok(())
    }

    fn value(&mut self, object: VALUE, depth: usize) -> Result<(), NotNative> {
        let api = get_default();
        if api.special_const_p(object) {
            return self.immediate(object);
        }
        // SAFETY: a live heap object (reached from the item being pushed).
        match unsafe { api.builtin_type(object) } {
            ruby_value_type::RUBY_T_STRING => self.string(object),
            ruby_value_type::RUBY_T_FLOAT => {
                // SAFETY: a Float.
                self.float(unsafe { rb_sys::rb_float_value(object) });
                Ok(())
            }
            ruby_value_type::RUBY_T_SYMBOL => self.symbol(object),
            ruby_value_type::RUBY_T_ARRAY => self.array(object, depth),
            ruby_value_type::RUBY_T_HASH => self.hash(object, depth),
            _ => Err(NotNative),
        }
    }

    fn immediate(&mut self, object: VALUE) -> Result<(), NotNative> {
        let api = get_default();
        match object {
            QNIL => self.out.push(NIL),
            QTRUE => self.out.push(TRUE),
            QFALSE => self.out.push(FALSE),
            _ if api.fixnum_p(object) => {
                self.out.push(FIXNUM);
                self.out
                    .extend_from_slice(&api.fix2long(object).to_le_bytes());
            }
            // SAFETY: a flonum is a Float.
            _ if api.flonum_p(object) => self.float(unsafe { rb_sys::rb_float_value(object) }),
            _ if api.static_sym_p(object) => return self.symbol(object),
            _ => return Err(NotNative),
        }
        Ok(())
    }

    fn float(&mut self, float: f64) {
        // Marshal writes NaN as "nan" and loads it as this one NaN.
        let float = if float.is_nan() { f64::NAN } else { float };
        self.out.push(FLOAT);
        self.out.extend_from_slice(&float.to_le_bytes());
    }

    fn string(&mut self, string: VALUE) -> Result<(), NotNative> {
        // SAFETY: reading a global set at Ruby's start.
        if class_of(string) != unsafe { rb_sys::rb_cString } || has_ivars(string) {
            return Err(NotNative);
        }
        let encoding = encoding_code(string).ok_or(NotNative)?;
        if !self.seen.first_time(string) {
            return Err(NotNative);
        }
        self.out.push(STRING);
        self.out.push(encoding);
        // SAFETY: no Ruby code runs while the bytes are copied.
        let bytes = unsafe { string_bytes(string) };
        self.length(bytes.len())?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn symbol(&mut self, symbol: VALUE) -> Result<(), NotNative> {
        // SAFETY: a Symbol; its name is a frozen String that lives as long.
        let name = unsafe { rb_sys::rb_sym2str(symbol) };
        let encoding = encoding_code(name)
            .filter(|&code| code != BINARY)
            .ok_or(NotNative)?;
        self.out.push(SYMBOL);
        self.out.push(encoding);
        // SAFETY: no Ruby code runs while the bytes are copied.
        let bytes = unsafe { string_bytes(name) };
        self.length(bytes.len())?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn container(&mut self, object: VALUE, class: VALUE, depth: usize) -> Result<(), NotNative> {
        if depth >= MAX_DEPTH
            || class_of(object) != class
            || has_ivars(object)
            || !self.seen.first_time(object)
        {
            return Err(NotNative);
        }
        Ok(())
    }

    fn array(&mut self, array: VALUE, depth: usize) -> Result<(), NotNative> {
        // SAFETY: reading a global set at Ruby's start.
        self.container(array, unsafe { rb_sys::rb_cArray }, depth)?;
        let api = get_default();
        // SAFETY: a live Array.
        let len = unsafe { api.rarray_len(array) } as usize;
        self.out.push(ARRAY);
        self.length(len)?;
        for index in 0..len {
            // A Hash check below runs (C-implemented) methods: reread the
            // length rather than trust it.
            // SAFETY: a live Array; the index is checked against its length.
            let element = unsafe {
                if api.rarray_len(array) as usize != len {
                    return Err(NotNative);
                }
                api.rarray_aref(array, index as isize)
            };
            self.value(element, depth + 1)?;
        }
        Ok(())
    }

    fn hash(&mut self, hash: VALUE, depth: usize) -> Result<(), NotNative> {
        // SAFETY: reading a global set at Ruby's start.
        self.container(hash, unsafe { rb_sys::rb_cHash }, depth)?;
        if !plain_hash(hash) {
            return Err(NotNative);
        }
        // SAFETY: a live Hash.
        let len = unsafe { get_default().rhash_size(hash) };
        self.out.push(HASH);
        self.length(len)?;
        let mut walk = HashWalk {
            encoder: self,
            depth: depth + 1,
            pairs: 0,
            failed: false,
        };
        // SAFETY: `each_pair` neither raises nor unwinds; `walk` outlives
        // the call, and the Hash is not changed during it.
        unsafe {
            rb_sys::rb_hash_foreach(hash, Some(each_pair), std::ptr::addr_of_mut!(walk) as VALUE)
        };
        if walk.failed || walk.pairs != len {
            return Err(NotNative);
        }
        Ok(())
    }
}

struct HashWalk<'a> {
    encoder: &'a mut Encoder,
    depth: usize,
    pairs: usize,
    failed: bool,
}

const ST_CONTINUE: c_int = 0;
const ST_STOP: c_int = 1;

/// `rb_hash_foreach`'s callback: encodes one pair.
unsafe extern "C" fn each_pair(key: VALUE, value: VALUE, walk: VALUE) -> c_int {
    // SAFETY: `walk` is the HashWalk that `Encoder::hash` passed, alive and
    // not otherwise borrowed during the iteration.
    let walk = unsafe { &mut *(walk as *mut HashWalk<'_>) };
    let encoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        walk.encoder.value(key, walk.depth)?;
        walk.encoder.value(value, walk.depth)
    }));
    match encoded {
        Ok(Ok(())) => {
            walk.pairs += 1;
            ST_CONTINUE
        }
        _ => {
            walk.failed = true;
            ST_STOP
        }
    }
}

/// The record was not made by [`Encoder`].
struct Corrupt;

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], Corrupt> {
        if len > self.bytes.len() {
            return Err(Corrupt);
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }

    fn eight(&mut self) -> Result<[u8; 8], Corrupt> {
        self.take(8)?.try_into().map_err(|_| Corrupt)
    }

    fn length(&mut self) -> Result<usize, Corrupt> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| Corrupt)?;
        Ok(u32::from_le_bytes(bytes) as usize)
    }

    /// A count of items that each take at least `min_bytes`, checked
    /// against the bytes left (so a corrupt count allocates nothing big).
    fn count(&mut self, min_bytes: usize) -> Result<usize, Corrupt> {
        let count = self.length()?;
        if count.saturating_mul(min_bytes) > self.bytes.len() {
            return Err(Corrupt);
        }
        Ok(count)
    }

    /// Reads one value, building Ruby objects (may raise; see `decode`).
    fn value(&mut self, depth: usize) -> Result<VALUE, Corrupt> {
        let api = get_default();
        match self.byte()? {
            NIL => Ok(QNIL),
            TRUE => Ok(QTRUE),
            FALSE => Ok(QFALSE),
            FIXNUM => Ok(api.long2num(i64::from_le_bytes(self.eight()?) as c_long)),
            FLOAT => Ok(api.dbl2num(f64::from_le_bytes(self.eight()?))),
            STRING => {
                let encoding = self.byte()?;
                let len = self.length()?;
                let bytes = self.take(len)?;
                let (ptr, len) = (bytes.as_ptr().cast(), len as c_long);
                // SAFETY: `ptr` holds `len` bytes; each call copies them.
                Ok(unsafe {
                    match encoding {
                        UTF_8 => rb_sys::rb_utf8_str_new(ptr, len),
                        US_ASCII => rb_sys::rb_usascii_str_new(ptr, len),
                        BINARY => rb_sys::rb_str_new(ptr, len),
                        _ => return Err(Corrupt),
                    }
                })
            }
            SYMBOL => {
                let encoding = self.byte()?;
                let len = self.length()?;
                let name = self.take(len)?;
                symbol(encoding, name)
            }
            ARRAY if depth < MAX_DEPTH => {
                let count = self.count(1)?;
                // SAFETY: allocates an Array (count is bounded above).
                let array = unsafe { rb_sys::rb_ary_new_capa(count as c_long) };
                for _ in 0..count {
                    let element = self.value(depth + 1)?;
                    // SAFETY: `array` is live (on this stack); so is `element`.
                    unsafe { rb_sys::rb_ary_push(array, element) };
                }
                Ok(array)
            }
            HASH if depth < MAX_DEPTH => {
                let count = self.count(2)?;
                // SAFETY: allocates a Hash.
                let hash = unsafe { rb_sys::rb_hash_new() };
                for _ in 0..count {
                    let key = self.value(depth + 1)?;
                    let value = self.value(depth + 1)?;
                    // SAFETY: `hash`, `key` and `value` are live (on this
                    // stack); keys are plain data, as Marshal.load's.
                    unsafe { rb_sys::rb_hash_aset(hash, key, value) };
                }
                Ok(hash)
            }
            _ => Err(Corrupt),
        }
    }
}

/// Recently decoded static Symbols (immortal, so a cached one stays valid),
/// by encoding and name: looking a Symbol up in Ruby's table costs several
/// hundred instructions, and items tend to repeat the same few keys.
struct SymbolCache {
    entries: [Option<CachedSymbol>; SymbolCache::SIZE],
}

/// Encoding code, name, Symbol.
type CachedSymbol = (u8, Box<[u8]>, VALUE);

impl SymbolCache {
    const SIZE: usize = 64;

    fn slot(encoding: u8, name: &[u8]) -> usize {
        let mut hasher = AddressHasher(u64::from(encoding));
        hasher.write(name);
        (hasher.finish() >> 32) as usize % Self::SIZE
    }
}

thread_local! {
    static SYMBOLS: std::cell::RefCell<SymbolCache> =
        const { std::cell::RefCell::new(SymbolCache { entries: [const { None }; SymbolCache::SIZE] }) };
}

/// The Symbol named `name`, after checking the name against its encoding
/// (Ruby refuses to intern a broken name).
fn symbol(code: u8, name: &[u8]) -> Result<VALUE, Corrupt> {
    let slot = SymbolCache::slot(code, name);
    let cached = SYMBOLS.with(|cache| match &cache.borrow().entries[slot] {
        Some((cached_code, cached_name, symbol))
            if *cached_code == code && **cached_name == *name =>
        {
            Some(*symbol)
        }
        _ => None,
    });
    if let Some(symbol) = cached {
        return Ok(symbol);
    }
    let encoding = match code {
        // SAFETY: plain queries of Ruby's fixed encoding table.
        UTF_8 if std::str::from_utf8(name).is_ok() => unsafe { rb_sys::rb_utf8_encoding() },
        // SAFETY: as above.
        US_ASCII if name.is_ascii() => unsafe { rb_sys::rb_usascii_encoding() },
        _ => return Err(Corrupt),
    };
    let (ptr, len) = (name.as_ptr().cast(), name.len() as c_long);
    // SAFETY: `ptr` holds `len` bytes valid in `encoding`; the first call
    // only looks the Symbol up, the second makes it as Marshal.load does.
    let symbol = unsafe {
        let existing = rb_sys::rb_check_symbol_cstr(ptr, len, encoding);
        if existing != QNIL {
            existing
        } else {
            let name = rb_sys::rb_enc_str_new(ptr, len, encoding);
            rb_sys::rb_str_intern(name)
        }
    };
    if get_default().static_sym_p(symbol) {
        SYMBOLS.with(|cache| {
            cache.borrow_mut().entries[slot] = Some((code, name.into(), symbol));
        });
    }
    Ok(symbol)
}
