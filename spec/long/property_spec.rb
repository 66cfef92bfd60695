# frozen_string_literal: true

# Random operations on SharedMemory, SharedArray and SharedMemoryIO, each
# checked against a plain Ruby model: a binary String for the memory (which
# the stream reads and writes too), an Array for the SharedArray, a position
# for the stream. Operations that the model says must fail must raise the
# class it predicts and leave every byte as it was. The seed is fixed (and
# printed); PROCESS_SHARED_PROPERTY_SEED replays another.
#
# The model lists its checks in the order the gem makes them (an offset, then
# the value, then the bounds), so the same outcome can appear twice.
# rubocop:disable Lint/DuplicateBranch
RSpec.describe "random operations against a plain Ruby model", :long do
  seed = Integer(ENV.fetch("PROCESS_SHARED_PROPERTY_SEED", "20240617"))
  operations = 100_000
  memory_size = 96

  # Element type => [pack directive, size, range (nil for floating point)].
  types = %i[char uchar int8 uint8 short ushort int16 uint16 int uint int32 uint32
             long ulong int64 uint64 long_long ulong_long float double].to_h do |type|
    size = ProcessShared::SharedMemory.open(type, &:type_size)
    bits = size * 8
    if %i[float double].include?(type)
      [type, [type == :float ? "f" : "d", size, nil]]
    else
      unsigned = type.start_with?("u")
      directive = { 1 => "c", 2 => "s", 4 => "l", 8 => "q" }.fetch(size)
      range = unsigned ? (0..((2**bits) - 1)) : (-(2**(bits - 1))..((2**(bits - 1)) - 1))
      [type, [unsigned ? directive.upcase : directive, size, range]]
    end
  end

  it "agrees with the model for #{operations} operations (seed #{seed})" do
    RSpec.configuration.reporter.message("property seed: #{seed} (PROCESS_SHARED_PROPERTY_SEED=#{seed} replays it)")
    rng = Random.new(seed)
    memory = ProcessShared::SharedMemory.new(memory_size)
    bytes = ("\0" * memory_size).b
    io = ProcessShared::SharedMemoryIO.new(memory)
    io_pos = 0
    array_type = types.keys.sample(random: rng)
    array_length = rng.rand(1..12)
    array = ProcessShared::SharedArray.new(array_type, array_length)
    elements = Array.new(array_length, array_type.to_s.end_with?("float", "double") ? 0.0 : 0)

    same = lambda do |a, b|
      if a.is_a?(Float) && b.is_a?(Float) then a == b || (a.nan? && b.nan?)
      elsif a.is_a?(Array) && b.is_a?(Array) then a.size == b.size && a.zip(b).all? { |x, y| same.call(x, y) }
      else
        a == b && a.instance_of?(b.class)
      end
    end

    # The model's answer: [:raises, Class] or [:returns, value]; the real
    # call's outcome is compared with it.
    outcome = lambda do |call|
      [:returns, call.call]
    rescue StandardError => e
      [:raises, e.class]
    end
    history = []
    step = 0
    check = lambda do |description, expected, &call|
      history << "#{step}: #{description}"
      history.shift if history.size > 20
      actual = outcome.call(call)
      agreed = expected.first == actual.first &&
               (expected.first == :raises ? expected.last == actual.last : same.call(expected.last, actual.last))
      next if agreed

      raise "model #{expected.inspect[0, 200]}, real #{actual.inspect[0, 200]} after:\n  #{history.join("\n  ")}"
    end

    # Values and positions, mostly valid, sometimes not.
    value_for = lambda do |type, valid: true|
      range = types.fetch(type).last
      if range
        return [range.max + 1 + rng.rand(3), range.min - 1 - rng.rand(3)].sample(random: rng) unless valid

        [range.min, range.max, 0, rng.rand(range), rng.rand(-3..3).clamp(range)].sample(random: rng)
      else
        [(rng.rand * 2e6) - 1e6, Float::INFINITY, -Float::INFINITY, -0.0, 1e300, rng.rand(-1000..1000), 0.1]
          .sample(random: rng)
      end
    end
    stored = ->(type, value) { [value].pack(types.fetch(type).first).unpack1(types.fetch(type).first) }
    offset_for = lambda do |span, valid:|
      return rng.rand(0..(memory_size - span)) if valid

      [-1 - rng.rand(4), memory_size - span + 1 + rng.rand(4), (2**64) + rng.rand(3)].sample(random: rng)
    end
    random_bytes = ->(max) { Random.new(rng.rand(2**32)).bytes(rng.rand(0..max)) }
    inside = ->(offset, length) { offset >= 0 && offset + length <= memory_size }

    memory_operations = {
      put: lambda do
        type = types.keys.sample(random: rng)
        directive, size, range = types.fetch(type)
        bad_offset = rng.rand < 0.1
        bad_value = !bad_offset && range && rng.rand < 0.1
        offset = offset_for.call(size, valid: !bad_offset)
        value = value_for.call(type, valid: !bad_value)
        expected = if bad_offset then [:raises, IndexError]
                   elsif bad_value then [:raises, RangeError]
                   else
                     bytes[offset, size] = [value].pack(directive)
                     [:returns, memory]
                   end
        check.call("put_#{type}(#{offset}, #{value})", expected) { memory.public_send("put_#{type}", offset, value) }
      end,
      get: lambda do
        type = types.keys.sample(random: rng)
        directive, size, = types.fetch(type)
        offset = offset_for.call(size, valid: rng.rand >= 0.1)
        expected = if inside.call(offset,
                                  size)
                     [:returns, bytes[offset, size].unpack1(directive)]
                   else
                     [:raises, IndexError]
                   end
        check.call("get_#{type}(#{offset})", expected) { memory.public_send("get_#{type}", offset) }
      end,
      read_write: lambda do
        type = types.keys.sample(random: rng)
        directive, size, = types.fetch(type)
        value = value_for.call(type)
        bytes[0, size] = [value].pack(directive)
        check.call("write_#{type}(#{value})", [:returns, memory]) { memory.public_send("write_#{type}", value) }
        check.call("read_#{type}", [:returns, bytes[0, size].unpack1(directive)]) { memory.public_send("read_#{type}") }
      end,
      put_array: lambda do
        type = types.keys.sample(random: rng)
        directive, size, range = types.fetch(type)
        values = Array.new(rng.rand(0..(memory_size / size))) { value_for.call(type) }
        values[rng.rand(values.size)] = value_for.call(type, valid: false) if range && values.any? && rng.rand < 0.1
        offset = rng.rand < 0.2 ? rng.rand(-2..memory_size) : rng.rand(0..(memory_size - (values.size * size)))
        expected = if offset.negative? then [:raises, IndexError]
                   elsif range && values.any? { |value| !range.cover?(value) } then [:raises, RangeError]
                   elsif !inside.call(offset, values.size * size) then [:raises, IndexError]
                   else
                     bytes[offset, values.size * size] = values.pack("#{directive}*")
                     [:returns, memory]
                   end
        check.call("put_array_of_#{type}(#{offset}, #{values})", expected) do
          memory.public_send("put_array_of_#{type}", offset, values)
        end
      end,
      get_array: lambda do
        type = types.keys.sample(random: rng)
        directive, size, = types.fetch(type)
        count = rng.rand < 0.05 ? -1 - rng.rand(3) : rng.rand(0..(memory_size / size) + 1)
        offset = rng.rand(-1..memory_size)
        expected = if offset.negative? then [:raises, IndexError]
                   elsif count.negative? then [:raises, ArgumentError]
                   elsif !inside.call(offset, count * size) then [:raises, IndexError]
                   else
                     [:returns, bytes[offset, count * size].unpack("#{directive}*")]
                   end
        check.call("get_array_of_#{type}(#{offset}, #{count})", expected) do
          memory.public_send("get_array_of_#{type}", offset, count)
        end
      end,
      whole_arrays: lambda do
        type = types.keys.sample(random: rng)
        directive, size, = types.fetch(type)
        values = Array.new(rng.rand(0..(memory_size / size) + 1)) { value_for.call(type) }
        if values.size * size <= memory_size
          bytes[0, values.size * size] = values.pack("#{directive}*")
          check.call("write_array_of_#{type}(#{values})", [:returns, memory]) do
            memory.public_send("write_array_of_#{type}", values)
          end
        else
          check.call("write_array_of_#{type}(#{values})", [:raises, IndexError]) do
            memory.public_send("write_array_of_#{type}", values)
          end
        end
        count = rng.rand(0..(memory_size / size) + 1)
        expected = if count * size <= memory_size
                     [:returns,
                      bytes[0,
                            count * size].unpack("#{directive}*")]
                   else
                     [:raises, IndexError]
                   end
        check.call("read_array_of_#{type}(#{count})", expected) { memory.public_send("read_array_of_#{type}", count) }
      end,
      put_bytes: lambda do
        string = random_bytes.call(24)
        index = rng.rand < 0.3 ? rng.rand(-1..string.bytesize + 1) : nil
        length = index && rng.rand < 0.5 ? rng.rand(-1..string.bytesize + 1) : nil
        offset = rng.rand(-1..memory_size)
        start = index || 0
        slice_length = length || (string.bytesize - start)
        expected = if offset.negative? || start.negative? then [:raises, IndexError]
                   elsif length&.negative? then [:raises, ArgumentError]
                   elsif start > string.bytesize || start + slice_length > string.bytesize ||
                         !inside.call(offset, slice_length)
                     [:raises, IndexError]
                   else
                     bytes[offset, slice_length] = string.byteslice(start, slice_length)
                     [:returns, memory]
                   end
        args = [offset, string, index, length].compact
        check.call("put_bytes(#{args.map(&:inspect).join(', ')})", expected) { memory.put_bytes(*args) }
      end,
      get_bytes: lambda do
        offset = rng.rand(-1..memory_size + 1)
        length = rng.rand(-1..32)
        expected = if offset.negative? then [:raises, IndexError]
                   elsif length.negative? then [:raises, ArgumentError]
                   elsif !inside.call(offset, length) then [:raises, IndexError]
                   else
                     [:returns, bytes.byteslice(offset, length)]
                   end
        check.call("get_bytes(#{offset}, #{length})", expected) { memory.get_bytes(offset, length) }
      end,
      bytes_at_zero: lambda do
        string = random_bytes.call(memory_size + 4)
        if string.bytesize <= memory_size
          bytes[0, string.bytesize] = string
          check.call("write_bytes(#{string.inspect})", [:returns, memory]) { memory.write_bytes(string) }
        else
          check.call("write_bytes(#{string.inspect})", [:raises, IndexError]) { memory.write_bytes(string) }
        end
        length = rng.rand(0..memory_size + 2)
        expected = length <= memory_size ? [:returns, bytes.byteslice(0, length)] : [:raises, IndexError]
        check.call("read_bytes(#{length})", expected) { memory.read_bytes(length) }
      end,
      strings: lambda do
        string = random_bytes.call(16).delete("\0")
        offset = rng.rand(-1..memory_size)
        if inside.call(offset, string.bytesize + 1)
          bytes[offset, string.bytesize + 1] = "#{string}\0"
          expected = [:returns, memory]
        else
          expected = [:raises, IndexError]
        end
        check.call("put_string(#{offset}, #{string.inspect})", expected) { memory.put_string(offset, string) }
        offset = rng.rand(-1..memory_size + 1)
        expected = if offset.negative? || offset > memory_size then [:raises, IndexError]
                   else
                     [:returns, bytes.byteslice(offset..).split("\0", 2).first || "".b]
                   end
        check.call("get_string(#{offset})", expected) { memory.get_string(offset) }
      end
    }

    array_operations = {
      get: lambda do
        index = rng.rand(-array_length - 2..array_length + 1)
        expected = (-array_length...array_length).cover?(index) ? [:returns, elements[index]] : [:raises, IndexError]
        check.call("array[#{index}]", expected) { array[index] }
      end,
      set: lambda do
        index = rng.rand(-array_length - 2..array_length + 1)
        bad_value = types.fetch(array_type).last && rng.rand < 0.1
        value = value_for.call(array_type, valid: !bad_value)
        expected = if !(-array_length...array_length).cover?(index) then [:raises, IndexError]
                   elsif bad_value then [:raises, RangeError]
                   else
                     elements[index] = stored.call(array_type, value)
                     [:returns, value]
                   end
        check.call("array[#{index}] = #{value}", expected) { array[index] = value }
      end,
      whole: lambda do
        check.call("array.to_a", [:returns, elements.dup], &array.method(:to_a))
        check.call("array.each", [:returns, elements.dup]) { [].tap { |seen| array.each { |value| seen << value } } }
        check.call("array.each_with_index", [:returns, elements.each_with_index.to_a]) { array.each_with_index.to_a }
        check.call("array.size", [:returns, array_length], &array.method(:size))
      end
    }

    io_operations = {
      read: lambda do
        length = [nil, 0, rng.rand(1..24), -1].sample(random: rng)
        available = [memory_size - io_pos, 0].max
        expected = if length&.negative? then [:raises, ArgumentError]
                   elsif length.nil? then [:returns, bytes.byteslice(io_pos, available) || "".b].tap do
                                            io_pos += available
                                          end
                   elsif length.zero? then [:returns, "".b]
                   elsif available.zero? then [:returns, nil]
                   else
                     [:returns, bytes.byteslice(io_pos, [length, available].min)].tap do
                       io_pos += [length, available].min
                     end
                   end
        check.call("io.read(#{length.inspect}) at #{io_pos}", expected) { io.read(length) }
      end,
      getbyte: lambda do
        expected = io_pos < memory_size ? [:returns, bytes.getbyte(io_pos)].tap { io_pos += 1 } : [:returns, nil]
        check.call("io.getbyte", expected, &io.method(:getbyte))
      end,
      readbyte: lambda do
        expected = io_pos < memory_size ? [:returns, bytes.getbyte(io_pos)].tap { io_pos += 1 } : [:raises, EOFError]
        check.call("io.readbyte", expected, &io.method(:readbyte))
      end,
      seek: lambda do
        whence = [IO::SEEK_SET, IO::SEEK_CUR, IO::SEEK_END, :SET, :CUR, :END].sample(random: rng)
        amount = rng.rand(-memory_size - 4..memory_size + 4)
        base = { IO::SEEK_SET => 0, :SET => 0, IO::SEEK_CUR => io_pos, :CUR => io_pos }.fetch(whence, memory_size)
        target = base + amount
        expected = target.negative? ? [:raises, Errno::EINVAL] : [:returns, 0].tap { io_pos = target }
        check.call("io.seek(#{amount}, #{whence.inspect})", expected) { io.seek(amount, whence) }
      end,
      pos: lambda do
        target = rng.rand(-2..memory_size + 2)
        expected = target.negative? ? [:raises, Errno::EINVAL] : [:returns, target].tap { io_pos = target }
        check.call("io.pos = #{target}", expected) { io.pos = target }
        check.call("io.pos", [:returns, io_pos], &io.method(:pos))
        check.call("io.eof?", [:returns, io_pos >= memory_size], &io.method(:eof?))
      end,
      rewind: lambda do
        io_pos = 0
        check.call("io.rewind", [:returns, 0], &io.method(:rewind))
        check.call("io.tell", [:returns, 0], &io.method(:tell))
      end,
      write: lambda do
        string = random_bytes.call(20)
        expected = if string.empty? then [:returns, 0]
                   elsif io_pos + string.bytesize > memory_size then [:raises, IndexError]
                   else
                     bytes[io_pos, string.bytesize] = string
                     io_pos += string.bytesize
                     [:returns, string.bytesize]
                   end
        check.call("io.write(#{string.inspect}) at #{io_pos}", expected) { io.write(string) }
      end
    }

    # Weights: memory operations are the most varied, so the most frequent.
    weighted = (memory_operations.values * 3) + (array_operations.values * 2) + io_operations.values
    operations.times do |index|
      step = index
      weighted.sample(random: rng).call
      next if memory.get_bytes(0, memory_size) == bytes

      raise "memory differs from the model after:\n  #{history.join("\n  ")}"
    end
    expect(memory.get_bytes(0, memory_size)).to eq(bytes)
    expect(array.to_a).to eq(elements)
  ensure
    [memory, array].compact.each(&:close)
  end
end
# rubocop:enable Lint/DuplicateBranch
