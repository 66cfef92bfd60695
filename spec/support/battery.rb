# frozen_string_literal: true

require "process_shared"

# A battery of wrong calls, each with the exception it must raise, built from
# tables (spec/support/battery/*.rb) and run by a plain runner that needs no
# RSpec: spec/bad_input_spec.rb runs every call as an example, and runs the
# whole battery again in a forked child, so that a crash (a signal) fails the
# spec instead of taking the run down with it.
module Battery
  # One wrong call. `setup` builds fresh objects in a Fixture and returns the
  # subject; `call` makes the wrong call on it and must raise `error` (or a
  # subclass); `check`, when given, must then be true of the subject: the
  # wrong call left it as it was.
  Case = Struct.new(:name, :error, :setup, :call, :check, keyword_init: true)

  # The objects a case made, and how to let go of them.
  class Fixture
    def initialize
      @cleanups = []
    end

    # Registers `object` to be closed after the case; returns it.
    def own(object)
      @cleanups << -> { object.close }
      object
    end

    def defer(&cleanup)
      @cleanups << cleanup
    end

    def cleanup
      @cleanups.reverse_each do |cleanup|
        cleanup.call
      rescue StandardError
        nil
      end
      @cleanups.clear
    end
  end

  @tables = []

  class << self
    # Declares a table: the block returns an Array of Cases (see {bad}).
    def table(title, &builder)
      @tables << [title, builder]
    end

    # Every case of every table, named "table: case".
    def cases
      @cases ||= @tables.flat_map do |title, builder|
        builder.call.flatten.each { |kase| kase.name = "#{title}: #{kase.name}" }
      end
    end

    # A case: `bad("get_int(-1)", IndexError, setup: ->(f) { f.own(mem) }) { |mem| mem.get_int(-1) }`.
    def bad(name, error, setup: ->(_fixture) {}, check: nil, &call)
      Case.new(name:, error:, setup:, call:, check:)
    end

    # Runs one case; nil when it behaved, else what went wrong.
    def failure(kase)
      fixture = Fixture.new
      subject = kase.setup.call(fixture)
      outcome = attempt(kase, subject)
      return outcome if outcome
      return "#{kase.name}: left its subject changed" if kase.check && !kase.check.call(subject)

      nil
    rescue Exception => e # rubocop:disable Lint/RescueException
      "#{kase.name}: setup or check raised #{e.class}: #{e.message}"
    ensure
      fixture&.cleanup
    end

    # Runs every case; the failures, one line each.
    def run(cases = self.cases)
      cases.filter_map { |kase| failure(kase) }
    end

    # Calls `object.name(*args)` with a block, and forces a lazy result (an
    # Enumerator) to do its work. The block is true, except for wait_until,
    # which would not wait then.
    def invoke(object, name, args)
      result = object.public_send(name, *args) { |*| name != :wait_until }
      result = result.to_a if result.is_a?(Enumerator)
      result
    end

    private

    def attempt(kase, subject)
      returned = kase.call.call(subject)
      "#{kase.name}: expected #{kase.error}, returned #{returned.inspect[0, 80]}"
    rescue kase.error
      nil
    rescue Exception => e # rubocop:disable Lint/RescueException
      "#{kase.name}: expected #{kase.error}, got #{e.class}: #{e.message[0, 160]}"
    end
  end
end

# What the tables share: element types, fixtures, and values of every kind.
module Battery
  # Every element type SharedMemory documents.
  TYPES = %i[char uchar int8 uint8 short ushort int16 uint16 int uint int32 uint32
             long ulong int64 uint64 long_long ulong_long float double].freeze
  FLOAT_TYPES = %i[float double].freeze
  INTEGER_TYPES = (TYPES - FLOAT_TYPES).freeze

  # Bytes per element, as the gem reports them.
  TYPE_SIZES = TYPES.to_h { |type| [type, ProcessShared::SharedMemory.open(type, &:type_size)] }.freeze

  # The bytes every memory fixture starts with, so that a write that should
  # have written nothing is seen.
  MEMORY_SIZE = 64
  PATTERN = Array.new(MEMORY_SIZE) { |i| ((i * 37) + 11) % 256 }.pack("C*").freeze

  # Values of no numeric type at all.
  NOT_NUMBERS = { "a String" => "1", "nil" => nil, "an Object" => Object.new, "a Symbol" => :one,
                  "true" => true, "an Array" => [1] }.freeze

  class << self
    # The range of an integer element type.
    def integer_range(type)
      bits = TYPE_SIZES.fetch(type) * 8
      type.start_with?("u") ? (0..((2**bits) - 1)) : (-(2**(bits - 1))..((2**(bits - 1)) - 1))
    end

    # A MEMORY_SIZE-byte memory holding PATTERN.
    def patterned_memory(fixture)
      fixture.own(ProcessShared::SharedMemory.new(MEMORY_SIZE)).put_bytes(0, PATTERN)
    end

    def unchanged_memory
      ->(memory) { memory.get_bytes(0, MEMORY_SIZE) == PATTERN }
    end
  end
end

Dir[File.join(__dir__, "battery", "*.rb")].each { |table| require table }
