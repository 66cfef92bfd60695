# frozen_string_literal: true

# Values of the wrong type (TypeError) or out of the element type's range
# (RangeError) for every element type and every way of writing one; none may
# write a byte, also when only the last element of an Array is wrong.
module Battery
  # Integers outside the range of `type`.
  def self.out_of_range(type)
    range = integer_range(type)
    [range.max + 1, range.min - 1, 2**64, 2**100, -(2**70), -(2**64)].uniq.reject { |value| range.cover?(value) }
  end

  # Values that are not numbers of `type`.
  def self.wrong_types(type)
    wrong = NOT_NUMBERS.values + [Complex(1, 0), 1r]
    FLOAT_TYPES.include?(type) ? wrong : wrong + [1.5, 1.0, Float::NAN, Float::INFINITY]
  end

  # Every way of writing `value` as a `type`, on a patterned memory or a
  # SharedArray whose elements are all 7.
  def self.writes(type, value, error)
    shown = value.inspect[0, 30]
    [
      memory_call("put_#{type}", error, 0, value),
      memory_call("write_#{type}", error, value),
      memory_call("put_array_of_#{type}", error, 0, [1, value]),
      memory_call("write_array_of_#{type}", error, [1, 1, value]),
      array_write(type, "[0] = #{shown}", error) { |array| array[0] = value },
      array_write(type, "[-1] = #{shown}", error) { |array| array[-1] = value },
      # The atomic operations (TypeError for any value on float arrays).
      array_write(type, ".get_and_set(0, #{shown})", error) { |array| array.get_and_set(0, value) },
      array_write(type, ".swap(-1, #{shown})", error) { |array| array.swap(-1, value) },
      array_write(type, ".compare_and_set(0, 7, #{shown})", error) { |array| array.compare_and_set(0, 7, value) },
      array_write(type, ".max!(0, #{shown})", error) { |array| array.max!(0, value) },
      array_write(type, ".min!(0, #{shown})", error) { |array| array.min!(0, value) },
      array_write(type, ".update(0) { #{shown} }", error) { |array| array.update(0) { value } }
    ]
  end

  def self.array_write(type, what, error, &)
    setup = ->(fixture) { fixture.own(ProcessShared::SharedArray.new(type, 3)).tap { |a| 3.times { |i| a[i] = 7 } } }
    bad("SharedArray(#{type})#{what}", error, setup:, check: ->(array) { array.to_a == [7, 7, 7] }, &)
  end

  table "values" do
    TYPES.flat_map do |type|
      ranged = if INTEGER_TYPES.include?(type)
                 out_of_range(type).flat_map do |value|
                   writes(type, value, RangeError)
                 end
               else
                 []
               end
      ranged + wrong_types(type).flat_map { |value| writes(type, value, TypeError) }
    end
  end

  table "arrays of values" do
    TYPES.flat_map do |type|
      [nil, "1", 1, { 0 => 1 }, Object.new, 1..2].flat_map do |not_array|
        [memory_call("put_array_of_#{type}", TypeError, 0, not_array),
         memory_call("write_array_of_#{type}", TypeError, not_array)]
      end
    end
  end
end
