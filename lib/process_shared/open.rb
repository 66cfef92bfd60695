# frozen_string_literal: true

require "process_shared/native"

module ProcessShared
  # `Klass.open(*args) { |object| … }`, as `File.open`: extended by every
  # class whose objects have a `close`.
  module Open
    # Creates an object with `new(*args)`. With a block, yields it, closes it
    # when the block ends (also when it raises) and returns the block's
    # value; without a block, returns the object.
    #
    # @example
    #   ProcessShared::SharedMemory.open(:int) do |memory|
    #     Process.wait(fork { memory.write_int(42) })
    #     memory.read_int # => 42
    #   end
    #
    # @param args [Array] the arguments of `new`
    # @param options [Hash] its keyword arguments
    # @yieldparam object [Object] the new object
    # @yieldreturn [Object] the value `open` returns
    # @return [Object] the block's value, or the new object without a block
    # @raise [ArgumentError, TypeError] as `new` does
    def open(*args, **options, &block)
      object = new(*args, **options)
      return object unless block

      begin
        yield object
      ensure
        object.close
      end
    end
  end
end
