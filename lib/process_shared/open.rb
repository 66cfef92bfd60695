# frozen_string_literal: true

require "process_shared/native"

module ProcessShared
  # `Klass.open(*args) { |obj| ... }`: like `File.open`, closes the object
  # when the block ends and returns the block's value; without a block it is
  # `new`.
  module Open
    def open(*args, &block)
      object = new(*args)
      return object unless block

      begin
        yield object
      ensure
        object.close
      end
    end
  end
end
