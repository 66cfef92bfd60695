# frozen_string_literal: true

RSpec.describe ProcessShared::SharedArray do
  long_bits = [0].pack("l!").bytesize * 8
  signed = ->(bits) { [-2**(bits - 1), (2**(bits - 1)) - 1] }
  unsigned = ->(bits) { [0, (2**bits) - 1] }
  integer_limits = {
    char: signed[8], int8: signed[8], uchar: unsigned[8], uint8: unsigned[8],
    short: signed[16], int16: signed[16], ushort: unsigned[16], uint16: unsigned[16],
    int: signed[32], int32: signed[32], uint: unsigned[32], uint32: unsigned[32],
    long: signed[long_bits], ulong: unsigned[long_bits],
    int64: signed[64], long_long: signed[64], uint64: unsigned[64], ulong_long: unsigned[64]
  }

  it "is a SharedMemory and an Enumerable" do
    array = described_class.new(:int, 3)
    expect(array).to be_a(ProcessShared::SharedMemory)
    expect(array).to be_a(Enumerable)
  end

  describe ".new" do
    it "takes a type and a count" do
      array = described_class.new(:double, 4)
      expect([array.type, array.length, array.type_size]).to eq([:double, 4, 8])
      expect(array.to_a).to eq([0.0] * 4)
    end

    it "makes one element of a type alone" do
      array = described_class.new(:uint16)
      expect([array.type, array.size]).to eq([:uint16, 1])
    end

    it "makes that many bytes (uchar) of a count alone, as the original gem did" do
      array = described_class.new(6)
      expect([array.type, array.size]).to eq([:uchar, 6])
      expect(described_class.new.size).to eq(1)
    end

    it "refuses unknown types, counts that are not positive and a count after a count" do
      expect { described_class.new(:pointer, 2) }.to raise_error(ArgumentError)
      expect { described_class.new(:int, 0) }.to raise_error(ArgumentError)
      expect { described_class.new(0) }.to raise_error(ArgumentError)
      expect { described_class.new(:int, -1) }.to raise_error(ArgumentError)
      expect { described_class.new(5, 2) }.to raise_error(ArgumentError)
      expect { described_class.new(:int, "2") }.to raise_error(TypeError)
    end
  end

  integer_limits.each do |type, (min, max)|
    it "stores :#{type} values from #{min} to #{max} and refuses the rest" do
      array = described_class.new(type, 3)
      array[0] = min
      array[1] = max
      array[2] = 1
      expect(array.to_a).to eq([min, max, 1])
      expect([array[0], array[1]]).to eq([min, max])
      expect { array[2] = max + 1 }.to raise_error(RangeError)
      expect { array[2] = min - 1 }.to raise_error(RangeError)
      expect { array[2] = 1.5 }.to raise_error(TypeError)
      expect { array[2] = "1" }.to raise_error(TypeError)
      expect(array[2]).to eq(1)
    end
  end

  it "stores :double values exactly" do
    array = described_class.new(:double, 4)
    array[0] = Float::MAX
    array[1] = -0.1
    array[2] = 3
    array[3] = Float::INFINITY
    expect(array.to_a).to eq([Float::MAX, -0.1, 3.0, Float::INFINITY])
    expect(array[2]).to be_a(Float)
    array[0] = Float::NAN
    expect(array[0]).to be_nan
    expect { array[0] = "1.0" }.to raise_error(TypeError)
    expect { array[0] = nil }.to raise_error(TypeError)
  end

  it "stores :float values as C floats" do
    array = described_class.new(:float, 3)
    array[0] = 1.5
    array[1] = 0.1
    array[2] = -7
    expect(array[0]).to eq(1.5)
    expect(array[1]).to eq([0.1].pack("f").unpack1("f"))
    expect(array[2]).to eq(-7.0)
    expect { array[0] = :x }.to raise_error(TypeError)
  end

  describe "indexes" do
    it "count from the end when negative, as Array's" do
      array = described_class.new(:int, 4)
      array[-1] = 40
      array[-4] = 10
      expect(array.to_a).to eq([10, 0, 0, 40])
      expect([array[-1], array[-4], array[3]]).to eq([40, 10, 40])
    end

    it "raise IndexError outside -length...length, for reads and writes" do
      array = described_class.new(:int, 4)
      [4, -5, 100, 2**64, -2**64].each do |index|
        expect { array[index] }.to raise_error(IndexError, /outside of array bounds/)
        expect { array[index] = 1 }.to raise_error(IndexError)
      end
      expect(array.to_a).to eq([0, 0, 0, 0])
    end

    it "must be Integers" do
      array = described_class.new(:int, 4)
      expect { array["1"] }.to raise_error(TypeError)
      expect { array[nil] = 1 }.to raise_error(TypeError)
      expect { array[1..2] }.to raise_error(TypeError)
    end
  end

  describe "as an Enumerable" do
    let(:array) do
      described_class.new(:int, 5).tap { |a| [5, -2, 9, 0, 3].each_with_index { |v, i| a[i] = v } }
    end

    it "supports what users of the original gem relied on, returning plain Arrays" do
      mapped = array.map { |v| v * 2 }
      sorted = array.sort
      selected = array.select(&:positive?)
      expect(mapped).to eq([10, -4, 18, 0, 6])
      expect(sorted).to eq([-2, 0, 3, 5, 9])
      expect(selected).to eq([5, 9, 3])
      [mapped, sorted, selected, array.to_a, array.reject(&:zero?), array.sort_by(&:-@)].each do |result|
        expect(result).to be_an_instance_of(Array)
      end
      expect(array.include?(9)).to be(true)
      expect(array.include?(4)).to be(false)
      expect(array.sum).to eq(15)
      expect([array.min, array.max, array.minmax]).to eq([-2, 9, [-2, 9]])
      expect(array.inject(:+)).to eq(15)
      expect(array.inject(100) { |sum, v| sum - v }).to eq(85)
      expect(array.reduce(1) { |product, v| product * (v.zero? ? 1 : v) }).to eq(-270)
      expect(array.first).to eq(5)
      expect(array.first(2)).to eq([5, -2])
      expect(array.each_slice(2).to_a).to eq([[5, -2], [9, 0], [3]])
      expect(array.to_a).to eq([5, -2, 9, 0, 3])
    end

    it "yields each element with each and each_with_index, returning self" do
      seen = []
      expect(array.each { |v| seen << v }).to equal(array)
      expect(seen).to eq([5, -2, 9, 0, 3])
      pairs = []
      expect(array.each_with_index { |v, i| pairs << [v, i] }).to equal(array)
      expect(pairs).to eq([[5, 0], [-2, 1], [9, 2], [0, 3], [3, 4]])
    end

    it "returns sized Enumerators without a block" do
      enumerator = array.each
      expect(enumerator).to be_a(Enumerator)
      expect(enumerator.size).to eq(5)
      expect(enumerator.next).to eq(5)
      expect(array.each_with_index.to_a.last).to eq([3, 4])
      expect(array.map.with_index { |v, i| v * i }).to eq([0, -2, 18, 0, 12])
    end

    it "counts elements, or matches with an argument or a block" do
      expect([array.size, array.length, array.count]).to eq([5, 5, 5])
      expect(array.count(9)).to eq(1)
      expect(array.count(&:negative?)).to eq(1)
    end

    it "sees writes made during the iteration" do
      seen = array.map do |v|
        array[4] = 42
        v
      end
      expect(seen.last).to eq(42)
    end
  end

  it "keeps the byte accessors of SharedMemory, at byte offsets" do
    array = described_class.new(:int32, 3)
    array.put_int32(4, 77)
    expect(array[1]).to eq(77)
    array[2] = -1
    expect(array.get_uint32(8)).to eq((2**32) - 1)
    expect(array.get_bytes(0, 12).bytesize).to eq(12)
    expect { array.get_int32(12) }.to raise_error(IndexError)
  end

  it "shares its elements across fork both ways" do
    array = described_class.new(:int64, 10)
    array[0] = 1
    pid = fork_child do
      raise "child does not see the parent's write" unless array[0] == 1

      (1...10).each { |i| array[i] = i * 1000 }
    end
    expect_children_to_succeed([pid])
    expect(array.to_a).to eq([1] + (1...10).map { |i| i * 1000 })
    expect(array.sum).to eq(45_001)
  end

  it "shares a dup's elements" do
    array = described_class.new(:short, 2)
    copy = array.dup
    copy[1] = 12
    expect(array[1]).to eq(12)
    expect(copy).to be_a(described_class)
  end

  it "raises ClosedError after close, also when closed during each" do
    array = described_class.new(:int, 3)
    expect { array.each { array.close } }.to raise_error(ProcessShared::ClosedError)
    expect { array[0] }.to raise_error(ProcessShared::ClosedError)
    expect { array[0] = 1 }.to raise_error(ProcessShared::ClosedError)
    expect { array.to_a }.to raise_error(ProcessShared::ClosedError)
    expect { array.size }.to raise_error(ProcessShared::ClosedError)
  end
end
