# frozen_string_literal: true

require "process_shared/shared_memory"

module ProcessShared
  # A typed, fixed-length array in memory shared across fork: a
  # {SharedMemory} and an Enumerable.
  #
  # Elements are read and written one at a time, with no lock: guard
  # read-modify-write sequences with a {Mutex}. Enumerable methods read
  # each element when they reach it and return ordinary Arrays; nothing but
  # {#[]=} (and the {SharedMemory} writers) changes the shared memory. No
  # method blocks.
  #
  # Unlike {SharedMemory#size}, {#size} and {#length} count elements; the
  # size in bytes is `length * type_size`.
  #
  # @example
  #   counts = ProcessShared::SharedArray.new(:int, 4)
  #   counts[0] = 7
  #   Process.wait(fork { counts[-1] = 9 }) # negative indexes count from the end
  #   counts.to_a              # => [7, 0, 0, 9]
  #   counts.map { |n| n * 2 } # => [14, 0, 0, 18], an ordinary Array
  class SharedArray < SharedMemory
    include Enumerable

    # A new zero-filled array, shared with the processes forked after this.
    #
    # @overload initialize(type, count = 1)
    #   `count` elements of `type`.
    #   @param type [Symbol] an element type, as for {SharedMemory}: `:char`
    #     to `:ulong_long`, `:float`, `:double`
    #   @param count [Integer] number of elements
    # @overload initialize(count = 1)
    #   `count` bytes (`:uchar` elements, 0..255), as in the original gem.
    #   @param count [Integer] number of elements
    # @raise [ArgumentError] for an unknown type, a count that is not
    #   positive, or a second count after a count
    # @raise [TypeError] if `type_or_count` is neither a Symbol nor an
    #   Integer, or a count is not an Integer
    # @param naming [Hash] `name:`, `path:`, `create:`, `mode:` for a named
    #   array (see {Named})
    # @raise [Errno::ENOMEM] if the system cannot map that much memory
    def initialize(type_or_count = 1, count = 1, **naming)
      if type_or_count.is_a?(Integer)
        raise ArgumentError, "a count alone takes no second count; use new(:type, count)" unless count == 1

        super(:uchar, type_or_count, **naming)
      else
        super # a type, or something the native code refuses with TypeError
      end
    end

    # Yields each element, in order, reading it when it is reached.
    #
    # @yieldparam value [Integer, Float]
    # @return [self, Enumerator] self; an Enumerator (with a size) without a
    #   block
    # @raise [ClosedError] after {#close}
    def each(&block)
      return enum_for(:each) { length } unless block

      each_element(&block)
    end

    # The number of elements; with an argument or a block, as
    # `Enumerable#count`: the number of elements equal to `item`, or for
    # which the block returns a true value.
    #
    # @overload count
    #   @return [Integer] the number of elements
    # @overload count(item)
    #   @param item [Object]
    #   @return [Integer] the number of elements `== item`
    # @overload count
    #   @yieldparam value [Integer, Float]
    #   @yieldreturn [Boolean]
    #   @return [Integer] the number of elements for which the block is true
    # @raise [ClosedError] after {#close}
    def count(*args, &block)
      return length if args.empty? && !block

      super
    end

    # @!method [](index)
    #   The element at `index`; a negative index counts from the end, as
    #   with Array (but an index out of range raises, as `Array#fetch`).
    #   @param index [Integer]
    #   @return [Integer, Float]
    #   @raise [IndexError] unless `-length <= index < length`
    #   @raise [TypeError] if `index` is not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method []=(index, value)
    #   Stores `value` at `index`; a negative index counts from the end.
    #   @param index [Integer]
    #   @param value [Integer, Float] an Integer that fits the element type,
    #     or for `:float` and `:double` arrays a Float or an Integer
    #   @return [Integer, Float] `value`
    #   @raise [IndexError] unless `-length <= index < length`
    #   @raise [RangeError] if the Integer does not fit the element type
    #   @raise [TypeError] if `value` is not a number of the element type,
    #     or `index` not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method to_a
    #   The elements, read now, in a new Array.
    #   @return [Array<Integer, Float>]
    #   @raise [ClosedError] after {#close}

    # @!method size
    #   The number of elements (not bytes, unlike {SharedMemory#size}).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method length
    #   The number of elements, as {#size}.
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}
  end
end
