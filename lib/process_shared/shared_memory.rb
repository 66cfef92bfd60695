# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A fixed-size, zero-filled block of memory shared across fork.
  #
  # == Objects
  #
  # {#put_object} stores an object serialized with Marshal as a record:
  #
  #   bytes 0...4       magic "PSO\x01" (process_shared object, format 1)
  #   bytes 4...8       CRC-32 (IEEE) of bytes 8...16+n, little-endian
  #   bytes 8...16      n, the length of the Marshal data, little-endian
  #   bytes 16...16+n   the output of Marshal.dump(obj)
  #
  # so an object takes 16 bytes more than its Marshal form. Reading checks
  # the magic (zero-filled memory holds no object), that the length stays
  # inside the region, and the checksum, on a private copy of the bytes,
  # before Marshal sees them. Writes are not atomic: guard objects that
  # other processes write with a {Mutex}; a reader that races a writer gets
  # a TypeError, never a crash or a read outside the region.
  class SharedMemory
    extend Open

    # Writes +obj+, serialized with Marshal, at byte +offset+.
    #
    # @param offset [Integer] byte offset of the record
    # @param obj [Object] anything Marshal can dump
    # @return [self]
    # @raise [IndexError] if the record (16 bytes + the Marshal data) does
    #   not fit between +offset+ and the end; nothing is written
    # @raise [TypeError] if Marshal cannot dump +obj+ (a Proc, an IO, …);
    #   nothing is written
    def put_object(offset, obj)
      put_marshaled(offset, Marshal.dump(obj))
    end

    # Reads the object stored at byte +offset+ by {#put_object}.
    #
    # @param offset [Integer]
    # @return [Object] a new object, equal to the one written
    # @raise [TypeError] if no intact object is stored there: zero-filled
    #   memory, other bytes, or a record that is truncated, corrupted or
    #   being written by another process at this moment
    # @raise [IndexError] if +offset+ is past the end of the region
    # @raise [ArgumentError] as Marshal.load does, e.g. when the object's
    #   class is not defined in this process
    def get_object(offset)
      # The bytes are a checked record written by put_object, in memory
      # shared only with this process's own forks.
      Marshal.load(get_marshaled(offset)) # rubocop:disable Security/MarshalLoad
    end

    # {#put_object} at offset 0.
    #
    # @param obj [Object]
    # @return [self]
    def write_object(obj)
      put_object(0, obj)
    end

    # {#get_object} at offset 0.
    #
    # @return [Object]
    def read_object
      get_object(0)
    end

    # An +FFI::Pointer+ to this memory, bounded by its size in bytes, to
    # hand to C functions. Needs the ffi gem, which process_shared does not
    # load: +require "ffi"+ first.
    #
    # The pointer keeps the memory mapped in this process for as long as it
    # (or any pointer made from it with +#+, +#slice+, …) is reachable, even
    # after {#close}: C code given it never sees the memory unmapped. An
    # address taken out of it (+ptr.address+) has no such protection.
    #
    # @return [FFI::Pointer]
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
    #   @param type_or_count [Symbol, Integer] an element type (+:int+,
    #     +:double+, …) or, alone, a size in bytes
    #   @param count [Integer] number of elements of the type
    #   @raise [ArgumentError] for unknown types and sizes that are not positive
    #   @raise [TypeError] if +type_or_count+ is neither a Symbol nor an
    #     Integer (type names are Symbols: +:int+, not "int"), or +count+ is
    #     not an Integer
    # @!method size
    #   @return [Integer] the size in bytes
    # @!method type
    #   @return [Symbol] the element type (+:uchar+ for a byte size)
    # @!method type_size
    #   @return [Integer] bytes per element
    # @!method count
    #   @return [Integer] number of elements
    # @!method close
    #   Unmaps the memory in this process (other processes keep it); idempotent.
    #   @return [nil]
    # @!method closed?
    #   @return [Boolean]
    # @!method get_bytes(offset, length)
    #   @return [String] +length+ bytes at +offset+, binary
    #   @raise [IndexError] outside the region
    # @!method put_bytes(offset, string, index = 0, length = nil)
    #   Writes +string[index, length]+ at +offset+.
    #   @return [self]
    #   @raise [IndexError] outside the region, or when +index+ (negative
    #     included) or +length+ lies outside +string+; nothing is written
    #   @raise [ArgumentError] if +length+ is negative
  end
end
