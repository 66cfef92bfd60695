# frozen_string_literal: true

require "zlib"

# Objects in shared memory: records corrupted, truncated or made up with
# put_bytes are refused with TypeError before Marshal sees them (or, when
# they carry a valid checksum over bytes that are not Marshal data, raise
# what Marshal.load raises); objects Marshal cannot dump raise TypeError and
# write nothing.
module Battery
  OBJECT_MEMORY_SIZE = 256
  STORED_OBJECT = { "name" => "battery", "list" => [1, 2.5, nil, :sym, "x" * 20] }.freeze

  # A memory holding STORED_OBJECT at `offset`, then changed by `corrupt`.
  def self.corrupted_record(name, offset: 0, error: TypeError, &corrupt)
    setup = lambda do |fixture|
      memory = fixture.own(ProcessShared::SharedMemory.new(OBJECT_MEMORY_SIZE))
      memory.put_object(offset, STORED_OBJECT)
      corrupt.call(memory, offset, Marshal.dump(STORED_OBJECT).bytesize)
      memory
    end
    [bad("get_object(#{offset}) of a record with #{name}", error, setup:) { |memory| memory.get_object(offset) }] +
      (offset.zero? ? [bad("read_object of a record with #{name}", error, setup:, &:read_object)] : [])
  end

  # A record with a valid header (magic, checksum, length) over `payload`.
  def self.forged_record(payload)
    length = [payload.bytesize].pack("Q<")
    "PSO\x01".b + [Zlib.crc32(length + payload)].pack("V") + length + payload
  end

  def self.put_u64(memory, offset, value)
    memory.put_bytes(offset, [value].pack("Q<"))
  end

  table "corrupted object records" do
    record_length = 16 + Marshal.dump(STORED_OBJECT).bytesize
    room = OBJECT_MEMORY_SIZE - 16
    flips = (0...record_length).flat_map do |byte|
      [0, 100].flat_map do |offset|
        corrupted_record("byte #{byte} flipped", offset:) do |memory, at|
          memory.put_uint8(at + byte, memory.get_uint8(at + byte) ^ 0xff)
        end
      end
    end
    lengths = {
      "0" => ->(_) { 0 }, "one less" => ->(stored) { stored - 1 }, "one more" => ->(stored) { stored + 1 },
      "the room left" => ->(_) { room }, "past the room left" => ->(_) { room + 1 }, "2**32" => ->(_) { 2**32 },
      "2**63" => ->(_) { 2**63 }, "2**64 - 1" => ->(_) { (2**64) - 1 }
    }.flat_map do |name, length|
      corrupted_record("length field #{name}") { |memory, at, stored| put_u64(memory, at + 8, length.call(stored)) }
    end
    flips + lengths + [
      corrupted_record("another format version") { |memory, at| memory.put_uint8(at + 3, 2) },
      corrupted_record("the magic zeroed") { |memory, at| memory.put_bytes(at, "\0\0\0\0") },
      corrupted_record("the checksum zeroed") { |memory, at| memory.put_bytes(at + 4, "\0\0\0\0") },
      corrupted_record("its payload truncated") do |memory, at, stored|
        memory.put_bytes(at + 16 + (stored / 2), "\0" * stored)
      end,
      corrupted_record("its last byte zeroed") { |memory, at, stored| memory.put_uint8(at + 15 + stored, 0) },
      corrupted_record("its header only") { |memory, at| memory.put_bytes(at + 16, "\0" * (OBJECT_MEMORY_SIZE - 16)) },
      corrupted_record("a shifted copy", offset: 1) { |memory| memory.put_bytes(0, memory.get_bytes(2, 100)) },
      corrupted_record("random bytes over it") { |memory| memory.put_bytes(0, Random.new(7).bytes(OBJECT_MEMORY_SIZE)) }
    ]
  end

  table "forged object records" do
    {
      "no Marshal data" => ["", ArgumentError],
      "only the Marshal version" => ["\x04\x08", ArgumentError],
      "another Marshal version" => ["\x03\x00i\x06", TypeError],
      "a class that does not exist" => ["\x04\x08o:\x15NoSuchBatteryClass\x00", ArgumentError],
      "an Array longer than the data" => ["\x04\x08[\x04\xff\xff\xff\x7f", ArgumentError],
      "a String longer than the data" => ["\x04\x08\"\x04\xff\xff\xff\x7f", ArgumentError],
      "a bad type byte" => ["\x04\x08\xfe", ArgumentError]
    }.flat_map do |name, (payload, error)|
      corrupted_record(name, error:) { |memory, at| memory.put_bytes(at, forged_record(payload.b)) }
    end
  end

  # name => ->(fixture) { an object Marshal cannot dump }
  def self.undumpables
    {
      "a Proc" => ->(_) { proc { :proc } },
      "a lambda" => ->(_) { -> { :lambda } },
      "a Method" => ->(_) { 1.method(:+) },
      "an IO" => ->(f) { IO.pipe.each { |io| f.own(io) }.first },
      "an object with a singleton method" => ->(_) { Object.new.tap { |o| o.define_singleton_method(:x) { 1 } } },
      "a Thread::Mutex" => ->(_) { Thread::Mutex.new },
      "an anonymous class" => ->(_) { Class.new },
      "an instance of an anonymous class" => ->(_) { Class.new.new },
      "a Hash with a default proc" => ->(_) { Hash.new { |hash, key| hash[key] = 0 } },
      "a Binding" => ->(_) { binding },
      "a Thread" => ->(_) { Thread.current },
      "a ProcessShared::Mutex" => ->(f) { f.own(ProcessShared::Mutex.new) },
      "a ProcessShared::SharedMemory" => ->(f) { f.own(ProcessShared::SharedMemory.new(8)) },
      "an Array ending with a Proc" => ->(_) { ["x" * 100, 1, proc { :proc }] },
      "a Hash holding an IO" => ->(f) { { io: IO.pipe.each { |io| f.own(io) }.first } },
      "an object whose ivar is a Proc" => ->(_) { Object.new.tap { |o| o.instance_variable_set(:@block, proc { 1 }) } }
    }
  end

  table "objects Marshal cannot dump" do
    forms = {
      "put_object(0, %s)" => ->(memory, value) { memory.put_object(0, value) },
      "put_object(8, %s)" => ->(memory, value) { memory.put_object(8, value) },
      "write_object(%s)" => ->(memory, value) { memory.write_object(value) }
    }
    undumpables.flat_map do |name, make|
      forms.map do |form, call|
        setup = lambda do |fixture|
          memory = fixture.own(ProcessShared::SharedMemory.new(OBJECT_MEMORY_SIZE)).put_object(0, "before")
          [memory, memory.get_bytes(0, OBJECT_MEMORY_SIZE), make.call(fixture)]
        end
        check = lambda { |(memory, before, _)|
          memory.get_bytes(0, OBJECT_MEMORY_SIZE) == before && memory.get_object(0) == "before"
        }
        bad(format(form, name), TypeError, setup:, check:) { |(memory, _, value)| call.call(memory, value) }
      end
    end
  end
end
