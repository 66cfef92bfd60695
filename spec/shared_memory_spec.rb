# frozen_string_literal: true

RSpec.describe ProcessShared::SharedMemory do
  long_size = [0].pack("l!").bytesize
  long_bits = long_size * 8

  # Every type name SharedMemory documents: its size in bytes and, for
  # integers, its range.
  integer_types = {
    char: [1, -2**7, (2**7) - 1], int8: [1, -2**7, (2**7) - 1],
    uchar: [1, 0, (2**8) - 1], uint8: [1, 0, (2**8) - 1],
    short: [2, -2**15, (2**15) - 1], int16: [2, -2**15, (2**15) - 1],
    ushort: [2, 0, (2**16) - 1], uint16: [2, 0, (2**16) - 1],
    int: [4, -2**31, (2**31) - 1], int32: [4, -2**31, (2**31) - 1],
    uint: [4, 0, (2**32) - 1], uint32: [4, 0, (2**32) - 1],
    long: [long_size, -2**(long_bits - 1), (2**(long_bits - 1)) - 1],
    ulong: [long_size, 0, (2**long_bits) - 1],
    int64: [8, -2**63, (2**63) - 1], long_long: [8, -2**63, (2**63) - 1],
    uint64: [8, 0, (2**64) - 1], ulong_long: [8, 0, (2**64) - 1]
  }
  float_types = { float: 4, double: 8 }
  type_sizes = integer_types.transform_values(&:first).merge(float_types)

  # Closes what an example opened, so no example leaks mappings into another.
  def shared(*args)
    memory = described_class.new(*args)
    opened << memory
    memory
  end

  def opened
    @opened ||= []
  end

  after { opened.each(&:close) }

  def maps_lines
    File.foreach("/proc/self/maps").count
  end

  describe "sharing across fork" do
    it "shows the parent's writes to a child and the child's writes to the parent" do
      memory = shared(:int64, 2)
      memory.put_int64(0, 1234)
      pid = fork_child do
        raise "child saw #{memory.get_int64(0)}" unless memory.get_int64(0) == 1234

        memory.put_int64(8, -5678)
      end
      expect_children_to_succeed([pid])
      expect(memory.get_int64(8)).to eq(-5678)
    end

    it "carries writes made after fork, both ways, while both processes run" do
      memory = shared(:int, 2)
      turn = ProcessShared::Semaphore.new(0)
      back = ProcessShared::Semaphore.new(0)
      pid = fork_child do
        20.times do |round|
          turn.wait
          seen = memory.get_int(0)
          raise "round #{round}: child saw #{seen}" unless seen == round

          memory.put_int(4, -round)
          back.post
        end
      end
      20.times do |round|
        memory.put_int(0, round)
        turn.post
        back.wait
        expect(memory.get_int(4)).to eq(-round)
      end
      expect_children_to_succeed([pid])
    end

    it "gives a grandchild the same memory" do
      memory = shared(:uint64)
      pid = fork_child do
        grandchild = fork do
          memory.put_uint64(0, (2**64) - 1)
          exit!(0)
        end
        _, status = Process.wait2(grandchild)
        raise "grandchild failed" unless status.success?
      end
      expect_children_to_succeed([pid])
      expect(memory.get_uint64(0)).to eq((2**64) - 1)
    end

    it "carries every type written by a child" do
      memory = shared(8 * type_sizes.size)
      pid = fork_child do
        type_sizes.each_key.with_index do |type, index|
          value = integer_types.key?(type) ? integer_types[type][1] : 1.5
          memory.public_send(:"put_#{type}", index * 8, value)
        end
      end
      expect_children_to_succeed([pid])
      type_sizes.each_key.with_index do |type, index|
        expected = integer_types.key?(type) ? integer_types[type][1] : 1.5
        expect(memory.public_send(:"get_#{type}", index * 8)).to eq(expected)
      end
    end
  end

  describe "typed access" do
    integer_types.each do |type, (size, min, max)|
      context "with :#{type}" do
        it "round-trips its minimum, maximum and zero at offset 0 and at an unaligned offset" do
          memory = shared(size * 3)
          [0, 1].each do |offset|
            [min, max, 0].each do |value|
              expect(memory.public_send(:"put_#{type}", offset, value)).to equal(memory)
              expect(memory.public_send(:"get_#{type}", offset)).to eq(value)
            end
          end
          memory.public_send(:"write_#{type}", max)
          expect(memory.public_send(:"read_#{type}")).to eq(max)
        end

        it "raises RangeError one past either end and leaves the memory alone" do
          memory = shared(type, 1)
          memory.public_send(:"put_#{type}", 0, 1)
          [min - 1, max + 1, 2**64, -2**64, 2**100].each do |value|
            expect { memory.public_send(:"put_#{type}", 0, value) }.to raise_error(RangeError)
          end
          expect(memory.public_send(:"get_#{type}", 0)).to eq(1)
        end

        it "raises TypeError for a Float, a String or nil" do
          memory = shared(type, 1)
          [1.0, "1", nil].each do |value|
            expect { memory.public_send(:"put_#{type}", 0, value) }.to raise_error(TypeError)
          end
        end

        it "reads and writes arrays" do
          memory = shared(type, 4)
          values = [min, max, 0, 1]
          expect(memory.public_send(:"put_array_of_#{type}", 0, values)).to equal(memory)
          expect(memory.public_send(:"get_array_of_#{type}", 0, 4)).to eq(values)
          expect(memory.public_send(:"get_array_of_#{type}", size, 2)).to eq([max, 0])
          memory.public_send(:"write_array_of_#{type}", [max, min])
          expect(memory.public_send(:"read_array_of_#{type}", 4)).to eq([max, min, 0, 1])
        end
      end
    end

    float_types.each do |type, size|
      context "with :#{type}" do
        it "round-trips exact values, infinities and NaN, and takes Integers" do
          memory = shared(type, 2)
          [1.5, -0.25, 0.0, Float::INFINITY, -Float::INFINITY].each do |value|
            memory.public_send(:"put_#{type}", size, value)
            expect(memory.public_send(:"get_#{type}", size)).to eq(value)
          end
          memory.public_send(:"put_#{type}", 1, Float::NAN)
          expect(memory.public_send(:"get_#{type}", 1)).to be_nan
          memory.public_send(:"write_#{type}", 3)
          expect(memory.public_send(:"read_#{type}")).to eql(3.0)
        end

        it "raises TypeError for a String or nil" do
          memory = shared(type, 1)
          ["1.5", nil, Object.new].each do |value|
            expect { memory.public_send(:"put_#{type}", 0, value) }.to raise_error(TypeError)
          end
        end

        it "reads and writes arrays" do
          memory = shared(type, 3)
          memory.public_send(:"put_array_of_#{type}", 0, [1.5, 2, -3.25])
          expect(memory.public_send(:"get_array_of_#{type}", 0, 3)).to eq([1.5, 2.0, -3.25])
          expect(memory.public_send(:"read_array_of_#{type}", 1)).to eq([1.5])
        end
      end
    end

    it "stores the largest double exactly and rounds a double to the nearest float" do
      memory = shared(:double)
      memory.put_double(0, Float::MAX)
      expect(memory.get_double(0)).to eq(Float::MAX)
      float_max = 3.4028234663852886e+38 # FLT_MAX
      memory.put_float(0, float_max)
      expect(memory.get_float(0)).to eq(float_max)
      memory.put_float(0, 0.1)
      expect(memory.get_float(0)).to eq([0.1].pack("F").unpack1("F"))
    end

    it "uses native byte order, as C does" do
      memory = shared(8)
      memory.put_int(0, 0x01020304)
      expect(memory.get_bytes(0, 4)).to eq([0x01020304].pack("l"))
      memory.put_bytes(0, [1.5].pack("d"))
      expect(memory.get_double(0)).to eq(1.5)
    end
  end

  describe "array access" do
    it "handles empty arrays" do
      memory = shared(:int, 2)
      expect(memory.get_array_of_int(0, 0)).to eq([])
      expect(memory.get_array_of_int(8, 0)).to eq([])
      expect(memory.put_array_of_int(8, [])).to equal(memory)
      expect(memory.read_array_of_int(0)).to eq([])
    end

    it "writes nothing when any element is wrong or the array does not fit" do
      memory = shared(:int, 3)
      memory.put_array_of_int(0, [7, 7, 7])
      expect { memory.put_array_of_int(0, [1, 2, 2**40]) }.to raise_error(RangeError)
      expect { memory.put_array_of_int(0, [1, 2.0]) }.to raise_error(TypeError)
      expect { memory.put_array_of_int(4, [1, 2, 3]) }.to raise_error(IndexError)
      expect { memory.write_array_of_int([1, 2, 3, 4]) }.to raise_error(IndexError)
      expect(memory.read_array_of_int(3)).to eq([7, 7, 7])
    end

    it "raises TypeError for something that is not an Array" do
      memory = shared(:int, 2)
      expect { memory.put_array_of_int(0, 1) }.to raise_error(TypeError)
      expect { memory.put_array_of_int(0, 1..2) }.to raise_error(TypeError)
      expect { memory.get_array_of_int(0, "2") }.to raise_error(TypeError)
    end

    it "raises IndexError for arrays reaching past the end, however long" do
      memory = shared(:int64, 2)
      expect { memory.get_array_of_int64(0, 3) }.to raise_error(IndexError)
      expect { memory.get_array_of_int64(1, 2) }.to raise_error(IndexError)
      expect { memory.get_array_of_int64(0, 2**61) }.to raise_error(IndexError)
      expect { memory.get_array_of_int64(0, 2**64) }.to raise_error(IndexError)
      expect { memory.read_array_of_int64(2**100) }.to raise_error(IndexError)
    end

    it "raises ArgumentError for a negative count" do
      memory = shared(:int64, 2)
      expect { memory.get_array_of_int64(0, -1) }.to raise_error(ArgumentError)
    end
  end

  describe "bytes and strings" do
    it "round-trips bytes, NULs included, as binary strings" do
      memory = shared(16)
      bytes = "a\0b\xFF\x00c".b
      expect(memory.put_bytes(2, bytes)).to equal(memory)
      read = memory.get_bytes(2, bytes.bytesize)
      expect(read).to eq(bytes)
      expect(read.encoding).to eq(Encoding::BINARY)
      expect(memory.get_bytes(0, 2)).to eq("\0\0".b)
      expect(memory.get_bytes(16, 0)).to eq("".b)
    end

    it "writes the bytes of a UTF-8 string and reads them back as binary" do
      memory = shared(8)
      memory.write_bytes("héllo")
      read = memory.read_bytes(6)
      expect(read).to eq("héllo".b)
      expect(read.encoding).to eq(Encoding::BINARY)
      expect(read.force_encoding(Encoding::UTF_8)).to eq("héllo")
    end

    it "writes string[index, length] with put_bytes' index and length" do
      memory = shared(8)
      memory.put_bytes(0, "abcdefgh")
      memory.put_bytes(1, "012345", 2, 3)
      expect(memory.get_bytes(0, 8)).to eq("a234efgh")
      memory.put_bytes(0, "XYZ", 1)
      expect(memory.get_bytes(0, 8)).to eq("YZ34efgh")
      memory.put_bytes(8, "XYZ", 1, 0)
      memory.put_bytes(8, "XYZ", 3)
      memory.put_bytes(5, "XYZ", 0, nil)
      expect(memory.get_bytes(0, 8)).to eq("YZ34eXYZ")
      memory.write_bytes("pq", 1, 1)
      expect(memory.get_bytes(0, 8)).to eq("qZ34eXYZ")
    end

    it "raises IndexError when index and length go past the string, writing nothing" do
      memory = shared(8)
      expect { memory.put_bytes(0, "abc", 4) }.to raise_error(IndexError)
      expect { memory.put_bytes(0, "abc", 1, 3) }.to raise_error(IndexError)
      expect { memory.put_bytes(0, "abc", 2**64) }.to raise_error(IndexError)
      expect { memory.put_bytes(0, "abc", 0, 2**64) }.to raise_error(IndexError)
      expect(memory.get_bytes(0, 8)).to eq("\0".b * 8)
    end

    it "reads a string up to its NUL, or up to the end without one" do
      memory = shared(8)
      memory.put_bytes(0, "abcdefgh")
      expect(memory.get_string(0)).to eq("abcdefgh")
      expect(memory.get_string(5)).to eq("fgh")
      expect(memory.get_string(8)).to eq("")
      memory.put_bytes(3, "\0")
      expect(memory.get_string(0)).to eq("abc")
      expect(memory.get_string(0).encoding).to eq(Encoding::BINARY)
    end

    it "writes a string followed by a NUL, or nothing when that does not fit" do
      memory = shared(8)
      memory.put_bytes(0, "xxxxxxxx")
      expect(memory.put_string(1, "ab")).to equal(memory)
      expect(memory.get_bytes(0, 8)).to eq("xab\0xxxx".b)
      expect(memory.get_string(1)).to eq("ab")
      memory.put_string(0, "1234567")
      expect(memory.get_bytes(0, 8)).to eq("1234567\0".b)
      expect { memory.put_string(0, "12345678") }.to raise_error(IndexError)
      expect { memory.put_string(6, "ab") }.to raise_error(IndexError)
      expect(memory.get_bytes(0, 8)).to eq("1234567\0".b)
    end

    it "raises TypeError for something that is not a String" do
      memory = shared(8)
      expect { memory.put_bytes(0, 65) }.to raise_error(TypeError)
      expect { memory.put_string(0, nil) }.to raise_error(TypeError)
      expect { memory.write_bytes(:abc) }.to raise_error(TypeError)
    end
  end

  describe "bounds" do
    it "raises IndexError for negative offsets" do
      memory = shared(:int, 4)
      expect { memory.get_int(-1) }.to raise_error(IndexError)
      expect { memory.put_int(-4, 1) }.to raise_error(IndexError)
      expect { memory.get_bytes(-1, 1) }.to raise_error(IndexError)
      expect { memory.put_bytes(-2**70, "a") }.to raise_error(IndexError)
      expect { memory.get_string(-1) }.to raise_error(IndexError)
      expect { memory.get_array_of_int(-1, 0) }.to raise_error(IndexError)
    end

    it "raises IndexError for accesses that end past the region, by one byte or more" do
      memory = shared(:int, 4)
      expect(memory.get_int(12)).to eq(0)
      expect { memory.get_int(13) }.to raise_error(IndexError)
      expect { memory.put_int(16, 1) }.to raise_error(IndexError)
      expect { memory.get_int64(9) }.to raise_error(IndexError)
      expect { memory.get_bytes(0, 17) }.to raise_error(IndexError)
      expect { memory.get_bytes(17, 0) }.to raise_error(IndexError)
      expect { memory.put_bytes(15, "ab") }.to raise_error(IndexError)
      expect { memory.read_bytes(17) }.to raise_error(IndexError)
      expect { memory.get_string(17) }.to raise_error(IndexError)
      expect(memory.get_bytes(0, 16)).to eq("\0".b * 16)
    end

    it "raises IndexError for huge offsets and lengths, without overflowing" do
      memory = shared(:int, 4)
      [2**31, 2**32, (2**63) - 1, 2**63, (2**64) - 1, 2**64, 2**100].each do |huge|
        expect { memory.get_int(huge) }.to raise_error(IndexError)
        expect { memory.put_uchar(huge, 1) }.to raise_error(IndexError)
        expect { memory.get_bytes(huge, 1) }.to raise_error(IndexError)
        expect { memory.get_bytes(1, huge) }.to raise_error(IndexError)
        expect { memory.put_bytes(huge, "a") }.to raise_error(IndexError)
        expect { memory.put_string(huge, "") }.to raise_error(IndexError)
        expect { memory.get_string(huge) }.to raise_error(IndexError)
        expect { memory.get_array_of_int(huge, 1) }.to raise_error(IndexError)
        expect { memory.get_array_of_int(4, huge) }.to raise_error(IndexError)
      end
    end

    it "raises TypeError for offsets that are not Integers" do
      memory = shared(:int, 4)
      expect { memory.get_int(1.0) }.to raise_error(TypeError)
      expect { memory.put_int("0", 1) }.to raise_error(TypeError)
      expect { memory.get_bytes(nil, 1) }.to raise_error(TypeError)
    end

    it "raises ArgumentError for a negative length" do
      memory = shared(16)
      expect { memory.get_bytes(0, -1) }.to raise_error(ArgumentError)
      expect { memory.read_bytes(-1) }.to raise_error(ArgumentError)
      expect { memory.put_bytes(0, "abc", 0, -1) }.to raise_error(ArgumentError)
    end
  end

  describe ".new" do
    it "makes one zero-filled byte by default" do
      memory = shared
      expect([memory.size, memory.type, memory.type_size, memory.count]).to eq([1, :uchar, 1, 1])
      expect(memory.get_uchar(0)).to eq(0)
    end

    it "makes that many bytes from an Integer" do
      memory = shared(1000)
      expect([memory.size, memory.type, memory.type_size, memory.count]).to eq([1000, :uchar, 1, 1000])
      expect(memory.get_bytes(0, 1000)).to eq("\0".b * 1000)
    end

    type_sizes.each do |type, size|
      it "makes count elements of :#{type} (#{size} bytes each)" do
        one = shared(type)
        expect([one.size, one.type, one.type_size, one.count]).to eq([size, type, size, 1])
        three = shared(type, 3)
        expect([three.size, three.type, three.type_size, three.count]).to eq([size * 3, type, size, 3])
      end
    end

    it "raises ArgumentError for zero, negative or huge sizes and counts" do
      [[0], [-1], [-2**70], [:int, 0], [:int, -1], [2**64], [2**41], [:int64, 2**61]].each do |args|
        expect { described_class.new(*args) }.to raise_error(ArgumentError), args.inspect
      end
    end

    it "raises ArgumentError for an unknown type and for a count after a byte size" do
      expect { described_class.new(:pointer) }.to raise_error(ArgumentError, /pointer/)
      expect { described_class.new(:Int) }.to raise_error(ArgumentError)
      expect { described_class.new(8, 2) }.to raise_error(ArgumentError)
      expect { described_class.new(:int, 1, 2) }.to raise_error(ArgumentError)
    end

    it "raises TypeError for sizes and counts that are not Integers" do
      [[1.5], ["int"], [nil], [:int, 2.0], [:int, "2"], [:int, nil]].each do |args|
        expect { described_class.new(*args) }.to raise_error(TypeError), args.inspect
      end
    end

    it "works for subclasses" do
      subclass = Class.new(described_class)
      memory = subclass.new(:int, 2)
      opened << memory
      memory.put_int(4, 9)
      expect(memory).to be_a(subclass)
      expect(memory.get_int(4)).to eq(9)
    end

    it "refuses to initialize an object twice" do
      memory = shared(:int)
      expect { memory.send(:initialize, :int64) }.to raise_error(TypeError)
      expect(memory.size).to eq(4)
    end
  end

  describe ".open" do
    it "yields the memory, closes it afterwards and returns the block's value" do
      yielded = nil
      result = described_class.open(:int, 2) do |memory|
        yielded = memory
        memory.put_int(4, 3)
        memory.get_int(4) * 2
      end
      expect(result).to eq(6)
      expect(yielded).to be_closed
    end

    it "closes the memory when the block raises" do
      yielded = nil
      expect do
        described_class.open(8) do |memory|
          yielded = memory
          raise "boom"
        end
      end.to raise_error(RuntimeError, "boom")
      expect(yielded).to be_closed
    end

    it "is new without a block" do
      memory = described_class.open(:short, 2)
      opened << memory
      expect(memory).not_to be_closed
      expect(memory.size).to eq(4)
    end
  end

  describe "#close" do
    # Arguments that would be valid for each public method of an open object:
    # the first pattern that matches the method's name wins.
    def valid_arguments(name)
      [
        [/\A(get_array_of_|get_bytes\z)/, [0, 1]],
        [/\Aput_array_of_/, [0, [1]]],
        [/\A(read_array_of_|read_bytes\z)/, [1]],
        [/\Awrite_array_of_/, [[1]]],
        [/\Aput_(bytes|string)\z/, [0, "a"]],
        [/\A(read_object|to_ptr)\z/, []],
        [/\Aget_object\z/, [0]],
        [/\Aput_object\z/, [0, 1]],
        [/\Awrite_object\z/, [1]],
        [/\Awrite_bytes\z/, ["a"]],
        [/\Aget_/, [0]],
        [/\Aput_/, [0, 1]],
        [/\Awrite_/, [1]]
      ].find { |pattern, _| pattern.match?(name) }&.last || []
    end

    native_methods = described_class.public_instance_methods(false) - %i[close closed? inspect]

    it "covers every public method of an open object (a check of this spec itself)" do
      require "ffi" # for #to_ptr
      memory = shared(:double, 8)
      native_methods.each do |name|
        memory.write_object(1) if %i[get_object read_object].include?(name)
        memory.public_send(name, *valid_arguments(name))
      end
      expect(native_methods.size).to be >= (type_sizes.size * 8) + 10
    end

    it "makes every public method raise ClosedError" do
      memory = described_class.new(:double, 2)
      memory.close
      native_methods.each do |name|
        expect { memory.public_send(name, *valid_arguments(name)) }
          .to raise_error(ProcessShared::ClosedError), name.to_s
      end
      expect { memory.dup }.to raise_error(ProcessShared::ClosedError)
    end

    it "is idempotent" do
      memory = described_class.new(:int)
      expect(memory).not_to be_closed
      memory.close
      memory.close
      expect(memory).to be_closed
    end

    it "closes only this process's handle" do
      memory = shared(:int)
      pid = fork_child do
        memory.close
        raise "not closed" unless memory.closed?
      end
      expect_children_to_succeed([pid])
      memory.put_int(0, 5)
      expect(memory.get_int(0)).to eq(5)
    end

    it "makes ClosedError an IOError" do
      expect(ProcessShared::ClosedError.ancestors).to include(IOError)
    end
  end

  describe ".allocate" do
    it "gives an object whose methods raise ClosedError until it is initialized" do
      memory = described_class.allocate
      expect(memory).not_to be_closed
      expect { memory.get_int(0) }.to raise_error(ProcessShared::ClosedError)
      expect { memory.size }.to raise_error(ProcessShared::ClosedError)
      expect { memory.put_bytes(0, "a") }.to raise_error(ProcessShared::ClosedError)
      expect { memory.dup }.to raise_error(ProcessShared::ClosedError)
      memory.close
      expect(memory).to be_closed
    end
  end

  describe "#dup" do
    it "shares the same memory, also with a forked child, and closes separately" do
      memory = shared(:int, 2)
      copy = memory.dup
      opened << copy
      expect([copy.size, copy.type, copy.count]).to eq([8, :int, 2])
      copy.put_int(0, 11)
      expect(memory.get_int(0)).to eq(11)
      pid = fork_child { copy.put_int(4, 22) }
      expect_children_to_succeed([pid])
      expect(memory.get_int(4)).to eq(22)
      memory.close
      expect(copy.get_int(4)).to eq(22)
    end
  end

  describe "resources" do
    it "uses no file descriptor and leaves no /dev/shm entry per object" do
      fds_before = Dir.children("/proc/self/fd").size
      shm_before = Dir.children("/dev/shm").size
      memories = Array.new(1000) { |index| described_class.new(:int, (index % 3) + 1) }
      fds_during = Dir.children("/proc/self/fd").size
      shm_during = Dir.children("/dev/shm").size
      memories.each(&:close)
      # Slack of a few for anything else in this machine; one per object would be 1,000.
      expect(fds_during - fds_before).to be < 5
      expect(shm_during - shm_before).to be < 5
      expect(Dir.children("/dev/shm").size - shm_before).to be < 5
    end

    it "unmaps the memory on close" do
      before = maps_lines
      memories = Array.new(1000) { described_class.new(4096) }
      during = maps_lines
      memories.each(&:close)
      after = maps_lines
      expect(during - before).to be >= 900
      expect(after - before).to be < 100
    end

    # Creates objects and drops them unclosed; the mapping count while they lived.
    def map_and_drop(count)
      memories = Array.new(count) { described_class.new(:int) }
      lines = maps_lines
      memories.clear
      lines
    end

    it "unmaps the memory of unclosed objects that are garbage collected" do
      GC.start
      before = maps_lines
      during = map_and_drop(2000)
      3.times { GC.start(full_mark: true, immediate_sweep: true) }
      after = maps_lines
      expect(during - before).to be >= 1900
      expect(after - before).to be < 200
    end
  end
end
