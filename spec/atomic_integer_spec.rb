# frozen_string_literal: true

RSpec.describe ProcessShared::AtomicInteger do
  min = -2**63
  max = (2**63) - 1

  describe ".new" do
    it "starts at 0, or at the value given" do
      expect(described_class.new.value).to eq(0)
      expect(described_class.new(-42).value).to eq(-42)
      expect(described_class.new(max).value).to eq(max)
      expect(described_class.new(min).value).to eq(min)
    end

    it "refuses what is not a 64-bit Integer" do
      expect { described_class.new(1.0) }.to raise_error(TypeError)
      expect { described_class.new("1") }.to raise_error(TypeError)
      expect { described_class.new(nil) }.to raise_error(TypeError)
      expect { described_class.new(max + 1) }.to raise_error(RangeError)
      expect { described_class.new(min - 1) }.to raise_error(RangeError)
      expect { described_class.new(2**100) }.to raise_error(RangeError)
      expect { described_class.new(1, 2) }.to raise_error(ArgumentError)
    end
  end

  it "has Concurrent::AtomicFixnum's interface" do
    counter = described_class.new(5)
    expect(counter.increment).to eq(6)
    expect(counter.increment(10)).to eq(16)
    expect(counter.up).to eq(17)
    expect(counter.up(-7)).to eq(10)
    expect(counter.decrement).to eq(9)
    expect(counter.decrement(4)).to eq(5)
    expect(counter.down).to eq(4)
    expect(counter.down(-6)).to eq(10)
    expect(counter.compare_and_set(3, 4)).to be(false)
    expect(counter.value).to eq(10)
    expect(counter.compare_and_set(10, 11)).to be(true)
    expect(counter.get_and_set(20)).to eq(11)
    expect(counter.swap(21)).to eq(20)
    expect(counter.update { |v| v * 2 }).to eq(42)
    expect(counter.value = 7).to eq(7)
    expect(counter.value).to eq(7)
  end

  it "keeps the larger or smaller value with max! and min!" do
    peak = described_class.new(3)
    expect(peak.max!(2)).to eq(3)
    expect(peak.max!(9)).to eq(9)
    expect(peak.min!(12)).to eq(9)
    expect(peak.min!(-4)).to eq(-4)
    expect(peak.max!(max)).to eq(max)
    expect(peak.min!(min)).to eq(min)
  end

  it "never wraps: RangeError at the edges of 64 bits, the value unchanged" do
    top = described_class.new(max)
    expect { top.increment }.to raise_error(RangeError, /out of range for int64/)
    expect { top.up(2) }.to raise_error(RangeError)
    expect { top.decrement(-1) }.to raise_error(RangeError)
    expect(top.value).to eq(max)
    expect { top.update { |v| v + 1 } }.to raise_error(RangeError)
    expect(top.value).to eq(max)

    bottom = described_class.new(min)
    expect { bottom.decrement }.to raise_error(RangeError)
    expect { bottom.increment(-1) }.to raise_error(RangeError)
    expect(bottom.value).to eq(min)
    expect(bottom.increment(max)).to eq(-1)
    expect(bottom.decrement(max)).to eq(min)
  end

  it "accepts any 64-bit delta and refuses larger ones" do
    counter = described_class.new(min)
    expect(counter.increment((2**64) - 1)).to eq(max)
    expect { counter.increment(2**64) }.to raise_error(RangeError)
    expect { counter.decrement(2**64) }.to raise_error(RangeError)
    expect(counter.value).to eq(max)
  end

  it "refuses arguments that are not Integers, changing nothing" do
    counter = described_class.new(1)
    expect { counter.increment(1.0) }.to raise_error(TypeError)
    expect { counter.decrement("1") }.to raise_error(TypeError)
    expect { counter.value = 2.5 }.to raise_error(TypeError)
    expect { counter.compare_and_set(1.0, 2) }.to raise_error(TypeError)
    expect { counter.compare_and_set(1, nil) }.to raise_error(TypeError)
    expect { counter.get_and_set(Object.new) }.to raise_error(TypeError)
    expect { counter.max!(2r) }.to raise_error(TypeError)
    expect { counter.min!(nil) }.to raise_error(TypeError)
    expect { counter.value = max + 1 }.to raise_error(RangeError)
    expect { counter.compare_and_set(1, max + 1) }.to raise_error(RangeError)
    expect { counter.max!(2**64) }.to raise_error(RangeError)
    expect(counter.value).to eq(1)
  end

  it "answers false to compare_and_set with an expected value beyond 64 bits" do
    counter = described_class.new(1)
    expect(counter.compare_and_set((2**64) + 1, 5)).to be(false)
    expect(counter.value).to eq(1)
  end

  describe "#update" do
    it "stores nothing when the block raises or returns something else than a 64-bit Integer" do
      counter = described_class.new(1)
      expect { counter.update { raise IOError, "no" } }.to raise_error(IOError, "no")
      expect { counter.update { "2" } }.to raise_error(TypeError)
      expect { counter.update { 2**64 } }.to raise_error(RangeError)
      expect { counter.update { break } }.not_to raise_error
      expect(counter.value).to eq(1)
    end

    it "needs a block" do
      expect { described_class.new.update }.to raise_error(LocalJumpError)
    end

    it "calls the block again with the fresh value when another writer got in between" do
      counter = described_class.new(0)
      seen = []
      result = counter.update do |value|
        seen << value
        counter.increment(10) if seen.size == 1 # another writer, mid-update
        value + 1
      end
      expect(seen).to eq([0, 10])
      expect(result).to eq(11)
      expect(counter.value).to eq(11)
    end

    it "finishes even if the block closes the handle" do
      counter = described_class.new(1)
      expect(counter.update { |v| counter.close || (v + 1) }).to eq(2)
      expect(counter).to be_closed
    end
  end

  it "is shared across fork, dup and clone" do
    counter = described_class.new
    copy = counter.dup
    pid = fork_child { 100.times { copy.increment } }
    expect_children_to_succeed([pid])
    expect(counter.value).to eq(100)
    counter.clone.increment
    copy.close
    expect(counter.value).to eq(101)
  end

  it "raises ClosedError after close, and close is idempotent" do
    counter = described_class.new(3)
    expect(counter.close).to be_nil
    expect(counter.close).to be_nil
    expect(counter).to be_closed
    %i[value increment decrement up down update].each do |name|
      expect { counter.public_send(name) { 1 } }.to raise_error(ProcessShared::ClosedError)
    end
    expect { counter.value = 1 }.to raise_error(ProcessShared::ClosedError)
    expect { counter.compare_and_set(3, 4) }.to raise_error(ProcessShared::ClosedError)
    expect { counter.swap(4) }.to raise_error(ProcessShared::ClosedError)
    expect { counter.max!(4) }.to raise_error(ProcessShared::ClosedError)
    expect { counter.dup }.to raise_error(ProcessShared::ClosedError)
  end

  it "opens with a block and closes afterwards" do
    kept = nil
    expect(described_class.open(4) { |counter| (kept = counter).increment }).to eq(5)
    expect(kept).to be_closed
  end

  it "shows its value in inspect, never raising" do
    counter = described_class.new(42)
    expect(counter.inspect).to eq("#<ProcessShared::AtomicInteger value:42>")
    expect(counter.to_s).to eq(counter.inspect)
    counter.close
    expect(counter.inspect).to eq("#<ProcessShared::AtomicInteger closed>")
    expect(described_class.allocate.inspect).to eq("#<ProcessShared::AtomicInteger not initialized>")
  end

  it "cannot be initialized twice or marshaled" do
    counter = described_class.new(1)
    expect { counter.send(:initialize, 2) }.to raise_error(TypeError)
    expect(counter.value).to eq(1)
    expect { Marshal.dump(counter) }.to raise_error(TypeError)
  end

  it "works in subclasses" do
    subclass = Class.new(described_class) do
      def initialize
        super(10)
      end
    end
    expect(subclass.new.increment).to eq(11)
  end
end
