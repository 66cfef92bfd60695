# frozen_string_literal: true

RSpec.describe ProcessShared::SharedArray, "atomic operations" do
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

  integer_limits.each do |type, (min, max)|
    describe ":#{type} elements" do
      it "increment, decrement, compare_and_set, get_and_set, update, max! and min!" do
        array = described_class.new(type, 3)
        array[1] = min + 5
        expect(array.increment(1)).to eq(min + 6)
        expect(array.increment(1, 4)).to eq(min + 10)
        expect(array.decrement(1)).to eq(min + 9)
        expect(array.decrement(1, 3)).to eq(min + 6)
        expect(array.increment(1, -1)).to eq(min + 5)
        expect(array.compare_and_set(1, min, min + 1)).to be(false)
        expect(array.compare_and_set(1, min + 5, max)).to be(true)
        expect(array.get_and_set(1, min)).to eq(max)
        expect(array.swap(1, min + 2)).to eq(min)
        expect(array.update(1) { |v| v + 1 }).to eq(min + 3)
        expect(array.max!(1, min)).to eq(min + 3)
        expect(array.max!(1, max)).to eq(max)
        expect(array.min!(1, max)).to eq(max)
        expect(array.min!(1, min)).to eq(min)
        expect([array[0], array[2]]).to eq([0, 0]) # neighbours untouched
      end

      it "raises RangeError past #{min}..#{max} and changes nothing" do
        array = described_class.new(type, 2)
        array[0] = max
        array[1] = min
        expect { array.increment(0) }.to raise_error(RangeError, /out of range/)
        expect { array.decrement(0, -1) }.to raise_error(RangeError)
        expect { array.decrement(1) }.to raise_error(RangeError)
        expect { array.increment(1, -1) }.to raise_error(RangeError)
        expect { array.update(0) { |v| v + 1 } }.to raise_error(RangeError)
        expect { array.get_and_set(0, max + 1) }.to raise_error(RangeError)
        expect { array.compare_and_set(0, max, max + 1) }.to raise_error(RangeError)
        expect { array.max!(0, max + 1) }.to raise_error(RangeError)
        expect { array.min!(1, min - 1) }.to raise_error(RangeError)
        expect(array.to_a).to eq([max, min])
        expect(array.compare_and_set(0, max + 1, 0)).to be(false) # never equal
        expect(array.increment(1, max - min)).to eq(max) # the whole range at once
      end
    end
  end

  it "counts negative indexes from the end and refuses those out of range" do
    array = described_class.new(:int32, 4)
    expect(array.increment(-1, 7)).to eq(7)
    expect(array.max!(-4, 3)).to eq(3)
    expect(array.to_a).to eq([3, 0, 0, 7])
    [4, -5, 2**64].each do |index|
      expect { array.increment(index) }.to raise_error(IndexError)
      expect { array.compare_and_set(index, 0, 1) }.to raise_error(IndexError)
      expect { array.update(index) { 1 } }.to raise_error(IndexError)
    end
    expect { array.increment(1.0) }.to raise_error(TypeError)
    expect { array.increment(0, 1.0) }.to raise_error(TypeError)
    expect { array.swap(0, "1") }.to raise_error(TypeError)
    expect { array.update(0) { 1.5 } }.to raise_error(TypeError)
    expect { array.update(0) }.to raise_error(LocalJumpError)
    expect(array.to_a).to eq([3, 0, 0, 7])
  end

  %i[float double].each do |type|
    it "raises TypeError on :#{type} arrays, changing nothing" do
      array = described_class.new(type, 2)
      array[0] = 1.5
      expect { array.increment(0) }.to raise_error(TypeError, /integer element type, not :#{type}/)
      expect { array.decrement(0) }.to raise_error(TypeError)
      expect { array.compare_and_set(0, 1, 2) }.to raise_error(TypeError)
      expect { array.get_and_set(0, 1) }.to raise_error(TypeError)
      expect { array.update(0) { 2 } }.to raise_error(TypeError)
      expect { array.max!(0, 2) }.to raise_error(TypeError)
      expect { array.min!(0, 2) }.to raise_error(TypeError)
      expect(array.to_a).to eq([1.5, 0.0])
    end
  end

  it "works on the byte arrays of new(count)" do
    bytes = described_class.new(3)
    expect(bytes.increment(2, 255)).to eq(255)
    expect { bytes.increment(2) }.to raise_error(RangeError)
  end

  it "keeps every element naturally aligned, and leaves byte-offset access unaligned as before" do
    array = described_class.new(:int64, 4)
    array.put_int64(3, -1) # SharedMemory's accessors still take any byte offset
    expect(array.get_int64(3)).to eq(-1)
    array.put_bytes(0, "\0" * 32)
    expect(array.increment(3, 5)).to eq(5)
    expect(array.get_int64(24)).to eq(5)
  end

  it "raises ClosedError after close" do
    array = described_class.new(:int, 2)
    array.close
    expect { array.increment(0) }.to raise_error(ProcessShared::ClosedError)
    expect { array.compare_and_set(0, 0, 1) }.to raise_error(ProcessShared::ClosedError)
    expect { array.update(0) { 1 } }.to raise_error(ProcessShared::ClosedError)
    expect { array.max!(0, 1) }.to raise_error(ProcessShared::ClosedError)
  end

  it "finishes an update even if the block closes the array" do
    array = described_class.new(:int, 1)
    expect(array.update(0) { |v| array.close || (v + 1) }).to eq(1)
    expect(array).to be_closed
  end
end
