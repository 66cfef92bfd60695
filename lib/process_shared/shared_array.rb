# frozen_string_literal: true

require "process_shared/shared_memory"

module ProcessShared
  # A typed, fixed-length array in memory shared across fork: a
  # {SharedMemory} and an Enumerable.
  #
  #   counts = ProcessShared::SharedArray.new(:int, 4)
  #   counts[0] = 7
  #   counts[-1] = 9          # negative indexes count from the end
  #   counts.to_a             # => [7, 0, 0, 9]
  #   counts.map { |n| n * 2 } # => [14, 0, 0, 18], an ordinary Array
  #
  # Elements are read and written one at a time, with no lock: guard
  # read-modify-write sequences with a {Mutex}. Enumerable methods read
  # each element when they reach it and return ordinary Arrays; nothing but
  # {#[]=} (and the {SharedMemory} writers) changes the shared memory.
  #
  # Unlike {SharedMemory#size}, {#size} and {#length} count elements; the
  # size in bytes is +length * type_size+.
  class SharedArray < SharedMemory
    include Enumerable

    # @overload initialize(type, count = 1)
    #   +count+ elements of +type+ (+:int+, +:double+, … as {SharedMemory}).
    # @overload initialize(count = 1)
    #   +count+ bytes (+:uchar+ elements, 0..255), as in the original gem.
    # @raise [ArgumentError] for unknown types and counts that are not
    #   positive
    # @raise [TypeError] if +type_or_count+ is neither a Symbol nor an Integer
    def initialize(type_or_count = 1, count = 1)
      if type_or_count.is_a?(Integer)
        raise ArgumentError, "a count alone takes no second count; use new(:type, count)" unless count == 1

        super(:uchar, type_or_count)
      else
        super # a type, or something the native code refuses with TypeError
      end
    end

    # Yields each element, in order.
    #
    # @yieldparam value [Integer, Float]
    # @return [self, Enumerator] self; an Enumerator without a block
    def each(&block)
      return enum_for(:each) { length } unless block

      each_element(&block)
    end

    # The number of elements; with an argument or a block, Enumerable#count.
    #
    # @return [Integer]
    def count(*args, &block)
      return length if args.empty? && !block

      super
    end

    # @!method [](index)
    #   The element at +index+; a negative index counts from the end.
    #   @param index [Integer]
    #   @return [Integer, Float]
    #   @raise [IndexError] unless -length <= index < length
    #   @raise [TypeError] if +index+ is not an Integer
    # @!method []=(index, value)
    #   Stores +value+ at +index+; a negative index counts from the end.
    #   @param index [Integer]
    #   @param value [Integer, Float]
    #   @return [Integer, Float] +value+
    #   @raise [IndexError] unless -length <= index < length
    #   @raise [RangeError] if the Integer does not fit the element type
    #   @raise [TypeError] if +value+ is not a number of the element type
    # @!method to_a
    #   @return [Array<Integer, Float>] the elements, in a new Array
    # @!method size
    #   @return [Integer] the number of elements
    # @!method length
    #   @return [Integer] the number of elements
  end
end
