# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A fixed-size, zero-filled block of memory shared across fork: what one
  # process writes, every process that shares it reads. It uses no file
  # descriptor and leaves no name in `/dev/shm`; it is unmapped in a process
  # by {#close} or when the object is garbage collected there.
  #
  # It has the typed accessors of `FFI::Pointer` for twenty C types (`char`
  # to `ulong_long`, `float`, `double`: see the "Typed access" groups, one
  # per type name),
  # bytes ({#get_bytes}, {#put_bytes}…), NUL-terminated strings
  # ({#get_string}, {#put_string}) and Marshal-serialized objects
  # ({#put_object}, {#get_object}…). Offsets are in bytes from the start and
  # need no alignment. Every access is bounds-checked: one that would reach
  # outside the memory raises `IndexError` and, for a write, writes nothing.
  # Strings come back binary (ASCII-8BIT). No accessor blocks or takes a
  # lock: reads and writes are plain memory accesses, so guard data that
  # several processes change with a {Mutex}.
  #
  # ## Objects
  #
  # {#put_object} stores an object serialized with Marshal as a record:
  #
  #     bytes 0...4       magic "PSO\x01" (process_shared object, format 1)
  #     bytes 4...8       CRC-32 (IEEE) of bytes 8...16+n, little-endian
  #     bytes 8...16      n, the length of the Marshal data, little-endian
  #     bytes 16...16+n   the output of Marshal.dump(obj)
  #
  # so an object takes 16 bytes more than its Marshal form. Reading checks
  # the magic (zero-filled memory holds no object), that the length stays
  # inside the region, and the checksum, on a private copy of the bytes,
  # before Marshal sees them. Writes are not atomic: guard objects that
  # other processes write with a {Mutex}; a reader that races a writer gets
  # a TypeError, never a crash or a read outside the region.
  #
  # @example
  #   ProcessShared::SharedMemory.open(:uint64, 4) do |memory| # 4 × 8 zero bytes
  #     Process.wait(fork { memory.put_array_of_uint64(0, [1, 2, 3]) })
  #     memory.read_array_of_uint64(4) # => [1, 2, 3, 0]
  #     [memory.size, memory.type, memory.count] # => [32, :uint64, 4]
  #   end
  #
  # @example Objects
  #   memory = ProcessShared::SharedMemory.new(1024)
  #   Process.wait(fork { memory.write_object({ "from" => Process.pid }) })
  #   memory.read_object # => {"from"=>12345}
  class SharedMemory
    extend Open

    # @!group Objects

    # Writes `obj`, serialized with Marshal, at byte `offset` (see "Objects"
    # above for the record's layout). Never blocks.
    #
    # @param offset [Integer] byte offset of the record
    # @param obj [Object] anything Marshal can dump
    # @return [self]
    # @raise [IndexError] if the record (16 bytes + the Marshal data) does
    #   not fit between `offset` and the end; nothing is written
    # @raise [TypeError] if Marshal cannot dump `obj` (a Proc, an IO, …);
    #   nothing is written
    # @raise [ClosedError] after {#close}
    def put_object(offset, obj)
      put_marshaled(offset, Marshal.dump(obj))
    end

    # Reads the object stored at byte `offset` by {#put_object}. Never
    # blocks.
    #
    # @param offset [Integer] byte offset of the record
    # @return [Object] a new object, equal to the one written
    # @raise [TypeError] if no intact object is stored there: zero-filled
    #   memory, other bytes, or a record that is truncated, corrupted or
    #   being written by another process at this moment
    # @raise [IndexError] if `offset` is past the end of the region
    # @raise [ArgumentError] as Marshal.load does, e.g. when the object's
    #   class is not defined in this process
    # @raise [ClosedError] after {#close}
    def get_object(offset)
      # The bytes are a checked record written by put_object, in memory
      # shared only with this process's own forks.
      Marshal.load(get_marshaled(offset)) # rubocop:disable Security/MarshalLoad
    end

    # Writes `obj` at offset 0, as `put_object(0, obj)`.
    #
    # @param obj [Object] anything Marshal can dump
    # @return [self]
    # @raise [IndexError] if the record does not fit; nothing is written
    # @raise [TypeError] if Marshal cannot dump `obj`; nothing is written
    # @raise [ClosedError] after {#close}
    def write_object(obj)
      put_object(0, obj)
    end

    # Reads the object at offset 0, as `get_object(0)`.
    #
    # @return [Object] a new object, equal to the one written
    # @raise [TypeError] if no intact object is stored there
    # @raise [ArgumentError] as Marshal.load does
    # @raise [ClosedError] after {#close}
    def read_object
      get_object(0)
    end

    # @!endgroup

    # The class, size and element type, e.g.
    # `#<ProcessShared::SharedMemory 16 bytes, 4 x int32>`; never raises,
    # also after {#close}.
    # @return [String]
    def inspect
      return "#<#{self.class} closed>" if closed?

      "#<#{self.class} #{size} bytes, #{count} x #{type || 'byte'}>"
    rescue ClosedError
      "#<#{self.class} uninitialized>"
    end

    # An `FFI::Pointer` to this memory, bounded by its size in bytes, to
    # hand to C functions. Needs the ffi gem, which process_shared does not
    # load: `require "ffi"` first.
    #
    # The pointer keeps the memory mapped in this process for as long as it
    # (or any pointer made from it with `#+`, `#slice`, …) is reachable, even
    # after {#close}: C code given it never sees the memory unmapped. An
    # address taken out of it (`ptr.address`) has no such protection.
    #
    # @example
    #   require "ffi"
    #   module LibC
    #     extend FFI::Library
    #     ffi_lib FFI::Library::LIBC
    #     attach_function :memset, %i[pointer int size_t], :pointer
    #   end
    #   memory = ProcessShared::SharedMemory.new(4)
    #   LibC.memset(memory.to_ptr, 0x41, 4)
    #   memory.read_bytes(4) # => "AAAA"
    #
    # @return [FFI::Pointer] a pointer of `size` bytes
    # @raise [NotImplementedError] if FFI is not loaded
    # @raise [ClosedError] after {#close}
    def to_ptr
      region = mapping # first, so that a closed object raises ClosedError
      unless defined?(::FFI::Pointer)
        raise NotImplementedError, "#{self.class}#to_ptr needs the ffi gem: require \"ffi\" first"
      end

      pointer = ::FFI::Pointer.new(region.address).slice(0, region.size)
      pointer.instance_variable_set(:@process_shared_mapping, region)
      pointer
    end

    # @!method initialize(type_or_count = 1, count = 1)
    #   New zero-filled shared memory: with a type Symbol, `count` elements
    #   of that type (`new(:int)`, `new(:uint64, 2)`); with an Integer
    #   alone, that many bytes (`new(1024)`, of type `:uchar`). Shared with
    #   the processes forked after this.
    #   @param type_or_count [Symbol, Integer] an element type (`:char` to
    #     `:ulong_long`, `:float`, `:double`) or, alone, a size in bytes
    #   @param count [Integer] number of elements of the type
    #   @raise [ArgumentError] for an unknown type, a size or count that is
    #     not positive or above 1 TiB, or a count after a byte size
    #   @raise [TypeError] if `type_or_count` is neither a Symbol nor an
    #     Integer (type names are Symbols: `:int`, not "int"), or a count is
    #     not an Integer
    #   @raise [Errno::ENOMEM] if the system cannot map that much memory

    # @!method size
    #   The size in bytes: `count * type_size`.
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method type
    #   The element type given to `new` (`:uchar` for a size in bytes).
    #   @return [Symbol]
    #   @raise [ClosedError] after {#close}

    # @!method type_size
    #   The size of one element in bytes.
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method count
    #   The number of elements given to `new` (the size, for a size in
    #   bytes).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Unmaps the memory in this process; other processes keep theirs, and
    #   so does an `FFI::Pointer` from {#to_ptr}. Idempotent; any later use
    #   of this object raises {ClosedError}.
    #   @return [nil]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]

    # The eight typed accessors of each type name (`get_int`, `put_int`,
    # `read_int`, `write_int` and their `array_of_` forms), documented from
    # the extension's type table at doc time (rakelib/yard_typed_accessors.rb):
    #
    # @!typed_accessors

    # @!group Bytes and strings

    # @!method get_bytes(offset, length)
    #   Reads `length` bytes from byte `offset`.
    #   @param offset [Integer] byte offset
    #   @param length [Integer] number of bytes
    #   @return [String] a new binary (ASCII-8BIT) String
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method put_bytes(offset, string, index = 0, length = nil)
    #   Writes the bytes `string.byteslice(index, length)` (to the end of
    #   `string` without a length) at byte `offset`, as
    #   `FFI::Pointer#put_bytes`. Writes no terminating NUL.
    #   @param offset [Integer] byte offset
    #   @param string [String] the bytes to write (its encoding is ignored)
    #   @param index [Integer] the first byte of `string` to write
    #   @param length [Integer, nil] how many bytes of `string` to write
    #   @return [self]
    #   @raise [IndexError] unless every byte written lies inside the memory,
    #     or if `index` (negative included) and `length` reach outside
    #     `string`; nothing is written
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `string` is not a String, or `offset`, `index`
    #     or `length` not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method read_bytes(length)
    #   Reads `length` bytes from offset 0, as `get_bytes(0, length)`.
    #   @param length [Integer] number of bytes
    #   @return [String] a new binary (ASCII-8BIT) String
    #   @raise [IndexError] if `length` is larger than the memory
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method write_bytes(string, index = 0, length = nil)
    #   Writes bytes of `string` at offset 0, as
    #   `put_bytes(0, string, index, length)`.
    #   @param string [String] the bytes to write
    #   @param index [Integer] the first byte of `string` to write
    #   @param length [Integer, nil] how many bytes of `string` to write
    #   @return [self]
    #   @raise [IndexError] if the bytes do not fit in the memory, or if
    #     `index` (negative included) and `length` reach outside `string`;
    #     nothing is written
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `string` is not a String
    #   @raise [ClosedError] after {#close}

    # @!method get_string(offset)
    #   Reads a C string: the bytes from byte `offset` up to the first NUL,
    #   or to the end of the memory if there is none.
    #   @param offset [Integer] byte offset (the size itself gives "")
    #   @return [String] a new binary (ASCII-8BIT) String, without the NUL
    #   @raise [IndexError] if `offset` is past the end of the memory
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method put_string(offset, string)
    #   Writes `string`'s bytes and a terminating NUL at byte `offset`.
    #   @param offset [Integer] byte offset
    #   @param string [String] the bytes to write (a NUL inside it ends the
    #     C string that {#get_string} reads)
    #   @return [self]
    #   @raise [IndexError] unless the bytes and the NUL fit inside the
    #     memory; nothing is written
    #   @raise [TypeError] if `string` is not a String, or `offset` not an
    #     Integer
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # Native, for YARD:
    #
    # @!parse
    #   # A mapping of the memory, which {#to_ptr} attaches to the pointer it
    #   # returns so that the memory stays mapped while the pointer lives.
    #   # Made only by the extension.
    #   #
    #   # @api private
    #   class Mapping
    #     # The address of the first byte.
    #     # @return [Integer]
    #     def address; end
    #
    #     # The size in bytes.
    #     # @return [Integer]
    #     def size; end
    #   end
  end
end
