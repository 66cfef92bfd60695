# frozen_string_literal: true

require "process_shared/shared_memory"

module ProcessShared
  # A typed, fixed-length array in memory shared across fork: a
  # {SharedMemory} and an Enumerable.
  #
  # Elements are read and written one at a time, with no lock. The
  # elements of an integer array also have atomic read-modify-write
  # operations ({#increment}, {#decrement}, {#compare_and_set},
  # {#get_and_set}, {#update}, {#max!}, {#min!}), lock-free and free of
  # system calls as {AtomicInteger}'s are; guard longer read-modify-write
  # sequences with a {Mutex}. Enumerable methods read each element when
  # they reach it and return ordinary Arrays; nothing but {#[]=}, the
  # atomic operations (and the {SharedMemory} writers) changes the shared
  # memory. No method blocks.
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
    # @raise [Errno::ENOMEM] if the system cannot map that much memory
    def initialize(type_or_count = 1, count = 1)
      if type_or_count.is_a?(Integer)
        raise ArgumentError, "a count alone takes no second count; use new(:type, count)" unless count == 1

        super(:uchar, type_or_count)
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

    # @!group Atomic operations (integer element types)
    #
    # Each operation below reads and writes one element in a single atomic
    # step, sequentially consistent and lock-free (one atomic instruction or
    # a compare-and-swap loop; never a system call or a lock), as
    # {AtomicInteger}'s do. Every element is naturally aligned (the memory
    # starts on a page boundary), as atomic instructions need. A result or a
    # value outside the element type's range (`:uint8` 255 + 1, `:int64`
    # 2**63) raises RangeError and changes nothing: there is no wrapping.
    # On `:float` and `:double` arrays they raise TypeError. Negative
    # indexes count from the end, as with {#[]}.

    # @!method increment(index, delta = 1)
    #   Adds `delta` (which may be negative) to the element at `index`.
    #   @param index [Integer]
    #   @param delta [Integer]
    #   @return [Integer] the element's new value
    #   @raise [IndexError] unless `-length <= index < length`
    #   @raise [RangeError] if the result does not fit the element type
    #     (the element is left unchanged)
    #   @raise [TypeError] for a `:float` or `:double` array, or an argument
    #     that is not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method decrement(index, delta = 1)
    #   Subtracts `delta` (which may be negative) from the element at
    #   `index`.
    #   @param index [Integer]
    #   @param delta [Integer]
    #   @return [Integer] the element's new value
    #   @raise [IndexError, RangeError, TypeError, ClosedError] as {#increment}

    # @!method compare_and_set(index, expected, new)
    #   Sets the element at `index` to `new` if it is `expected`. An
    #   `expected` the element type cannot hold is never equal: false.
    #   @param index [Integer]
    #   @param expected [Integer]
    #   @param new [Integer]
    #   @return [Boolean] whether the element was `expected` (and is now `new`)
    #   @raise [IndexError] unless `-length <= index < length`
    #   @raise [RangeError] if `new` does not fit the element type
    #   @raise [TypeError] for a `:float` or `:double` array, or an argument
    #     that is not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method get_and_set(index, new)
    #   Sets the element at `index` to `new`, in one atomic step with
    #   reading the old value.
    #   @param index [Integer]
    #   @param new [Integer]
    #   @return [Integer] the element's value before
    #   @raise [IndexError] unless `-length <= index < length`
    #   @raise [RangeError] if `new` does not fit the element type
    #   @raise [TypeError] for a `:float` or `:double` array, or an argument
    #     that is not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method swap(index, new)
    #   Same as {#get_and_set}.
    #   @param index [Integer]
    #   @param new [Integer]
    #   @return [Integer] the element's value before
    #   @raise [IndexError, RangeError, TypeError, ClosedError] as {#get_and_set}

    # @!method update(index)
    #   Replaces the element at `index` with the block's value for it. If
    #   another thread or process changes the element between the read and
    #   the write, the block is called again with the fresh value, so it may
    #   run more than once; exactly one of its results is stored.
    #   @param index [Integer]
    #   @yieldparam value [Integer] the element's current value
    #   @yieldreturn [Integer] the value to store
    #   @return [Integer] the value stored
    #   @raise [IndexError] unless `-length <= index < length`
    #   @raise [RangeError] if the block's value does not fit the element
    #     type (nothing is stored)
    #   @raise [TypeError] for a `:float` or `:double` array, an index that
    #     is not an Integer, or a block value that is not one
    #   @raise [LocalJumpError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method max!(index, value)
    #   Keeps the larger of the element at `index` and `value`.
    #   @param index [Integer]
    #   @param value [Integer]
    #   @return [Integer] the element's value after
    #   @raise [IndexError] unless `-length <= index < length`
    #   @raise [RangeError] if `value` does not fit the element type
    #   @raise [TypeError] for a `:float` or `:double` array, or an argument
    #     that is not an Integer
    #   @raise [ClosedError] after {#close}

    # @!method min!(index, value)
    #   Keeps the smaller of the element at `index` and `value`.
    #   @param index [Integer]
    #   @param value [Integer]
    #   @return [Integer] the element's value after
    #   @raise [IndexError, RangeError, TypeError, ClosedError] as {#max!}

    # @!endgroup
  end
end
