# frozen_string_literal: true

module ProcessShared
  class SharedMemory
    # Documentation only, for YARD: nothing requires this file. The
    # typed accessors of SharedMemory are native; `rake
    # generate:typed_accessors` writes this file
    # (rakelib/typed_accessors.rb). No comment may precede `module`
    # or `class` above: YARD would take it for their description.

    # @!group Typed access: char (1 byte, a C char, signed as in FFI)

    # @!method get_char(offset)
    #   Reads a `char` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] -128..127
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_char
    #   Reads a `char` at offset 0, as `get_char(0)`.
    #   @return [Integer] -128..127
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_char(offset, length)
    #   Reads `length` consecutive `char` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -128..127
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_char(length)
    #   Reads `length` consecutive `char` values from offset 0, as `get_array_of_char(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -128..127
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_char(offset, value)
    #   Writes `value` as a `char` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] -128..127
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit a `char`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_char(value)
    #   Writes `value` as a `char` at offset 0, as `put_char(0, value)`.
    #   @param value [Integer] -128..127
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit a `char`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_char(offset, values)
    #   Writes `values` as consecutive `char` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each -128..127
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit a `char`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_char(values)
    #   Writes `values` as consecutive `char` values from offset 0, as `put_array_of_char(0, values)`. Every
    #   element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each -128..127
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit a `char`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: uchar (1 byte, a C unsigned char)

    # @!method get_uchar(offset)
    #   Reads an `uchar` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0..255
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_uchar
    #   Reads an `uchar` at offset 0, as `get_uchar(0)`.
    #   @return [Integer] 0..255
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_uchar(offset, length)
    #   Reads `length` consecutive `uchar` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..255
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_uchar(length)
    #   Reads `length` consecutive `uchar` values from offset 0, as `get_array_of_uchar(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..255
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_uchar(offset, value)
    #   Writes `value` as an `uchar` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0..255
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uchar`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_uchar(value)
    #   Writes `value` as an `uchar` at offset 0, as `put_uchar(0, value)`.
    #   @param value [Integer] 0..255
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uchar`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_uchar(offset, values)
    #   Writes `values` as consecutive `uchar` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0..255
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uchar`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_uchar(values)
    #   Writes `values` as consecutive `uchar` values from offset 0, as `put_array_of_uchar(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0..255
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uchar`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: int8 (1 byte, a signed 8-bit integer)

    # @!method get_int8(offset)
    #   Reads an `int8` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] -128..127
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_int8
    #   Reads an `int8` at offset 0, as `get_int8(0)`.
    #   @return [Integer] -128..127
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_int8(offset, length)
    #   Reads `length` consecutive `int8` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -128..127
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_int8(length)
    #   Reads `length` consecutive `int8` values from offset 0, as `get_array_of_int8(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -128..127
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_int8(offset, value)
    #   Writes `value` as an `int8` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] -128..127
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int8`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_int8(value)
    #   Writes `value` as an `int8` at offset 0, as `put_int8(0, value)`.
    #   @param value [Integer] -128..127
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int8`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_int8(offset, values)
    #   Writes `values` as consecutive `int8` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each -128..127
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int8`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_int8(values)
    #   Writes `values` as consecutive `int8` values from offset 0, as `put_array_of_int8(0, values)`. Every
    #   element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each -128..127
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int8`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: uint8 (1 byte, an unsigned 8-bit integer)

    # @!method get_uint8(offset)
    #   Reads an `uint8` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0..255
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_uint8
    #   Reads an `uint8` at offset 0, as `get_uint8(0)`.
    #   @return [Integer] 0..255
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_uint8(offset, length)
    #   Reads `length` consecutive `uint8` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..255
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_uint8(length)
    #   Reads `length` consecutive `uint8` values from offset 0, as `get_array_of_uint8(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..255
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_uint8(offset, value)
    #   Writes `value` as an `uint8` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0..255
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint8`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_uint8(value)
    #   Writes `value` as an `uint8` at offset 0, as `put_uint8(0, value)`.
    #   @param value [Integer] 0..255
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint8`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_uint8(offset, values)
    #   Writes `values` as consecutive `uint8` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0..255
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint8`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_uint8(values)
    #   Writes `values` as consecutive `uint8` values from offset 0, as `put_array_of_uint8(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0..255
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint8`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: short (2 bytes, a C short)

    # @!method get_short(offset)
    #   Reads a `short` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] -32768..32767
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_short
    #   Reads a `short` at offset 0, as `get_short(0)`.
    #   @return [Integer] -32768..32767
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_short(offset, length)
    #   Reads `length` consecutive `short` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -32768..32767
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_short(length)
    #   Reads `length` consecutive `short` values from offset 0, as `get_array_of_short(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -32768..32767
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_short(offset, value)
    #   Writes `value` as a `short` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] -32768..32767
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit a `short`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_short(value)
    #   Writes `value` as a `short` at offset 0, as `put_short(0, value)`.
    #   @param value [Integer] -32768..32767
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit a `short`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_short(offset, values)
    #   Writes `values` as consecutive `short` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each -32768..32767
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit a `short`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_short(values)
    #   Writes `values` as consecutive `short` values from offset 0, as `put_array_of_short(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each -32768..32767
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit a `short`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: ushort (2 bytes, a C unsigned short)

    # @!method get_ushort(offset)
    #   Reads an `ushort` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0..65535
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_ushort
    #   Reads an `ushort` at offset 0, as `get_ushort(0)`.
    #   @return [Integer] 0..65535
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_ushort(offset, length)
    #   Reads `length` consecutive `ushort` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..65535
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_ushort(length)
    #   Reads `length` consecutive `ushort` values from offset 0, as `get_array_of_ushort(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..65535
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_ushort(offset, value)
    #   Writes `value` as an `ushort` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0..65535
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `ushort`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_ushort(value)
    #   Writes `value` as an `ushort` at offset 0, as `put_ushort(0, value)`.
    #   @param value [Integer] 0..65535
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `ushort`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_ushort(offset, values)
    #   Writes `values` as consecutive `ushort` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0..65535
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `ushort`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_ushort(values)
    #   Writes `values` as consecutive `ushort` values from offset 0, as `put_array_of_ushort(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0..65535
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `ushort`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: int16 (2 bytes, a signed 16-bit integer)

    # @!method get_int16(offset)
    #   Reads an `int16` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] -32768..32767
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_int16
    #   Reads an `int16` at offset 0, as `get_int16(0)`.
    #   @return [Integer] -32768..32767
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_int16(offset, length)
    #   Reads `length` consecutive `int16` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -32768..32767
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_int16(length)
    #   Reads `length` consecutive `int16` values from offset 0, as `get_array_of_int16(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -32768..32767
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_int16(offset, value)
    #   Writes `value` as an `int16` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] -32768..32767
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int16`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_int16(value)
    #   Writes `value` as an `int16` at offset 0, as `put_int16(0, value)`.
    #   @param value [Integer] -32768..32767
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int16`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_int16(offset, values)
    #   Writes `values` as consecutive `int16` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each -32768..32767
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int16`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_int16(values)
    #   Writes `values` as consecutive `int16` values from offset 0, as `put_array_of_int16(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each -32768..32767
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int16`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: uint16 (2 bytes, an unsigned 16-bit integer)

    # @!method get_uint16(offset)
    #   Reads an `uint16` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0..65535
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_uint16
    #   Reads an `uint16` at offset 0, as `get_uint16(0)`.
    #   @return [Integer] 0..65535
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_uint16(offset, length)
    #   Reads `length` consecutive `uint16` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..65535
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_uint16(length)
    #   Reads `length` consecutive `uint16` values from offset 0, as `get_array_of_uint16(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..65535
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_uint16(offset, value)
    #   Writes `value` as an `uint16` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0..65535
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint16`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_uint16(value)
    #   Writes `value` as an `uint16` at offset 0, as `put_uint16(0, value)`.
    #   @param value [Integer] 0..65535
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint16`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_uint16(offset, values)
    #   Writes `values` as consecutive `uint16` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0..65535
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint16`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_uint16(values)
    #   Writes `values` as consecutive `uint16` values from offset 0, as `put_array_of_uint16(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0..65535
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint16`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: int (4 bytes, a C int)

    # @!method get_int(offset)
    #   Reads an `int` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] -2147483648..2147483647
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_int
    #   Reads an `int` at offset 0, as `get_int(0)`.
    #   @return [Integer] -2147483648..2147483647
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_int(offset, length)
    #   Reads `length` consecutive `int` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -2147483648..2147483647
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_int(length)
    #   Reads `length` consecutive `int` values from offset 0, as `get_array_of_int(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -2147483648..2147483647
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_int(offset, value)
    #   Writes `value` as an `int` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] -2147483648..2147483647
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_int(value)
    #   Writes `value` as an `int` at offset 0, as `put_int(0, value)`.
    #   @param value [Integer] -2147483648..2147483647
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_int(offset, values)
    #   Writes `values` as consecutive `int` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each -2147483648..2147483647
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_int(values)
    #   Writes `values` as consecutive `int` values from offset 0, as `put_array_of_int(0, values)`. Every
    #   element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each -2147483648..2147483647
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: uint (4 bytes, a C unsigned int)

    # @!method get_uint(offset)
    #   Reads an `uint` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0..4294967295
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_uint
    #   Reads an `uint` at offset 0, as `get_uint(0)`.
    #   @return [Integer] 0..4294967295
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_uint(offset, length)
    #   Reads `length` consecutive `uint` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..4294967295
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_uint(length)
    #   Reads `length` consecutive `uint` values from offset 0, as `get_array_of_uint(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..4294967295
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_uint(offset, value)
    #   Writes `value` as an `uint` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0..4294967295
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_uint(value)
    #   Writes `value` as an `uint` at offset 0, as `put_uint(0, value)`.
    #   @param value [Integer] 0..4294967295
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_uint(offset, values)
    #   Writes `values` as consecutive `uint` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0..4294967295
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_uint(values)
    #   Writes `values` as consecutive `uint` values from offset 0, as `put_array_of_uint(0, values)`. Every
    #   element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0..4294967295
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: int32 (4 bytes, a signed 32-bit integer)

    # @!method get_int32(offset)
    #   Reads an `int32` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] -2147483648..2147483647
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_int32
    #   Reads an `int32` at offset 0, as `get_int32(0)`.
    #   @return [Integer] -2147483648..2147483647
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_int32(offset, length)
    #   Reads `length` consecutive `int32` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -2147483648..2147483647
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_int32(length)
    #   Reads `length` consecutive `int32` values from offset 0, as `get_array_of_int32(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -2147483648..2147483647
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_int32(offset, value)
    #   Writes `value` as an `int32` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] -2147483648..2147483647
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int32`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_int32(value)
    #   Writes `value` as an `int32` at offset 0, as `put_int32(0, value)`.
    #   @param value [Integer] -2147483648..2147483647
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int32`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_int32(offset, values)
    #   Writes `values` as consecutive `int32` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each -2147483648..2147483647
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int32`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_int32(values)
    #   Writes `values` as consecutive `int32` values from offset 0, as `put_array_of_int32(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each -2147483648..2147483647
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int32`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: uint32 (4 bytes, an unsigned 32-bit integer)

    # @!method get_uint32(offset)
    #   Reads an `uint32` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0..4294967295
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_uint32
    #   Reads an `uint32` at offset 0, as `get_uint32(0)`.
    #   @return [Integer] 0..4294967295
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_uint32(offset, length)
    #   Reads `length` consecutive `uint32` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..4294967295
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_uint32(length)
    #   Reads `length` consecutive `uint32` values from offset 0, as `get_array_of_uint32(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..4294967295
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_uint32(offset, value)
    #   Writes `value` as an `uint32` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0..4294967295
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint32`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_uint32(value)
    #   Writes `value` as an `uint32` at offset 0, as `put_uint32(0, value)`.
    #   @param value [Integer] 0..4294967295
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint32`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_uint32(offset, values)
    #   Writes `values` as consecutive `uint32` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0..4294967295
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint32`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_uint32(values)
    #   Writes `values` as consecutive `uint32` values from offset 0, as `put_array_of_uint32(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0..4294967295
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint32`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: long (a C long: 8 bytes on 64-bit systems, 4 on 32-bit ones)

    # @!method get_long(offset)
    #   Reads a `long` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] a C `long`'s range
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_long
    #   Reads a `long` at offset 0, as `get_long(0)`.
    #   @return [Integer] a C `long`'s range
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_long(offset, length)
    #   Reads `length` consecutive `long` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each a C `long`'s range
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_long(length)
    #   Reads `length` consecutive `long` values from offset 0, as `get_array_of_long(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each a C `long`'s range
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_long(offset, value)
    #   Writes `value` as a `long` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] a C `long`'s range
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit a `long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_long(value)
    #   Writes `value` as a `long` at offset 0, as `put_long(0, value)`.
    #   @param value [Integer] a C `long`'s range
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit a `long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_long(offset, values)
    #   Writes `values` as consecutive `long` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each a C `long`'s range
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit a `long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_long(values)
    #   Writes `values` as consecutive `long` values from offset 0, as `put_array_of_long(0, values)`. Every
    #   element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each a C `long`'s range
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit a `long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: ulong (a C unsigned long: 8 bytes on 64-bit systems, 4 on 32-bit ones)

    # @!method get_ulong(offset)
    #   Reads an `ulong` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0 up to a C `unsigned long`'s maximum
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_ulong
    #   Reads an `ulong` at offset 0, as `get_ulong(0)`.
    #   @return [Integer] 0 up to a C `unsigned long`'s maximum
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_ulong(offset, length)
    #   Reads `length` consecutive `ulong` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0 up to a C `unsigned long`'s maximum
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_ulong(length)
    #   Reads `length` consecutive `ulong` values from offset 0, as `get_array_of_ulong(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0 up to a C `unsigned long`'s maximum
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_ulong(offset, value)
    #   Writes `value` as an `ulong` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0 up to a C `unsigned long`'s maximum
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `ulong`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_ulong(value)
    #   Writes `value` as an `ulong` at offset 0, as `put_ulong(0, value)`.
    #   @param value [Integer] 0 up to a C `unsigned long`'s maximum
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `ulong`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_ulong(offset, values)
    #   Writes `values` as consecutive `ulong` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0 up to a C `unsigned long`'s maximum
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `ulong`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_ulong(values)
    #   Writes `values` as consecutive `ulong` values from offset 0, as `put_array_of_ulong(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0 up to a C `unsigned long`'s maximum
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `ulong`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: int64 (8 bytes, a signed 64-bit integer)

    # @!method get_int64(offset)
    #   Reads an `int64` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] -9223372036854775808..9223372036854775807
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_int64
    #   Reads an `int64` at offset 0, as `get_int64(0)`.
    #   @return [Integer] -9223372036854775808..9223372036854775807
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_int64(offset, length)
    #   Reads `length` consecutive `int64` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -9223372036854775808..9223372036854775807
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_int64(length)
    #   Reads `length` consecutive `int64` values from offset 0, as `get_array_of_int64(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -9223372036854775808..9223372036854775807
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_int64(offset, value)
    #   Writes `value` as an `int64` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] -9223372036854775808..9223372036854775807
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int64`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_int64(value)
    #   Writes `value` as an `int64` at offset 0, as `put_int64(0, value)`.
    #   @param value [Integer] -9223372036854775808..9223372036854775807
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `int64`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_int64(offset, values)
    #   Writes `values` as consecutive `int64` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each -9223372036854775808..9223372036854775807
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int64`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_int64(values)
    #   Writes `values` as consecutive `int64` values from offset 0, as `put_array_of_int64(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each -9223372036854775808..9223372036854775807
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `int64`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: uint64 (8 bytes, an unsigned 64-bit integer)

    # @!method get_uint64(offset)
    #   Reads an `uint64` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0..18446744073709551615
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_uint64
    #   Reads an `uint64` at offset 0, as `get_uint64(0)`.
    #   @return [Integer] 0..18446744073709551615
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_uint64(offset, length)
    #   Reads `length` consecutive `uint64` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..18446744073709551615
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_uint64(length)
    #   Reads `length` consecutive `uint64` values from offset 0, as `get_array_of_uint64(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..18446744073709551615
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_uint64(offset, value)
    #   Writes `value` as an `uint64` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0..18446744073709551615
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint64`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_uint64(value)
    #   Writes `value` as an `uint64` at offset 0, as `put_uint64(0, value)`.
    #   @param value [Integer] 0..18446744073709551615
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `uint64`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_uint64(offset, values)
    #   Writes `values` as consecutive `uint64` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0..18446744073709551615
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint64`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_uint64(values)
    #   Writes `values` as consecutive `uint64` values from offset 0, as `put_array_of_uint64(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0..18446744073709551615
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `uint64`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: long_long (8 bytes, a C long long)

    # @!method get_long_long(offset)
    #   Reads a `long_long` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] -9223372036854775808..9223372036854775807
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_long_long
    #   Reads a `long_long` at offset 0, as `get_long_long(0)`.
    #   @return [Integer] -9223372036854775808..9223372036854775807
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_long_long(offset, length)
    #   Reads `length` consecutive `long_long` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -9223372036854775808..9223372036854775807
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_long_long(length)
    #   Reads `length` consecutive `long_long` values from offset 0, as `get_array_of_long_long(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each -9223372036854775808..9223372036854775807
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_long_long(offset, value)
    #   Writes `value` as a `long_long` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] -9223372036854775808..9223372036854775807
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit a `long_long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_long_long(value)
    #   Writes `value` as a `long_long` at offset 0, as `put_long_long(0, value)`.
    #   @param value [Integer] -9223372036854775808..9223372036854775807
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit a `long_long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_long_long(offset, values)
    #   Writes `values` as consecutive `long_long` values from byte `offset`. Every element is converted
    #   before anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each -9223372036854775808..9223372036854775807
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit a `long_long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_long_long(values)
    #   Writes `values` as consecutive `long_long` values from offset 0, as `put_array_of_long_long(0,
    #   values)`. Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each -9223372036854775808..9223372036854775807
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit a `long_long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: ulong_long (8 bytes, a C unsigned long long)

    # @!method get_ulong_long(offset)
    #   Reads an `ulong_long` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Integer] 0..18446744073709551615
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_ulong_long
    #   Reads an `ulong_long` at offset 0, as `get_ulong_long(0)`.
    #   @return [Integer] 0..18446744073709551615
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_ulong_long(offset, length)
    #   Reads `length` consecutive `ulong_long` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..18446744073709551615
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_ulong_long(length)
    #   Reads `length` consecutive `ulong_long` values from offset 0, as `get_array_of_ulong_long(0,
    #   length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Integer>] each 0..18446744073709551615
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_ulong_long(offset, value)
    #   Writes `value` as an `ulong_long` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Integer] 0..18446744073709551615
    #   @return [self]
    #   @raise [TypeError] if `offset` or `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `ulong_long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_ulong_long(value)
    #   Writes `value` as an `ulong_long` at offset 0, as `put_ulong_long(0, value)`.
    #   @param value [Integer] 0..18446744073709551615
    #   @return [self]
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit an `ulong_long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_ulong_long(offset, values)
    #   Writes `values` as consecutive `ulong_long` values from byte `offset`. Every element is converted
    #   before anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Integer>] each 0..18446744073709551615
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` or an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `ulong_long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_ulong_long(values)
    #   Writes `values` as consecutive `ulong_long` values from offset 0, as `put_array_of_ulong_long(0,
    #   values)`. Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Integer>] each 0..18446744073709551615
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is not an Integer
    #   @raise [RangeError] if an element does not fit an `ulong_long`; nothing is written
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: float (4 bytes, a C float, IEEE 754 single precision)

    # @!method get_float(offset)
    #   Reads a `float` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Float]
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_float
    #   Reads a `float` at offset 0, as `get_float(0)`.
    #   @return [Float]
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_float(offset, length)
    #   Reads `length` consecutive `float` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Float>]
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_float(length)
    #   Reads `length` consecutive `float` values from offset 0, as `get_array_of_float(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Float>]
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_float(offset, value)
    #   Writes `value` as a `float` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Float, Integer] rounded to single precision
    #   @return [self]
    #   @raise [TypeError] if `offset` is not an Integer, or `value` is neither a Float nor an Integer
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_float(value)
    #   Writes `value` as a `float` at offset 0, as `put_float(0, value)`.
    #   @param value [Float, Integer] rounded to single precision
    #   @return [self]
    #   @raise [TypeError] if `value` is neither a Float nor an Integer
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_float(offset, values)
    #   Writes `values` as consecutive `float` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Float, Integer>] each rounded to single precision
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` is not an Integer, or an element is neither a Float nor an Integer
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_float(values)
    #   Writes `values` as consecutive `float` values from offset 0, as `put_array_of_float(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Float, Integer>] each rounded to single precision
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is neither a Float nor an Integer
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup

    # @!group Typed access: double (8 bytes, a C double, IEEE 754 double precision)

    # @!method get_double(offset)
    #   Reads a `double` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @return [Float]
    #   @raise [TypeError] if `offset` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_double
    #   Reads a `double` at offset 0, as `get_double(0)`.
    #   @return [Float]
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method get_array_of_double(offset, length)
    #   Reads `length` consecutive `double` values from byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param length [Integer] number of elements
    #   @return [Array<Float>]
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `offset` or `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method read_array_of_double(length)
    #   Reads `length` consecutive `double` values from offset 0, as `get_array_of_double(0, length)`.
    #   @param length [Integer] number of elements
    #   @return [Array<Float>]
    #   @raise [ArgumentError] if `length` is negative
    #   @raise [TypeError] if `length` is not an Integer
    #   @raise [IndexError] unless every byte read lies inside the memory
    #   @raise [ClosedError] after {#close}

    # @!method put_double(offset, value)
    #   Writes `value` as a `double` at byte `offset`.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param value [Float, Integer]
    #   @return [self]
    #   @raise [TypeError] if `offset` is not an Integer, or `value` is neither a Float nor an Integer
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_double(value)
    #   Writes `value` as a `double` at offset 0, as `put_double(0, value)`.
    #   @param value [Float, Integer]
    #   @return [self]
    #   @raise [TypeError] if `value` is neither a Float nor an Integer
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method put_array_of_double(offset, values)
    #   Writes `values` as consecutive `double` values from byte `offset`. Every element is converted before
    #   anything is written, so a bad element writes nothing.
    #   @param offset [Integer] byte offset from the start of the memory (any alignment)
    #   @param values [Array<Float, Integer>]
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if `offset` is not an Integer, or an element is neither a Float nor an Integer
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!method write_array_of_double(values)
    #   Writes `values` as consecutive `double` values from offset 0, as `put_array_of_double(0, values)`.
    #   Every element is converted before anything is written, so a bad element writes nothing.
    #   @param values [Array<Float, Integer>]
    #   @return [self]
    #   @raise [TypeError] if `values` is not an Array
    #   @raise [TypeError] if an element is neither a Float nor an Integer
    #   @raise [IndexError] unless every byte written lies inside the memory; nothing is written
    #   @raise [ClosedError] after {#close}

    # @!endgroup
  end
end
