# frozen_string_literal: true

# Offsets, lengths and indexes outside the region (IndexError), of the wrong
# type (TypeError) or negative lengths (ArgumentError), for every accessor
# family; none may write a byte.
module Battery
  # Offsets that lie outside any region (or, 64, just past this one).
  OUTSIDE_OFFSETS = [-1, -(2**70), (2**63) - 1, 2**64, 2**100, MEMORY_SIZE, MEMORY_SIZE + 1].freeze
  # Offsets that are not Integers.
  NON_INTEGER_OFFSETS = ["0", 0.0, nil, Object.new, :zero, 0r].freeze
  # Element or byte counts that cannot fit any region.
  HUGE_LENGTHS = [(2**63) - 1, 2**64, 2**100].freeze
  NEGATIVE_LENGTHS = [-1, -(2**70)].freeze
  NON_INTEGER_LENGTHS = ["1", 1.0, nil, Object.new].freeze

  # `memory.name(*args)` on a patterned memory, which must stay as it was.
  def self.memory_call(name, error, *args)
    bad("#{name}(#{args.map(&:inspect).join(', ')})", error,
        setup: ->(fixture) { patterned_memory(fixture) }, check: unchanged_memory) do |memory|
      memory.public_send(name, *args)
    end
  end

  # The offset-taking accessors of a type, with valid other arguments.
  def self.typed_offset_forms(type)
    { "get_#{type}" => [], "put_#{type}" => [1], "get_array_of_#{type}" => [1], "put_array_of_#{type}" => [[1]] }
  end

  table "offsets of typed accessors" do
    TYPES.flat_map do |type|
      size = TYPE_SIZES.fetch(type)
      straddling = size > 1 ? [MEMORY_SIZE - size + 1] : []
      typed_offset_forms(type).flat_map do |name, rest|
        (OUTSIDE_OFFSETS + straddling).map { |offset| memory_call(name, IndexError, offset, *rest) } +
          NON_INTEGER_OFFSETS.map { |offset| memory_call(name, TypeError, offset, *rest) }
      end
    end
  end

  table "offsets of byte, string and object accessors" do
    forms = { get_bytes: [1], put_bytes: ["x"], get_string: [], put_string: ["x"], put_object: [1], get_object: [] }
    past_end = [-1, -(2**70), (2**63) - 1, 2**64, 2**100, MEMORY_SIZE + 1]
    forms.flat_map do |name, rest|
      past_end.map { |offset| memory_call(name, IndexError, offset, *rest) } +
        NON_INTEGER_OFFSETS.map { |offset| memory_call(name, TypeError, offset, *rest) }
    end + [
      memory_call(:get_bytes, IndexError, MEMORY_SIZE, 1),
      memory_call(:get_bytes, IndexError, MEMORY_SIZE - 1, 2),
      memory_call(:put_bytes, IndexError, MEMORY_SIZE, "x"),
      memory_call(:put_bytes, IndexError, MEMORY_SIZE - 2, "xyz"),
      memory_call(:put_string, IndexError, MEMORY_SIZE, ""),
      memory_call(:put_string, IndexError, MEMORY_SIZE - 1, "x"),
      memory_call(:put_string, IndexError, 0, "x" * MEMORY_SIZE),
      memory_call(:write_bytes, IndexError, "x" * (MEMORY_SIZE + 1)),
      memory_call(:put_object, IndexError, MEMORY_SIZE, 1),
      memory_call(:put_object, IndexError, MEMORY_SIZE - 16, 1),
      memory_call(:put_object, IndexError, 0, "x" * MEMORY_SIZE),
      memory_call(:write_object, IndexError, "x" * MEMORY_SIZE),
      # Not even a record header fits there: no object, a TypeError.
      memory_call(:get_object, TypeError, MEMORY_SIZE),
      memory_call(:get_object, TypeError, MEMORY_SIZE - 15)
    ]
  end

  table "lengths" do
    length_forms = TYPES.flat_map do |type|
      elements = (MEMORY_SIZE / TYPE_SIZES.fetch(type)) + 1
      [["get_array_of_#{type}", [0], elements], ["read_array_of_#{type}", [], elements]]
    end + [["get_bytes", [0], MEMORY_SIZE + 1], ["read_bytes", [], MEMORY_SIZE + 1]]
    length_forms.flat_map do |name, before, one_too_many|
      (HUGE_LENGTHS + [one_too_many]).map { |length| memory_call(name, IndexError, *before, length) } +
        NEGATIVE_LENGTHS.map { |length| memory_call(name, ArgumentError, *before, length) } +
        NON_INTEGER_LENGTHS.map { |length| memory_call(name, TypeError, *before, length) }
    end
  end

  table "arrays that do not fit" do
    TYPES.flat_map do |type|
      size = TYPE_SIZES.fetch(type)
      too_many = Array.new((MEMORY_SIZE / size) + 1, 1)
      [
        memory_call("put_array_of_#{type}", IndexError, MEMORY_SIZE - size, [1, 1]),
        memory_call("put_array_of_#{type}", IndexError, 0, too_many),
        memory_call("write_array_of_#{type}", IndexError, too_many),
        memory_call("get_array_of_#{type}", IndexError, MEMORY_SIZE - size, 2)
      ]
    end
  end

  table "put_bytes index and length" do
    string = "abc"
    {
      [-1] => IndexError, [-(2**70)] => IndexError, [4] => IndexError, [2**64] => IndexError,
      [0, 4] => IndexError, [2, 2] => IndexError, [0, 2**64] => IndexError, [0, (2**63) - 1] => IndexError,
      [0, -1] => ArgumentError, [0, -(2**70)] => ArgumentError,
      ["0"] => TypeError, [nil] => TypeError, [0.0] => TypeError, [0, "1"] => TypeError, [0, 1.0] => TypeError
    }.flat_map do |slice, error|
      [memory_call(:put_bytes, error, 0, string, *slice), memory_call(:write_bytes, error, string, *slice)]
    end + [nil, 1, :abc, Object.new, ["abc"]].flat_map do |not_string|
      [memory_call(:put_bytes, TypeError, 0, not_string), memory_call(:write_bytes, TypeError, not_string),
       memory_call(:put_string, TypeError, 0, not_string)]
    end
  end

  table "SharedArray indexes" do
    length = 4
    indexes = {
      length => IndexError, -(length + 1) => IndexError, (2**63) - 1 => IndexError, 2**64 => IndexError,
      2**100 => IndexError, -(2**70) => IndexError, -(2**63) => IndexError,
      "0" => TypeError, 0.0 => TypeError, nil => TypeError, Object.new => TypeError, (0..1) => TypeError
    }
    %i[uchar int uint64 double].flat_map do |type|
      setup = ->(fixture) { fixture.own(ProcessShared::SharedArray.new(type, length)).tap { |a| a[0] = 7 } }
      unchanged = ->(array) { array.to_a == [7, 0, 0, 0] }
      indexes.flat_map do |index, error|
        [
          bad("SharedArray(#{type})[#{index.inspect}]", error, setup:, check: unchanged) { |array| array[index] },
          bad("SharedArray(#{type})[#{index.inspect}] = 1", error, setup:, check: unchanged) do |array|
            array[index] = 1
          end
        ]
      end
    end
  end
end
